package dev.myllm;

import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.Trainable;
import dev.myllm.model.GPTConfig;

/** The checks {@link InstructOptions} and {@link PreferenceOptions} share, each a one-line {@link IllegalArgumentException} naming the setting. */
final class TuningChecks {
    /** How a fine-tuning's refusal for want of heap names what to change, as {@link Myllm#train}'s does. */
    static final FineTuningMemory.Names MEMORY = new FineTuningMemory.Names("batchSize", "maxLength", "withLoRA(rank, alpha)",
            "give the JVM more heap (-Xmx)");

    private TuningChecks() {
    }

    /**
     * Refuses a run that cannot fit the Java heap ({@link FineTuningMemory}): {@code length} 0 before the data and the
     * weights are read, else with batches of that many tokens.
     */
    static void memory(GPTConfig cfg, FineTuningMemory.Kind kind, Trainable trainable, int batchSize, int length) {
        String refusal = FineTuningMemory.refusal(cfg, kind, trainable, batchSize, length, false, Runtime.getRuntime().maxMemory(), MEMORY);
        if (refusal != null) throw new IllegalArgumentException(refusal);
    }

    /** The training loop's numbers. */
    static void training(int epochs, int batchSize, int maxLength, double lr, double weightDecay, int evalEvery, int evalBatches) {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (maxLength < 2) throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        if (evalEvery < 0 || evalBatches < 0) throw new IllegalArgumentException("evalEvery and evalBatches must be >= 0");
    }

    /** What trains in a language model (no new head to train alone); returns {@code lora}, or null unless LoRA trains. */
    static LoRA.Settings trainable(Trainable trainable, LoRA.Settings lora) {
        if (trainable == null) throw new IllegalArgumentException("trainable: what trains is required");
        if (trainable == Trainable.HEAD) {
            throw new IllegalArgumentException("trainable: a language model has no new head to train alone; choose ALL, LAST_BLOCK, LAST_TWO_BLOCKS or LORA");
        }
        if (trainable == Trainable.LORA && lora == null) throw new IllegalArgumentException("trainable: LoRA needs its rank and alpha; use withLoRA(rank, alpha)");
        return trainable == Trainable.LORA ? lora : null;
    }
}
