package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Single-file models that {@code --model} takes beside a model directory: GGUF files (GPT-2, with
 * their embedded tokenizer) and llm.c checkpoints, told apart by their first bytes.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /** Whether {@code path} is a file rather than a model directory. */
    public static boolean isModelFile(Path path) {
        return Files.isRegularFile(path);
    }

    /** The configuration a model file describes. */
    public static GPTConfig readConfig(Path file) {
        if (GgufFile.isGguf(file)) {
            try (GgufFile g = GgufFile.open(file)) {
                return GgufModel.config(g);
            }
        }
        if (LlmcCheckpoint.isCheckpoint(file)) return LlmcCheckpoint.config(file);
        throw unknown(file);
    }

    /** Loads a model file into a float32 model of {@code config}. */
    public static GPTModel load(Path file, GPTConfig config) {
        if (GgufFile.isGguf(file)) {
            try (GgufFile g = GgufFile.open(file)) {
                return GgufModel.load(g, config);
            }
        }
        if (LlmcCheckpoint.isCheckpoint(file)) return LlmcCheckpoint.load(file, config);
        throw unknown(file);
    }

    /** The tokenizer a model file carries (a GGUF file's), or null. */
    public static Tokenizer tokenizer(Path file) {
        return GgufFile.isGguf(file) ? GgufModel.tokenizer(file) : null;
    }

    private static IllegalArgumentException unknown(Path file) {
        return new IllegalArgumentException(file + ": not a model directory, GGUF file or llm.c checkpoint");
    }
}
