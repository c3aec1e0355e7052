package dev.myllm;

import static dev.myllm.Myllm.given;

import dev.myllm.finetune.PeftAdapter;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.GgufFile;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.ModelFiles;
import dev.myllm.io.ModelTokenizer;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@link Myllm}'s loaders read from files: the tokenizer beside a model, packed weights for inference, a PEFT adapter merged in. */
final class MyllmLoaders {
    private MyllmLoaders() {
    }

    /** The model's own tokenizer ({@link ModelTokenizer}), else GPT-2's. */
    static Tokenizer tokenizerFor(Path model) {
        Tokenizer tok = ModelTokenizer.of(model);
        return tok != null ? tok : Tokenizers.load("gpt2");
    }

    /** {@link Myllm#loadForInference(Path, String)}: the matrices read as {@code dtype} a few rows at a time. */
    static Myllm packed(Path model, String dtype) {
        given(model, "model");
        PackedMatrix.Format f = decodingFormat(dtype);
        boolean gguf = GgufFile.isGguf(model);
        if (!gguf && !Files.isDirectory(model)) {
            throw new IllegalArgumentException(Files.exists(model) ? model + ": not a model directory or GGUF file (an llm.c checkpoint loads with load)"
                    : "no such model directory or file: " + model);
        }
        Tokenizer tok = tokenizerFor(model); // before reading the weights
        GPTModel m = ModelFiles.loadPacked(model, ModelDirectory.readConfig(model), f, PackedMatrix.Halves.COPIED);
        m.eval();
        return new Myllm(m, tok, SavedFormat.read(model));
    }

    /** The model with the adapter merged, packed as {@code f} unless null. */
    static Myllm adapted(Path model, Path adapter, PackedMatrix.Format f) {
        given(model, "model");
        PeftAdapter a = PeftAdapter.read(given(adapter, "adapter")); // checked before the weights are read
        Tokenizer tok = tokenizerFor(model);
        GPTModel m = Myllm.loadModel(model);
        a.mergeInto(m);
        if (f != null) {
            PackedWeights.packAndDrop(m, f, bytes -> { });
            m.eval();
        }
        return new Myllm(m, tok, SavedFormat.read(model, adapter));
    }

    /** The packed type named {@code dtype} (f32, f16, bf16, q8_0, q4_0, q4_1). */
    static PackedMatrix.Format decodingFormat(String dtype) {
        try {
            return PackedWeights.decodingFormat(PackedWeights.typeName(given(dtype, "dtype")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dtype: " + e.getMessage());
        }
    }
}
