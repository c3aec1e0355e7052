package dev.myllm.train;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * A {@link GPTModel} saved as a Hugging Face GPT-2 model directory through the io layer's
 * {@link ModelDirectory} ({@code config.json} + {@code model.safetensors}), plus the tokenizer
 * file when the run uses a trained one.
 */
public final class GptModelStore implements ModelStore {
    /** Where a model directory keeps a trained (non-GPT-2) tokenizer. */
    public static final String TOKENIZER_FILE = dev.myllm.io.ModelTokenizer.OWN_FILE;
    private final GPTModel model;
    private final TokenizerCopy tokenizer;

    /** A store for {@code model}; {@code tokenizer} (may be null: GPT-2's, nothing to keep) is written into every saved directory. */
    public GptModelStore(GPTModel model, TokenizerCopy tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    public GptModelStore(GPTModel model) {
        this(model, null);
    }

    @Override
    public void save(Path dir) {
        save(dir, Tensor::data);
    }

    /** Saves the model storing {@code values} of each parameter (a LoRA run's merged weights) in place of its own. */
    public void save(Path dir, Function<Tensor, float[]> values) {
        if (tokenizer == null) {
            ModelDirectory.writeInto(model, dir, dev.myllm.io.DType.F32, values); // GPT-2's
        } else {
            ModelDirectory.writeInto(model, dir, dev.myllm.io.DType.F32, tokenizer.endOfText(), values);
            tokenizer.writeInto(dir);
        }
    }

    @Override
    public void load(Path dir) {
        // the io layer builds a fresh model; its weights are copied into the live one, whose
        // tensors the optimizer holds
        model.loadStateDict(ModelDirectory.load(dir, model.config()).namedParameters());
    }
}
