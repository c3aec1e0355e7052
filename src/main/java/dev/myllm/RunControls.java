package dev.myllm;

import java.time.Duration;

/**
 * The run controls every fine-tuning options record shares ({@link ClassifierOptions}, {@link InstructOptions},
 * {@link PreferenceOptions}): each holds a {@link TuningRun}, and these shortcuts change it as the commands' flags do.
 *
 * @param <T> the options record
 */
public interface RunControls<T> {
    /**
     * The run controls.
     *
     * @return length, time limit, schedule, dropout, checkpoints and resume
     */
    TuningRun run();

    /**
     * The same options with other run controls.
     *
     * @param r the run controls
     * @return the changed options
     */
    T withRun(TuningRun r);

    /**
     * The same with a length in optimizer steps instead of epochs, as {@code --steps}.
     *
     * @param steps the run's steps (0: the epochs decide)
     * @return the changed options
     */
    default T withSteps(long steps) {
        return withRun(run().withSteps(steps));
    }

    /**
     * The same with a warmup + cosine rate, as {@code --warmup-steps N --min-lr X}: from {@code minLr} up to the lr over
     * {@code warmupSteps}, then half a cosine down to {@code minLr} at the last step.
     *
     * @param warmupSteps warmup steps
     * @param minLr       the floor and the warmup's start
     * @return the changed options
     */
    default T withWarmupCosine(long warmupSteps, double minLr) {
        return withRun(run().withWarmupCosine(warmupSteps, minLr));
    }

    /**
     * The same with a warmup + cosine rate whose floor (and warmup start) is a tenth of the lr, as {@code --warmup-steps N}
     * alone.
     *
     * @param warmupSteps warmup steps
     * @return the changed options
     */
    default T withWarmupCosine(long warmupSteps) {
        return withRun(run().withWarmupCosine(warmupSteps));
    }

    /**
     * The same with a time limit, as {@code --minutes}: the run stops with a checkpoint after this much training time.
     *
     * @param minutes the limit in minutes (0: none)
     * @return the changed options
     */
    default T withMinutes(double minutes) {
        return withRun(run().withMinutes(minutes));
    }

    /**
     * The same with a time limit given as a duration ({@link #withMinutes} in minutes).
     *
     * @param limit the training time (zero: none)
     * @return the changed options
     */
    default T withTimeLimit(Duration limit) {
        return withRun(run().withTimeLimit(limit));
    }

    /**
     * The same with another dropout rate while fine-tuning, as {@code --dropout}.
     *
     * @param rate the rate, in [0, 1)
     * @return the changed options
     */
    default T withDropout(float rate) {
        return withRun(run().withDropout(rate));
    }

    /**
     * The same with a checkpoint every N steps, as {@code --checkpoint-every}.
     *
     * @param every steps between checkpoints (0: at the end)
     * @return the changed options
     */
    default T withCheckpointEvery(int every) {
        return withRun(run().withCheckpointEvery(every));
    }

    /**
     * The same continuing the run in {@code out} from its latest checkpoint, as {@code --resume OUT}: a run stopped by
     * {@link #withMinutes}, an interrupt or a shorter length goes on exactly as if it had not stopped. Give the run's
     * own settings (a longer length may be given); a run another command made is refused.
     *
     * @return the changed options
     */
    default T withResume() {
        return withRun(run().withResume());
    }
}
