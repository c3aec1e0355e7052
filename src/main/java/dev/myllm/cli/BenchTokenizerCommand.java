package dev.myllm.cli;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.myllm.data.Corpus;
import dev.myllm.data.NamedDatasets;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.tokenizer.TrainedBpe;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code myllm bench tokenizer}: GPT-2 encoding speed, ours against jtokkit on the same text, and BPE training time. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Encode the same text with our GPT-2 BPE and with jtokkit (r50k_base); print MB/s of both.")
final class BenchTokenizerCommand implements Runnable {
    @Option(names = "--corpus", paramLabel = "SPEC", arity = "1..*",
            description = "Text to encode: files, folders, globs or dataset names (default: austen when cached, else the-verdict repeated to 4 MB).")
    List<String> corpus;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs per tokenizer (median reported; default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--train-merges", defaultValue = "0", paramLabel = "N",
            description = "Also time BpeTrainer learning N merges on the same text (e.g. 4000).")
    int trainMerges;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (runs < 1) throw new CliException("--runs must be at least 1");
        PrintWriter out = spec.commandLine().getOut();
        String text = String.join("\n", texts(out));
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        BpeTokenizer ours = BpeTokenizer.gpt2();
        Encoding jt = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        int[] a = ours.encode(text, Specials.TEXT);
        int[] b = jt.encodeOrdinary(text).toArray();
        if (!Arrays.equals(a, b)) throw new CliException("our ids differ from jtokkit's on this text: a bug, please report it", 1);
        out.printf("text: %.2f MB, %,d GPT-2 tokens; identical ids: yes%n", bytes / 1e6, a.length);
        out.flush();
        double[] tOurs = new double[runs], tJt = new double[runs];
        for (int w = 0; w < 2; w++) { // warm-up: let the JIT compile both
            ours.clearCache();
            ours.encode(text, Specials.TEXT);
            jt.encodeOrdinary(text);
        }
        for (int r = 0; r < runs; r++) {
            ours.clearCache(); // cold word cache each run: only repeats within the text itself are cached
            long t0 = System.nanoTime();
            ours.encode(text, Specials.TEXT);
            tOurs[r] = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            jt.encodeOrdinary(text);
            tJt[r] = (System.nanoTime() - t0) / 1e9;
        }
        double mo = bytes / 1e6 / median(tOurs), mj = bytes / 1e6 / median(tJt);
        out.printf("ours (myllm BpeTokenizer):   %7.1f MB/s%n", mo);
        out.printf("jtokkit 1.1.0 r50k_base:     %7.1f MB/s%n", mj);
        out.printf("ratio ours/jtokkit:          %7.2f (median of %d runs each, interleaved, one thread)%n", mo / mj, runs);
        out.flush();
        if (trainMerges > 0) {
            long t0 = System.nanoTime();
            TrainedBpe t = new BpeTrainer().train(List.of(text), 258 + trainMerges, List.of("<|endoftext|>"), null);
            out.printf("BpeTrainer: %d merges on %.2f MB in %.1f s%n", t.mergeCount(), bytes / 1e6, (System.nanoTime() - t0) / 1e9);
        }
    }

    private List<String> texts(PrintWriter out) {
        if (corpus != null) return Corpus.standard().texts(corpus);
        NamedDatasets ds = NamedDatasets.standard();
        if (Files.isRegularFile(ds.dir("austen").resolve("emma.txt"))) {
            out.println("corpus: austen (cached)");
            return Corpus.standard().texts(List.of("austen"));
        }
        out.println("corpus: the-verdict repeated to 4 MB (run 'myllm data get austen' for a real 4 MB corpus)");
        String v = Tokenizers.verdictText();
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < 200; i++) parts.add(v);
        return parts;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
