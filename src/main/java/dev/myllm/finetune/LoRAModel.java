package dev.myllm.finetune;

import dev.myllm.model.GPTModel;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.train.LanguageModel;

/**
 * A language model being fine-tuned with LoRA (appendix E applied to chapter 7): the GPT, frozen,
 * and its adapters, the only trainable parameters; what the trainer and the optimizer see.
 */
public final class LoRAModel extends Module {
    private final GPTModel model;
    private final LoRA lora;

    /** Freezes {@code model} and attaches mergeable adapters to it ({@link LoRA#attachMergeable}). */
    public LoRAModel(GPTModel model, LoRA.Settings settings, Rng rng) {
        model.setTrainable(false);
        this.model = child("model", model);
        this.lora = child("lora", LoRA.attachMergeable(model, settings, rng));
    }

    /**
     * Freezes {@code model} and attaches adapters drawn from {@code seed + 1}, the rule of a classifier's adapters
     * ({@link ClassifierTuning}): the run's own seed shuffles its batches. Call before the first forward pass.
     *
     * @param model    the GPT to tune
     * @param settings the adapters' rank, alpha and scale rule
     * @param seed     the run's seed
     * @return the model with its adapters, what the trainer and the optimizer see
     */
    public static LoRAModel attach(GPTModel model, LoRA.Settings settings, long seed) {
        return new LoRAModel(model, settings, new Rng(seed + 1));
    }

    /**
     * The starting model, for DPO's reference: the same weights with the adapters switched off (and
     * no dropout), so no second copy is held. Not for use while the policy's graph is being built
     * on another thread.
     */
    public LanguageModel reference() {
        return (ids, batch, time) -> {
            boolean training = isTraining();
            model.eval();
            lora.setEnabled(false);
            try {
                return model.forward(ids, batch, time);
            } finally {
                lora.setEnabled(true);
                model.train(training);
            }
        };
    }

    public GPTModel model() {
        return model;
    }

    public LoRA lora() {
        return lora;
    }
}
