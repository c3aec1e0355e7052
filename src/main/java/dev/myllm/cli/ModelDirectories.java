package dev.myllm.cli;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Path;

/** The seam to the io layer's model directory (config.json with Hugging Face keys and model.safetensors). */
final class ModelDirectories {
    private ModelDirectories() {
    }

    static GPTConfig readConfig(Path dir) {
        try {
            return ModelDirectory.readConfig(dir);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
    }

    static GPTModel load(Path dir, GPTConfig config) {
        try {
            return ModelDirectory.load(dir, config);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
    }
}
