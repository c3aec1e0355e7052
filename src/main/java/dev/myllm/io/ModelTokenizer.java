package dev.myllm.io;

import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one rule for the tokenizer a model keeps, for every command and the library: a GGUF file's embedded one, a model
 * directory's {@code myllm-tokenizer.json} (what a training run saved), else none: GPT-2's is meant.
 */
public final class ModelTokenizer {
    /** The file a model directory keeps a tokenizer trained or chosen with myllm in. */
    public static final String OWN_FILE = "myllm-tokenizer.json";

    private ModelTokenizer() {
    }

    /** The tokenizer file a model directory keeps, or null (a model file, a preset, or a directory without one). */
    public static Path file(Path model) {
        if (model == null || !Files.isDirectory(model)) return null;
        Path own = model.resolve(OWN_FILE);
        return Files.isRegularFile(own) ? own : null;
    }

    /**
     * The model's own tokenizer, or null when it has none (GPT-2's is meant); what is wrong with its file is an
     * {@link IllegalArgumentException} of one line naming it.
     */
    public static Tokenizer of(Path model) {
        if (model == null) return null;
        if (ModelFiles.isModelFile(model)) return ModelFiles.tokenizer(model);
        Path f = file(model);
        return f == null ? null : Tokenizers.load(f.toString());
    }
}
