package dev.myllm.train;

import dev.myllm.util.IoErrors;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link GPTModel} saved as a Hugging Face GPT-2 model directory through the io layer's
 * {@link ModelDirectory} ({@code config.json} + {@code model.safetensors}), plus the tokenizer
 * file when the run uses a trained one.
 */
public final class GptModelStore implements ModelStore {
    /** Where a model directory keeps a trained (non-GPT-2) tokenizer. */
    public static final String TOKENIZER_FILE = "myllm-tokenizer.json";
    private final GPTModel model;
    private final byte[] tokenizer;

    /** A store for {@code model}; {@code tokenizerFile} (may be null) is written into every saved directory. */
    public GptModelStore(GPTModel model, Path tokenizerFile) {
        this.model = model;
        // read once, here: a resumed run's vocabulary is its checkpoint's copy, and that checkpoint is pruned while the run goes on
        try {
            this.tokenizer = tokenizerFile == null ? null : Files.readAllBytes(tokenizerFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer " + tokenizerFile + ": " + IoErrors.reason(e), e);
        }
    }

    public GptModelStore(GPTModel model) {
        this(model, null);
    }

    @Override
    public void save(Path dir) {
        ModelDirectory.save(model, dir);
        if (tokenizer != null) {
            try {
                Files.write(dir.resolve(TOKENIZER_FILE), tokenizer);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the tokenizer into " + dir + ": " + IoErrors.reason(e), e);
            }
        }
    }

    @Override
    public void load(Path dir) {
        // the io layer builds a fresh model; its weights are copied into the live one, whose
        // tensors the optimizer holds
        model.loadStateDict(ModelDirectory.load(dir, model.config()).namedParameters());
    }
}
