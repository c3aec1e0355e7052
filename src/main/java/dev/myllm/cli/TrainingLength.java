package dev.myllm.cli;

import dev.myllm.finetune.FineTuning;
import dev.myllm.train.Trainer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * How long a training command runs ({@code train}, {@code finetune classify}, {@code instruct}, {@code dpo}): {@code --steps}
 * instead of the epochs, and {@code --minutes} of training time, after which the run stops with a checkpoint
 * {@code --resume} continues. One mixin, so the options mean and say the same in every command.
 */
final class TrainingLength {
    @Option(names = "--steps", defaultValue = "0", paramLabel = "N",
            description = "Optimizer steps (overrides --epochs; a length that does not depend on the machine's speed).")
    long steps;
    @Option(names = "--minutes", defaultValue = "0",
            description = "Stop (saving a checkpoint --resume continues) after this much training time; 0 = no limit (default).")
    double minutes;

    /** Refuses a typed {@code --minutes} below 0 and a typed {@code --steps 0} (0, the default, means the epochs decide). */
    void check(CommandSpec spec) {
        TimeBudget.check(minutes);
        GivenOptions.positive(spec, "--steps", steps);
    }

    /** The run's optimizer steps: {@code --steps}, else {@code byEpochs}, what the epochs make. */
    long total(long byEpochs) {
        return FineTuning.totalSteps(steps, byEpochs);
    }

    /**
     * Starts the {@code --minutes} budget (training time: call it once the data is read and the model built) and has
     * {@code t} stop at its end, or at {@code deadline} if that comes first ({@code Long.MAX_VALUE}: none).
     */
    TimeBudget start(Trainer t, long deadline) {
        TimeBudget budget = TimeBudget.startingNow(minutes);
        budget.applyTo(t, deadline);
        return budget;
    }
}
