package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
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

    /**
     * A model directory or GGUF file for inference only, its matrices kept as {@code f} and read a few
     * rows at a time, never as a float32 model ({@link GgufModel#loadPacked}, {@link PackedDirectory#load});
     * the float32 copies of the packed matrices are dropped.
     */
    public static GPTModel loadPacked(Path path, GPTConfig config, PackedMatrix.Format f, PackedMatrix.Halves halves) {
        return loadPacked(path, config, f, halves, false);
    }

    /** As {@link #loadPacked(Path, GPTConfig, PackedMatrix.Format, PackedMatrix.Halves)}, {@code byDefault} as {@link GgufModel#loadPacked(Path, GPTConfig, PackedMatrix.Format, PackedMatrix.Halves, boolean)} says. */
    public static GPTModel loadPacked(Path path, GPTConfig config, PackedMatrix.Format f, PackedMatrix.Halves halves, boolean byDefault) {
        GPTModel m = GgufFile.isGguf(path) ? GgufModel.loadPacked(path, config, f, halves, byDefault) : PackedDirectory.load(path, config, f, halves);
        PackedWeights.dropFloatWeights(m);
        return m;
    }

    /** The tokenizer a model file carries (a GGUF file's), or null. */
    public static Tokenizer tokenizer(Path file) {
        return GgufFile.isGguf(file) ? GgufModel.tokenizer(file) : null;
    }

    /**
     * How a model's matrices are stored, as the type they run in by default: {@code f32}, {@code f16},
     * {@code bf16}, {@code q8_0}, {@code q4_0} or {@code q4_1}, for a model directory, GGUF file or llm.c
     * checkpoint (a GGUF file's types that are only read, such as Q4_K, as {@link GgufType#runType()}).
     */
    public static String storedType(Path path) {
        if (GgufFile.isGguf(path)) {
            try (GgufFile g = GgufFile.open(path)) {
                return GgufModel.storedType(g).runType().name().toLowerCase(java.util.Locale.ROOT);
            }
        }
        if (LlmcCheckpoint.isCheckpoint(path)) return LlmcCheckpoint.storedType(path);
        if (!Files.isDirectory(path)) return "f32";
        Path w = path.resolve(ModelDirectory.WEIGHTS);
        if (!Files.isRegularFile(w)) return "f32";
        try (Safetensors st = Safetensors.open(w)) {
            for (TensorInfo t : st.entries()) {
                if (t.shape().length == 2) {
                    return switch (t.dtype()) {
                        case F16 -> "f16";
                        case BF16 -> "bf16";
                        default -> "f32";
                    };
                }
            }
        }
        return "f32";
    }

    private static IllegalArgumentException unknown(Path file) {
        return new IllegalArgumentException(file + ": not a model directory, GGUF file or llm.c checkpoint");
    }
}
