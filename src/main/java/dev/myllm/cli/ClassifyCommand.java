package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledFiles;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.tensor.ArgMax;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code myllm classify}: the book's {@code classify_review}, for any classifier directory. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify texts with a fine-tuned classifier: prints the label and its probability.")
final class ClassifyCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final int BATCH = 8;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A classifier directory (from finetune classify).")
    Path model;
    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to classify.")
    List<String> texts = new ArrayList<>();
    @Option(names = "--file", paramLabel = "FILE", description = "Texts one per line, or a labelled .csv/.tsv/.jsonl file (then accuracy is printed too).")
    Path file;
    @Option(names = "--json", description = "One JSON object per text.")
    boolean json;
    @Option(names = "--max-length", defaultValue = "0", description = "Cut and pad to N tokens (default: the length the model was trained at).")
    int maxLength;
    @Mixin
    TokenizerOption tokenizer;

    @Override
    public void run() {
        List<LabelledExample> labelled = null;
        List<String> all = new ArrayList<>(texts);
        if (file != null) {
            if (Files.isDirectory(file)) throw new CliException("--file " + file + " is a directory; give a file of texts");
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            try {
                if (name.endsWith(".csv") || name.endsWith(".tsv") || name.endsWith(".jsonl") || name.endsWith(".json")) {
                    labelled = LabelledFiles.read(file);
                    for (LabelledExample e : labelled) all.add(e.text());
                } else {
                    String text = dev.myllm.util.TextFiles.decodeUtf8Strictly(Files.readAllBytes(file), file.toString());
                    for (String line : text.split("\\R")) if (!line.isBlank()) all.add(line);
                }
            } catch (IOException e) {
                throw new CliException("--file: cannot read " + file + ": " + dev.myllm.util.IoErrors.reason(e));
            } catch (IllegalArgumentException e) {
                throw new CliException("--file: " + e.getMessage());
            }
            // given, it is meant to hold texts: "nothing to classify: give texts or --file FILE" read as if it had not been
            if (all.size() == texts.size()) throw new CliException("--file " + file + " holds no texts");
        }
        if (all.isEmpty()) throw new CliException("nothing to classify: give texts or --file FILE");
        if (maxLength < 0) throw new CliException("--max-length must be >= 1, got " + maxLength);
        GivenOptions.positive(spec, "--max-length", maxLength); // 0 is its default's sentinel, not a length
        GPTClassifier c = Classifiers.load(model, -1);
        c.eval();
        // each text's true label, lined up with the texts: none for those given on the command line, which come first
        List<String> labelsGiven = null;
        if (labelled != null) {
            // a label the model does not know is an error, as in eval classify (it counted as wrong: accuracy 0%)
            Classifiers.classIds(labelled, c.labels(), "--file " + file);
            labelsGiven = new ArrayList<>(java.util.Collections.nCopies(texts.size(), (String) null));
            for (LabelledExample e : labelled) labelsGiven.add(e.label());
        }
        Tokenizer tok = tokenizer.load(model);
        int supported = c.config().contextLength();
        Classifiers.checkMaxLength(maxLength, supported);
        int length = Math.min(maxLength > 0 ? maxLength : c.maxLength() > 0 ? c.maxLength() : supported, supported);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper();
        int k = c.labels().size();
        long correct = 0, scored = 0;
        for (int s = 0; s < all.size(); s += BATCH) {
            int rows = Math.min(BATCH, all.size() - s);
            // the book pads every text to the training length; without one, to the longest in the batch
            int[][] enc = new int[rows][];
            int cols = 0;
            for (int r = 0; r < rows; r++) {
                int[] ids = tok.encode(all.get(s + r), Specials.TEXT);
                enc[r] = Arrays.copyOf(ids, Math.min(ids.length, length));
                cols = Math.max(cols, enc[r].length);
            }
            if (c.maxLength() > 0 || maxLength > 0) cols = length;
            cols = Math.max(cols, 1);
            int[] ids = new int[rows * cols];
            Arrays.fill(ids, c.padId());
            for (int r = 0; r < rows; r++) System.arraycopy(enc[r], 0, ids, r * cols, enc[r].length);
            float[] p = ClassificationObjective.probabilities(c, ids, rows, cols);
            for (int r = 0; r < rows; r++) {
                int best = ArgMax.of(p, r * k, k);
                String label = c.labels().get(best);
                String truth = labelsGiven == null ? null : labelsGiven.get(s + r);
                if (truth != null) {
                    scored++;
                    if (label.equals(truth)) correct++;
                }
                if (json) {
                    ObjectNode o = mapper.createObjectNode();
                    o.put("text", all.get(s + r)).put("label", label).put("probability", p[r * k + best]);
                    ObjectNode probs = o.putObject("probabilities");
                    for (int j = 0; j < k; j++) probs.put(c.labels().get(j), p[r * k + j]);
                    if (truth != null) o.put("true_label", truth);
                    out.println(o);
                } else {
                    out.printf(Locale.ROOT, "%s\t%.4f\t%s%n", label, p[r * k + best], oneLine(all.get(s + r)));
                }
            }
        }
        if (scored > 0 && !json) out.printf(Locale.ROOT, "accuracy %.2f%% (%d/%d)%n", 100.0 * correct / scored, correct, scored);
        out.flush();
    }

    private static String oneLine(String s) {
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() > 100 ? t.substring(0, 100) + "…" : t;
    }
}
