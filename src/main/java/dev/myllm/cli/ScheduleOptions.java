package dev.myllm.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The learning-rate schedule's options of the training commands ({@code train}, {@code finetune classify}, {@code instruct},
 * {@code dpo}): a constant rate unless a warmup or a floor asks for warmup + cosine. One mixin, so they say the same everywhere.
 */
final class ScheduleOptions {
    // -1, the default of both, is "not given"
    @Option(names = "--warmup-steps", defaultValue = "-1", paramLabel = "N",
            description = "Linear warmup steps; with this or --min-lr the rate follows warmup + cosine (default: constant, the book's).")
    long warmupSteps;
    @Option(names = "--min-lr", defaultValue = "-1", description = "Cosine floor and warmup start (default: lr/10 with warmup, else constant lr).")
    double minLr;

    /** Refuses a typed negative value: -1, the default, means "not given", and typed in it must not silently mean that. */
    void check(CommandSpec spec) {
        GivenOptions.nonNegative(spec, "--warmup-steps", warmupSteps);
        GivenOptions.nonNegative(spec, "--min-lr", minLr);
    }

    /** {@code --warmup-steps}, or null when not given. */
    Long givenWarmupSteps() {
        return warmupSteps < 0 ? null : warmupSteps;
    }

    /** {@code --min-lr}, or null when not given. */
    Double givenMinLr() {
        return minLr < 0 ? null : minLr;
    }
}
