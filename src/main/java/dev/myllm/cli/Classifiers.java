package dev.myllm.cli;

import dev.myllm.data.LabelledExample;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.io.ClassifierDirectory;
import dev.myllm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the classifier commands share: loading a classifier directory, its tokenizer, and encoding labelled texts. */
final class Classifiers {
    private Classifiers() {
    }

    /** A classifier directory, with one-line errors (a language model's directory is refused). */
    static GPTClassifier load(Path dir, float dropout) {
        if (!Files.isDirectory(dir)) throw new CliException("--model: no such directory: " + dir);
        if (!Files.isRegularFile(dir.resolve(dev.myllm.io.ModelDirectory.CONFIG))) {
            throw new CliException("--model " + dir + " has no config.json: not a classifier directory");
        }
        if (!ClassifierDirectory.isClassifier(dir)) {
            throw new CliException("--model " + dir + " is a language model, not a classifier; make one with ./myllm finetune classify");
        }
        try {
            return ClassifierStore.load(dir, dropout);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
    }

    /** A typed {@code --max-length} longer than the model's context is refused (it was cut to the context without a word). */
    static void checkMaxLength(int maxLength, int context) {
        if (maxLength > context) throw new CliException("--max-length " + maxLength + " exceeds the model's context length " + context);
    }

    /** Class ids of the examples' labels in {@code labels}; an unknown label is a one-line error naming the source. */
    static int[] classIds(List<LabelledExample> examples, List<String> labels, String source) {
        Map<String, Integer> ids = new java.util.HashMap<>();
        for (int i = 0; i < labels.size(); i++) ids.put(labels.get(i), i);
        int[] out = new int[examples.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(examples.get(i).label());
            if (id == null) throw new CliException(source + ": label '" + examples.get(i).label() + "' is not one of the model's " + labels);
            out[i] = id;
        }
        return out;
    }

    /** An evaluation dataset of {@code examples} padded or cut to {@code length}. */
    static ClassificationDataset dataset(List<LabelledExample> examples, List<String> labels, Tokenizer tok, int length, int padId,
                                         int batchSize, String source) {
        return ClassificationDataset.of(ClassificationDataset.tokenize(examples, tok), classIds(examples, labels, source), length, padId,
                batchSize, false, false, 0);
    }
}
