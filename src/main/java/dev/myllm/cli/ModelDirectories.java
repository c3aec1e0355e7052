package dev.myllm.cli;

import dev.myllm.io.ModelDirectory;
import dev.myllm.io.ModelFiles;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** The seam to the io layer's model directory (config.json with Hugging Face keys and model.safetensors). */
final class ModelDirectories {
    private ModelDirectories() {
    }

    static GPTConfig readConfig(Path dir) {
        try {
            return ModelDirectory.readConfig(dir);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            // a file that cannot be opened arrives unchecked; it names the file as the rest do, after the option
            throw new CliException("--model " + e.getMessage());
        }
    }

    static GPTModel load(Path dir, GPTConfig config) {
        try {
            return ModelDirectory.load(dir, config);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            // a file that cannot be opened arrives unchecked; it names the file as the rest do, after the option
            throw new CliException("--model " + e.getMessage());
        }
    }

    /** Checks that {@code dir} would load (its weights' header against config.json) without reading the weights. */
    static void check(Path dir) {
        try {
            ModelDirectory.check(dir);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            // a file that cannot be opened arrives unchecked; it names the file as the rest do, after the option
            throw new CliException("--model " + e.getMessage());
        }
    }

    /**
     * Checks that a model to train from exists: a model directory or a single model file (a GPT-2
     * GGUF file, whose weights load upcast to float32, or an llm.c checkpoint).
     */
    static void requireModel(Path model) {
        if (!Files.isDirectory(model) && !ModelFiles.isModelFile(model)) throw new CliException("--model " + model + ": no such file or directory");
    }
}
