package dev.myllm;

import java.time.Duration;

/**
 * How long a fine-tuning run goes and how it is kept, the run controls of {@code myllm finetune classify|instruct|dpo}
 * with the same meaning and numbers: {@link ClassifierOptions}, {@link InstructOptions} and {@link PreferenceOptions}
 * each hold one. Start from {@link #book()} (the book's run: the epochs decide, a constant rate, no dropout, a checkpoint
 * at the end) and change what you need with the {@code with...} methods.
 *
 * <p>A run cut short by {@code minutes} (or an interrupt) saves a checkpoint; the last {@code Trainer.StepReport} a
 * listener sees then has a {@code step} below its {@code totalSteps}. {@code withResume()} continues it exactly, from the
 * Java program or with {@code myllm finetune ... --resume OUT}: every run saves its settings in its checkpoints as the
 * command does.
 *
 * @param steps           optimizer steps of the run, as {@code --steps}; 0: the epochs decide
 * @param warmupSteps     linear warmup steps, as {@code --warmup-steps}; null: not given. With this or {@code minLr} the rate
 *                        follows warmup + cosine (the warmup at most all but the last step), else it is the book's constant one
 * @param minLr           the cosine's floor and the warmup's start, as {@code --min-lr}; null: not given ({@code lr / 10}
 *                        with a warmup)
 * @param minutes         training time after which the run stops with a checkpoint, as {@code --minutes}; 0: no limit
 * @param dropout         the dropout rate while fine-tuning, as {@code --dropout} (the book's 0.0, whatever the model's
 *                        config says)
 * @param checkpointEvery a checkpoint every N steps, as {@code --checkpoint-every}; 0: at the end (and when interrupted)
 * @param resume          continue the run in the options' {@code out} from its latest checkpoint, as {@code --resume OUT},
 *                        instead of starting one there; the other settings should be the run's own (what trains and the
 *                        LoRA settings must be), the length may grow
 */
public record TuningRun(long steps, Long warmupSteps, Double minLr, double minutes, float dropout, int checkpointEvery, boolean resume) {
    /**
     * Checks every value; a bad one is an {@link IllegalArgumentException} naming it. The factories and {@code with...}
     * methods make their options through this constructor, so they throw as it does.
     *
     * @throws IllegalArgumentException when a value is missing or out of range, naming it
     */
    public TuningRun {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0 (0: the epochs decide), got " + steps);
        if (warmupSteps != null && warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (minLr != null && !(minLr >= 0 && minLr < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("minLr must be >= 0, got " + minLr);
        if (!(minutes >= 0)) throw new IllegalArgumentException("minutes must be >= 0 (0: no limit), got " + minutes);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpointEvery must be >= 0 (0: at the end), got " + checkpointEvery);
    }

    /**
     * The book's run, as the commands' defaults: the epochs decide its length, a constant rate, no time limit, no dropout,
     * a checkpoint at the end, a new run.
     *
     * @return the run controls
     */
    public static TuningRun book() {
        return new TuningRun(0, null, null, 0, 0f, 0, false);
    }

    /**
     * The same with a length in optimizer steps instead of epochs, as {@code --steps}.
     *
     * @param steps the run's steps (0: the epochs decide)
     * @return the changed controls
     */
    public TuningRun withSteps(long steps) {
        return new TuningRun(steps, warmupSteps, minLr, minutes, dropout, checkpointEvery, resume);
    }

    /**
     * The same with a warmup + cosine rate, as {@code --warmup-steps N --min-lr X}: from {@code minLr} up to the lr over
     * {@code warmupSteps}, then half a cosine down to {@code minLr} at the last step.
     *
     * @param warmupSteps warmup steps
     * @param minLr       the floor and the warmup's start
     * @return the changed controls
     */
    public TuningRun withWarmupCosine(long warmupSteps, double minLr) {
        return new TuningRun(steps, warmupSteps, minLr, minutes, dropout, checkpointEvery, resume);
    }

    /**
     * The same with a warmup + cosine rate whose floor is a tenth of the lr, as {@code --warmup-steps N} alone.
     *
     * @param warmupSteps warmup steps
     * @return the changed controls
     */
    public TuningRun withWarmupCosine(long warmupSteps) {
        return new TuningRun(steps, warmupSteps, null, minutes, dropout, checkpointEvery, resume);
    }

    /**
     * The same with a time limit, as {@code --minutes}: the run stops with a checkpoint after this much training time.
     *
     * @param minutes the limit in minutes (0: none)
     * @return the changed controls
     */
    public TuningRun withMinutes(double minutes) {
        return new TuningRun(steps, warmupSteps, minLr, minutes, dropout, checkpointEvery, resume);
    }

    /**
     * The same with a time limit given as a duration ({@link #withMinutes} in minutes).
     *
     * @param limit the training time (zero: none)
     * @return the changed controls
     */
    public TuningRun withTimeLimit(Duration limit) {
        if (limit == null || limit.isNegative()) throw new IllegalArgumentException("timeLimit must be zero or more, got " + limit);
        return withMinutes(limit.toNanos() / 60e9);
    }

    /**
     * The same with another dropout rate while fine-tuning, as {@code --dropout}.
     *
     * @param rate the rate, in [0, 1)
     * @return the changed controls
     */
    public TuningRun withDropout(float rate) {
        return new TuningRun(steps, warmupSteps, minLr, minutes, rate, checkpointEvery, resume);
    }

    /**
     * The same with a checkpoint every N steps, as {@code --checkpoint-every}.
     *
     * @param every steps between checkpoints (0: at the end)
     * @return the changed controls
     */
    public TuningRun withCheckpointEvery(int every) {
        return new TuningRun(steps, warmupSteps, minLr, minutes, dropout, every, resume);
    }

    /**
     * The same continuing the run in {@code out} from its latest checkpoint, as {@code --resume OUT}.
     *
     * @return the changed controls
     */
    public TuningRun withResume() {
        return new TuningRun(steps, warmupSteps, minLr, minutes, dropout, checkpointEvery, true);
    }

    /** The options as a command saves them (-1 for a warmup or floor not given), beside the command's other options. */
    void putInto(java.util.Map<String, Object> options) {
        options.put("steps", steps);
        options.put("minutes", minutes);
        options.put("dropout", dropout);
        options.put("checkpoint-every", checkpointEvery);
    }

    /** The warmup and the floor as the commands save them (-1: not given), beside their {@code lr}. */
    void putScheduleInto(java.util.Map<String, Object> options) {
        options.put("warmup-steps", warmupSteps == null ? -1L : warmupSteps);
        options.put("min-lr", minLr == null ? -1.0 : minLr);
    }
}
