package dev.myllm.cli;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Path;

/**
 * The seam to the io layer's model directory (config.json with Hugging Face keys and
 * model.safetensors); until that loader is merged, {@code --model} is refused with one line.
 */
final class ModelDirectories {
    private ModelDirectories() {
    }

    static GPTConfig readConfig(Path dir) {
        throw new CliException("--model " + dir + ": loading model directories is not available yet (the io layer's loader); use --preset");
    }

    static GPTModel load(Path dir, GPTConfig config) {
        throw new CliException("--model " + dir + ": loading model directories is not available yet (the io layer's loader); use --preset");
    }
}
