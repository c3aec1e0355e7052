package dev.myllm.cli;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The seam to model directories (config.json with Hugging Face keys and model.safetensors),
 * served by the training layer's {@link GptModelStore} until the io layer has its own loader.
 */
final class ModelDirectories {
    private ModelDirectories() {
    }

    static GPTConfig readConfig(Path dir) {
        if (!Files.isRegularFile(dir.resolve("config.json"))) throw new CliException("--model: no config.json in " + dir);
        try {
            return GptModelStore.readConfig(dir);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model: " + e.getMessage());
        }
    }

    static GPTModel load(Path dir, GPTConfig config) {
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) throw new CliException("--model: no model.safetensors in " + dir);
        GPTModel m = new GPTModel(config, 0);
        try {
            m.loadStateDict(GptModelStore.readWeights(dir, config));
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + dir + ": " + e.getMessage());
        }
        return m;
    }
}
