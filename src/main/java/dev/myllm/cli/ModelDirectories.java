package dev.myllm.cli;

import dev.myllm.io.GgufFile;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.ModelFiles;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TokenizerJson;
import dev.myllm.train.GptModelStore;
import dev.myllm.util.AtomicFiles;
import java.nio.file.Files;
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

    /**
     * Checks that a model to train from exists: a model directory or a single model file (a GPT-2
     * GGUF file, whose weights load upcast to float32, or an llm.c checkpoint).
     */
    static void requireModel(Path model) {
        if (!Files.isDirectory(model) && !ModelFiles.isModelFile(model)) throw new CliException("--model " + model + ": no such file or directory");
    }

    /**
     * The tokenizer file to keep beside every model a run saves, or null for GPT-2's: the option's
     * file (named, or the model directory's own), or a GGUF file's embedded tokenizer written into
     * the run directory as a {@code tokenizer.json} (so the saved directories read the same ids).
     */
    static Path tokenizerFile(TokenizerOption option, Path model, Tokenizer tok, int rows, Path runDir) {
        Path file = option.file(model);
        if (file != null) return file;
        Path source = option.spec != null ? Path.of(option.spec) : model;
        if (source == null || !ModelFiles.isModelFile(source) || !GgufFile.isGguf(source)) return null;
        Path f = runDir.resolve(GptModelStore.TOKENIZER_FILE);
        try {
            Files.createDirectories(runDir);
            AtomicFiles.writeString(f, TokenizerJson.of(BpeVocab.of(tok, rows)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + model + ": its tokenizer cannot be saved: " + e.getMessage());
        }
        return f;
    }
}
