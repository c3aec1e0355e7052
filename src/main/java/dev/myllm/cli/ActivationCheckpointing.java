package dev.myllm.cli;

import dev.myllm.model.GPTModel;
import picocli.CommandLine.Option;

/** The {@code --checkpoint-activations} option every training command shares (train, bench train, finetune). */
final class ActivationCheckpointing {
    @Option(names = "--checkpoint-activations",
            description = "Keep only each transformer block's input for backward and recompute the block there: much less activation memory "
                    + "(long contexts, large batches) for one more forward pass of the blocks; the same gradients.")
    boolean on;

    /** Turns checkpointing on or off in {@code model} as the option says; returns the model. */
    GPTModel apply(GPTModel model) {
        model.setCheckpointActivations(on);
        return model;
    }
}
