package dev.myllm.cli;

/** What a training command tells its user to change when a run does not fit the heap ({@code MemoryEstimate.refusal}). */
final class MemoryRemedy {
    /** How a fine-tuning's refusal names what to change ({@code finetune classify|instruct|dpo} share the options). */
    static final dev.myllm.finetune.FineTuningMemory.Names FINETUNE = new dev.myllm.finetune.FineTuningMemory.Names("--batch-size", "--max-length",
            "--trainable lora", "give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");

    private MemoryRemedy() {
    }

    /** The options to lower, the launcher's way to a larger heap, and {@code --grad-accum} where the command has it. */
    static String of(boolean gradAccum) {
        return "lower --batch-size or --context-length" + (gradAccum ? " (--grad-accum keeps the tokens per step)" : "")
                + ", or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)";
    }
}
