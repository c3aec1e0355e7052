package dev.myllm.finetune;

import dev.myllm.io.ClassifierDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.ModelStore;
import dev.myllm.train.TokenizerCopy;
import java.nio.file.Path;
import java.util.Map;

/**
 * Saves a {@link GPTClassifier} as a classifier directory (Hugging Face's
 * {@code GPT2ForSequenceClassification} layout), with its LoRA adapter beside it when it has one
 * ({@code adapter_model.safetensors} + {@code adapter_config.json}, the base weights unmerged) and
 * the tokenizer file when the model uses a trained one; loads such a directory back in place.
 */
public final class ClassifierStore implements ModelStore {
    private final GPTClassifier model;
    private final TokenizerCopy tokenizer;

    /** A store for {@code model}; {@code tokenizer} (may be null: GPT-2's, nothing to keep) is written into every saved directory. */
    public ClassifierStore(GPTClassifier model, TokenizerCopy tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    @Override
    public void save(Path dir) {
        save(model, dir);
        if (tokenizer != null) tokenizer.writeInto(dir);
    }

    /** Writes {@code m} (and its adapter, if any) into {@code dir}, a directory made whole before it is renamed into place. */
    public static void save(GPTClassifier m, Path dir) {
        ClassifierDirectory.save(m.transformer(), m.score().weight(), m.score().bias(),
                new ClassifierDirectory.Head(m.labels(), m.padId(), m.tokenRule().id(), m.maxLength()), dir);
        if (m.lora() != null) m.lora().save(dir, "SEQ_CLS");
    }

    @Override
    public void load(Path dir) {
        ClassifierDirectory.Loaded l = ClassifierDirectory.load(dir);
        if (!l.head().labels().equals(model.labels())) {
            throw new IllegalArgumentException(dir + ": labels " + l.head().labels() + " differ from the run's " + model.labels());
        }
        Map<String, Tensor> body = l.body().namedParameters();
        model.transformer().loadStateDict(body);
        copy(l.scoreWeight(), model.score().weight());
        if (model.score().bias() != null) {
            if (l.scoreBias() == null) throw new IllegalArgumentException(dir + ": no score.bias but the model has a head bias");
            copy(l.scoreBias(), model.score().bias());
        }
        if (model.lora() != null) model.lora().load(dir);
    }

    private static void copy(Tensor src, Tensor dst) {
        System.arraycopy(src.data(), 0, dst.data(), 0, dst.size());
    }

    /**
     * Loads a classifier directory as a ready model: body, head and, when present, its LoRA adapter
     * (applied unmerged). {@code dropout} overrides the saved rate when {@code >= 0}.
     */
    public static GPTClassifier load(Path dir, float dropout) {
        ClassifierDirectory.Loaded l = ClassifierDirectory.load(dir);
        GPTModel body = l.body();
        if (dropout >= 0 && dropout != body.config().dropRate()) {
            GPTModel b = new GPTModel(body.config().withDropRate(dropout), 0);
            b.loadStateDict(body.namedParameters());
            body = b;
        }
        GPTClassifier c = GPTClassifier.of(body, l.scoreWeight(), l.scoreBias(), l.head().labels(),
                TokenRule.parse(l.head().tokenRule()), l.head().padId());
        c.maxLength(l.head().maxLength());
        if (LoRA.present(dir)) {
            c.addLoRA(LoRA.readSettings(dir), new dev.myllm.tensor.Rng(0));
            c.lora().load(dir);
        }
        return c;
    }
}
