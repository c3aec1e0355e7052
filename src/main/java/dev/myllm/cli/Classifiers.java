package dev.myllm.cli;

import dev.myllm.data.LabelledExample;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.io.ClassifierDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the classifier commands share: loading a classifier directory, its tokenizer, and encoding labelled texts. */
final class Classifiers {
    private Classifiers() {
    }

    /** A classifier directory, with one-line errors (a language model's directory is refused). */
    static GPTClassifier load(Path dir, float dropout) {
        if (!Files.isDirectory(dir)) throw new CliException("--model: no such directory: " + dir);
        Path cfg = dir.resolve(dev.myllm.io.ModelDirectory.CONFIG);
        String odd = dev.myllm.util.IoErrors.inPlaceOfFile(cfg); // a directory or a link loop is there, not nothing
        if (odd != null) throw new CliException("--model " + cfg + ": " + odd);
        if (!Files.isRegularFile(cfg)) {
            throw new CliException("--model " + dir + " has no config.json: not a classifier directory");
        }
        if (!ClassifierDirectory.isClassifier(dir)) {
            // a config.json that does not read is no language model's either: its problem is named instead
            try {
                dev.myllm.io.ModelDirectory.readConfig(dir);
            } catch (IllegalArgumentException e) {
                throw new CliException("--model " + e.getMessage());
            }
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
        try {
            return ClassificationDataset.classIds(examples, labels, source);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }
}
