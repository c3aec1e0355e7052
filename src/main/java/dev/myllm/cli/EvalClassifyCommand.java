package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.data.Batch;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.ClassificationReport;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code myllm eval classify}: accuracy, per-class precision/recall/F1 and the confusion matrix on a split. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Evaluate a classifier on labelled data (the same split as finetune classify with the same --seed).")
final class EvalClassifyCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A classifier directory.")
    Path model;
    @Mixin
    LabelledDataOptions data;
    @Option(names = "--split", defaultValue = "test", paramLabel = "train|val|test",
            description = "Which part of the 70/10/20 split to evaluate: train, val (or validation) or test (default ${DEFAULT-VALUE}), as eval instruct names them.")
    String split;
    @Option(names = "--seed", defaultValue = "123", description = "Seed of the split (default ${DEFAULT-VALUE}, as finetune classify).")
    long seed;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-length", defaultValue = "0", description = "Cut and pad to N tokens (default: the length the model was trained at).")
    int maxLength;
    @Mixin
    TokenizerOption tokenizer;
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public void run() {
        if (batchSize < 1) throw new CliException("--batch-size must be >= 1, got " + batchSize);
        if (maxLength < 0) throw new CliException("--max-length must be >= 1, got " + maxLength);
        GivenOptions.positive(spec, "--max-length", maxLength); // 0 is its default's sentinel, not a length
        GPTClassifier c = Classifiers.load(model, -1);
        c.eval();
        LabelledSplits splits = data.splits(seed);
        List<LabelledExample> rows;
        try {
            rows = splits.get(split);
        } catch (IllegalArgumentException e) {
            throw new CliException("--split: " + e.getMessage());
        }
        String name = split.equals("val") ? "validation" : split;
        if (rows.isEmpty()) throw new CliException(data.source(name) + ": no examples");
        Tokenizer tok = tokenizer.load(model);
        List<int[]> enc = ClassificationDataset.tokenize(rows, tok);
        int supported = c.config().contextLength();
        Classifiers.checkMaxLength(maxLength, supported);
        int length = Math.min(maxLength > 0 ? maxLength : c.maxLength() > 0 ? c.maxLength() : ClassificationDataset.longest(enc), supported);
        int[] truth = Classifiers.classIds(rows, c.labels(), data.source(name));
        ClassificationDataset ds = ClassificationDataset.of(enc, truth, length, c.padId(), batchSize, false, false, 0);
        int[] pred = new int[truth.length];
        int at = 0;
        for (Batch b : ds.all()) {
            int[] p = ClassificationObjective.predict(c, b.inputs(), b.rows(), b.cols());
            System.arraycopy(p, 0, pred, at, p.length);
            at += p.length;
        }
        ClassificationReport r = ClassificationReport.of(c.labels(), truth, pred);
        PrintWriter out = spec.commandLine().getOut();
        List<String> labels = c.labels();
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("model", model.toString()).put("split", name).put("examples", r.total()).put("correct", r.correct()).put("accuracy", r.accuracy());
            ObjectNode per = o.putObject("classes");
            for (int k = 0; k < labels.size(); k++) {
                per.putObject(labels.get(k)).put("precision", r.precision(k)).put("recall", r.recall(k)).put("f1", r.f1(k)).put("support", r.support(k));
            }
            ArrayNode cm = o.putArray("confusion");
            for (long[] row : r.confusion()) {
                ArrayNode a = cm.addArray();
                for (long v : row) a.add(v);
            }
            o.putPOJO("labels", labels);
            out.println(o);
        } else {
            out.printf(Locale.ROOT, "%s on the %s split: accuracy %.2f%% (%d/%d)%n", model, name, 100 * r.accuracy(), r.correct(), r.total());
            int w = Math.max(8, labels.stream().mapToInt(String::length).max().orElse(8));
            out.printf(Locale.ROOT, "%-" + w + "s  precision  recall     f1  support%n", "class");
            for (int k = 0; k < labels.size(); k++) {
                out.printf(Locale.ROOT, "%-" + w + "s  %9.4f  %6.4f  %6.4f  %7d%n", labels.get(k), r.precision(k), r.recall(k), r.f1(k), r.support(k));
            }
            out.println("confusion matrix (rows: true, columns: predicted)");
            out.printf("%-" + w + "s", "");
            for (String l : labels) out.printf("  %" + w + "s", l);
            out.println();
            for (int k = 0; k < labels.size(); k++) {
                out.printf("%-" + w + "s", labels.get(k));
                for (long v : r.confusion()[k]) out.printf("  %" + w + "d", v);
                out.println();
            }
        }
        out.flush();
    }
}
