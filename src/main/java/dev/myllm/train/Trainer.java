package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.RandomState;
import dev.myllm.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * The one training loop, for pretraining (chapter 5 with appendix D's extras) and fine-tuning
 * (chapters 6–7): an {@link Objective} gives each batch's loss; the loop adds micro-batch gradient
 * accumulation, global-norm clipping, a learning-rate schedule, periodic evaluation (loss, and the
 * objective's metrics such as accuracy), samples, metrics, plots, and checkpoints (periodic, final
 * and on Ctrl-C) from which {@link #resume} continues bitwise exactly.
 *
 * <p>Only parameters that require a gradient train: frozen ones get no gradient buffer and, when
 * the {@link AdamW} was made after freezing, no optimizer state.
 */
public final class Trainer {
    /** Loop settings; 0 turns the periodic things off ({@code sampleEvery} 0 means once per epoch). */
    public record Options(long totalSteps, int gradAccum, double gradClip, int evalEvery, int evalBatches,
                          int sampleEvery, int checkpointEvery, int keepCheckpoints) {
        public Options {
            if (totalSteps < 1) throw new IllegalArgumentException("training needs at least one step");
            if (gradAccum < 1) throw new IllegalArgumentException("gradient accumulation must be >= 1, got " + gradAccum);
            if (gradClip < 0) throw new IllegalArgumentException("gradient clip must be >= 0, got " + gradClip);
        }
    }

    /**
     * What happened at one optimizer step; losses are NaN where not evaluated; {@code metrics} holds
     * the objective's metrics where evaluated, prefixed {@code train_} and {@code val_}.
     */
    public record StepReport(long step, long totalSteps, int epoch, double loss, double lr, long tokens, double ms,
                             double valLoss, double trainEvalLoss, double gradNorm, Map<String, Double> metrics) {
    }

    /** When the periodic evaluation runs (the loss on the first {@code evalBatches} batches of each set). */
    public enum EvalRule {
        /** After steps {@code 1}, {@code N}, {@code 2N}, ... and the last one (nanoGPT-like; pretraining's default). */
        EVERY_N_AND_FIRST,
        /**
         * The book's {@code global_step % eval_freq == 0} with {@code global_step} starting at -1:
         * after updates {@code 1}, {@code 1+N}, {@code 1+2N}, ... (printed by the book as steps 0, N, 2N).
         */
        BOOK
    }

    /** Draws a plot of the metrics so far into a file. */
    @FunctionalInterface
    public interface Plotter {
        void draw(Path file, List<MetricsLog.Point> points);
    }

    /** Progress callbacks for the command line. */
    public interface Listener {
        default void onStep(StepReport r) {
        }

        default void onSample(long step, String text) {
        }

        default void onCheckpoint(Path dir) {
        }

        /**
         * A shutdown (Ctrl-C, SIGTERM) stopped the run at {@code step} and {@code lastCheckpoint} is saved. Called before
         * {@link #run()} returns, while the JVM still waits for it: once run() returns the JVM may exit at any moment, so
         * what is said after it may never be printed.
         */
        default void onInterrupted(Path lastCheckpoint, long step) {
        }
    }

    private final Module module;
    private final Objective objective;
    private final ModelStore store;
    private final AdamW optimizer;
    private LrSchedule schedule;
    private long totalSteps;
    private final BatchSource train;
    private final Options options;
    private final Path runDir;
    private List<Batch> valBatches = List.of();
    private List<Batch> trainEvalBatches = List.of();
    private Supplier<List<Batch>> valSource, trainEvalSource; // null: the fixed lists above
    private final Map<String, RandomState> rngs = new LinkedHashMap<>();
    private Map<String, Object> commandOptions = Map.of();
    private LongFunction<String> sampler;
    private Listener listener = new Listener() {
    };
    private MetricsLog metrics = MetricsLog.inMemory();
    private final Map<Path, Plotter> plots = new LinkedHashMap<>();
    private EvalRule evalRule = EvalRule.EVERY_N_AND_FIRST;
    private int epochMetricBatches = -1;
    private boolean metricsAtEval;
    Runnable saveMidway = () -> {
    };

    private long step;
    private long microBatch;
    private long tokens;
    private volatile boolean stopRequested;
    private volatile boolean interrupted; // the stop came from a shutdown (Ctrl-C), not from requestStop or the deadline
    private long deadlineNanos = Long.MAX_VALUE;
    private long savedAt = -1;

    /** A pretraining loop: next-token cross-entropy of {@code model}. */
    public Trainer(Module module, LanguageModel model, ModelStore store, AdamW optimizer, LrSchedule schedule,
                   BatchSource train, Options options, Path runDir) {
        this(module, Objective.languageModel(model), store, optimizer, schedule, train, options, runDir);
    }

    /**
     * A loop minimizing {@code objective} over the trainable parameters of {@code module}
     * (its train/eval mode is switched around evaluations).
     */
    public Trainer(Module module, Objective objective, ModelStore store, AdamW optimizer, LrSchedule schedule,
                   BatchSource train, Options options, Path runDir) {
        if (train.batchesPerEpoch() < 1) throw new IllegalArgumentException("the training data makes no batch; use less context or a smaller batch");
        this.module = module;
        this.objective = objective;
        this.store = store;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.totalSteps = options.totalSteps();
        this.train = train;
        this.options = options;
        this.runDir = runDir;
    }

    /** Batches for the validation loss and for the training loss at evaluation time. */
    public Trainer evaluation(List<Batch> val, List<Batch> trainEval) {
        this.valBatches = List.copyOf(val);
        this.trainEvalBatches = List.copyOf(trainEval);
        return this;
    }

    /**
     * Batches fetched anew at each evaluation, the training set's first (the book iterates its
     * loaders then, and a shuffled loader draws a fresh order from the global generator).
     */
    public Trainer evaluation(Supplier<List<Batch>> val, Supplier<List<Batch>> trainEval) {
        this.valSource = val;
        this.trainEvalSource = trainEval;
        return this;
    }

    /** A generator whose state goes into checkpoints (dropout, sampling). */
    public Trainer rng(String name, RandomState rng) {
        rngs.put(name, rng);
        return this;
    }

    /** The command's options, recorded in {@code trainer_state.json}. */
    public Trainer commandOptions(Map<String, Object> opts) {
        this.commandOptions = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(opts)); // values may be null (unset options)
        return this;
    }

    /** Makes a text sample at a given step (called in evaluation mode without gradients). */
    public Trainer sampler(LongFunction<String> sampler) {
        this.sampler = sampler;
        return this;
    }

    public Trainer listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Where each step is logged, and the loss plot's file (null for none). */
    public Trainer metrics(MetricsLog log, Path plot) {
        this.metrics = log;
        if (plot != null) plots.put(plot, LossPlot::write);
        return this;
    }

    /** One more plot, redrawn at each evaluation and at the end (for example the accuracy plot). */
    public Trainer plot(Path file, Plotter plotter) {
        plots.put(file, plotter);
        return this;
    }

    /** Which steps evaluate the loss (default {@link EvalRule#EVERY_N_AND_FIRST}). */
    public Trainer evalRule(EvalRule rule) {
        this.evalRule = rule;
        return this;
    }

    /**
     * Also evaluates the objective's {@link Objective#metrics} at the end of each epoch, on the first
     * {@code batches} batches of the training-evaluation and validation sets (0 = all); the book's
     * per-epoch accuracy. Off by default.
     */
    public Trainer epochMetrics(int batches) {
        this.epochMetricBatches = Math.max(0, batches);
        return this;
    }

    /** Also computes the objective's metrics (on the evaluation batches) at every evaluation, not only at epoch ends. */
    public Trainer metricsAtEvaluation() {
        this.metricsAtEval = true;
        return this;
    }

    public long step() {
        return step;
    }

    public long tokensSeen() {
        return tokens;
    }

    /** Stops (evaluating and saving as on Ctrl-C) after the first step that ends past {@code System.nanoTime()} value {@code deadline}. */
    public Trainer stopAt(long deadline) {
        this.deadlineNanos = deadline;
        return this;
    }

    /**
     * Changes the planned length and schedule mid-run (a time-budgeted run re-plans once it knows
     * its real step time). Seamless when the old and new schedules agree up to the current step,
     * as warmup-cosine schedules with the same warmup do during warmup. The new step count is
     * recorded in the checkpoint's options as {@code steps}, so a resumed run follows it too.
     */
    public void replan(long newTotalSteps, LrSchedule newSchedule) {
        if (newTotalSteps < Math.max(1, step)) throw new IllegalArgumentException("cannot re-plan to " + newTotalSteps + " steps at step " + step);
        totalSteps = newTotalSteps;
        schedule = newSchedule;
        Map<String, Object> opts = new LinkedHashMap<>(commandOptions);
        opts.put("steps", newTotalSteps);
        commandOptions = java.util.Collections.unmodifiableMap(opts);
    }

    /** Whether a shutdown (Ctrl-C, SIGTERM) stopped the last {@link #run()}; the listener was told by {@code onInterrupted}. */
    public boolean interrupted() {
        return interrupted;
    }

    /** Asks the loop to stop after the current step and save a checkpoint. */
    public void requestStop() {
        stopRequested = true;
    }

    /** Restores weights, optimizer, data position and generators from a checkpoint (or a run directory's latest). */
    public Trainer resume(Path dir) {
        Path cp = Checkpoints.resolve(dir);
        Map<String, Object> st = Checkpoints.readState(cp);
        store.load(cp);
        Checkpoints.loadOptimizer(cp, optimizer);
        step = ((Number) st.get("step")).longValue();
        microBatch = ((Number) st.get("micro_batch")).longValue();
        tokens = ((Number) st.get("tokens_seen")).longValue();
        Object saved = st.get("rng");
        if (saved instanceof Map<?, ?> m) {
            for (var e : rngs.entrySet()) {
                Object s = m.get(e.getKey());
                if (s == null) throw new IllegalArgumentException("checkpoint " + cp + " has no state for generator '" + e.getKey() + "'");
                e.getValue().setState(s.toString());
            }
        }
        if (optimizer.stepCount() != step) {
            throw new IllegalArgumentException("checkpoint " + cp + " is inconsistent: optimizer at step " + optimizer.stepCount() + ", trainer at " + step);
        }
        savedAt = step;
        return this;
    }

    /** Runs until the last step (or a stop request); returns the last checkpoint written. */
    public Path run() {
        Checkpoints.cleanTemporaries(runDir);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            interrupted = true;
            stopRequested = true;
            try {
                done.await(120, TimeUnit.SECONDS); // let the loop finish its step and save
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "myllm-train-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Path last = null;
        try {
            module.train(true);
            int bpe = train.batchesPerEpoch();
            List<Tensor> params = module.parameters().stream().filter(Tensor::requiresGrad).toList();
            while (step < totalSteps && !stopRequested) {
                long t0 = System.nanoTime();
                int epochBefore = (int) (microBatch / bpe);
                optimizer.zeroGrad();
                double lossSum = 0;
                for (int a = 0; a < options.gradAccum(); a++) {
                    Batch b = train.batch((int) (microBatch / bpe), (int) (microBatch % bpe));
                    microBatch++;
                    try (Arena arena = Arena.open()) {
                        Tensor loss = objective.loss(b);
                        lossSum += loss.item();
                        // the mean over micro-batches: each contributes 1/accum of its gradient
                        (options.gradAccum() > 1 ? loss.scale(1f / options.gradAccum()) : loss).backward();
                    }
                    tokens += b.inputs().length;
                }
                double norm = options.gradClip() > 0 ? GradClip.clip(params, options.gradClip()) : Double.NaN;
                double lr = schedule.lr(step);
                optimizer.step(lr);
                step++;
                double ms = (System.nanoTime() - t0) / 1e6;
                double val = Double.NaN, trainEval = Double.NaN;
                if (deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0) stopRequested = true;
                boolean finalStep = step == totalSteps || stopRequested;
                int epoch = (int) (microBatch / bpe);
                boolean evalNow = options.evalEvery() > 0 && switch (evalRule) {
                    case EVERY_N_AND_FIRST -> step % options.evalEvery() == 0 || step == 1 || finalStep;
                    case BOOK -> (step - 1) % options.evalEvery() == 0 || stopRequested;
                };
                // an epoch ends when the data position crosses an epoch boundary (with accumulation it may land inside one)
                boolean epochEnd = epochMetricBatches >= 0 && epoch > epochBefore;
                Map<String, Double> extra = new LinkedHashMap<>();
                if (evalNow || epochEnd) {
                    module.eval();
                    if (evalNow && valSource != null) {
                        trainEvalBatches = trainEvalSource.get();
                        valBatches = valSource.get();
                    }
                    if (evalNow) {
                        val = Losses.loaderLoss(objective, valBatches, options.evalBatches());
                        trainEval = Losses.loaderLoss(objective, trainEvalBatches, options.evalBatches());
                    }
                    if (epochEnd || (evalNow && metricsAtEval)) {
                        int n = epochEnd && epochMetricBatches >= 0 ? epochMetricBatches : options.evalBatches();
                        try (GradMode g = GradMode.noGrad()) {
                            objective.metrics(trainEvalBatches, n).forEach((k, v) -> extra.put("train_" + k, v));
                            objective.metrics(valBatches, n).forEach((k, v) -> extra.put("val_" + k, v));
                        }
                    }
                    module.train(true);
                }
                metrics.add(new MetricsLog.Point(step, lossSum / options.gradAccum(), lr, tokens, ms, val, trainEval, extra));
                // redraw at each evaluation: the plot is current while training, and the graphics
                // stack is loaded early (it cannot start inside a shutdown hook, after Ctrl-C)
                if ((!Double.isNaN(val) || !extra.isEmpty()) && !finalStep) drawPlots();
                listener.onStep(new StepReport(step, totalSteps, epoch, lossSum / options.gradAccum(), lr, tokens, ms, val, trainEval, norm,
                        Map.copyOf(extra)));
                boolean sampleNow = options.sampleEvery() > 0 ? step % options.sampleEvery() == 0
                        : options.sampleEvery() == 0 && epoch > epochBefore;
                if (sampler != null && sampleNow) listener.onSample(step, sample());
                if (options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0) last = checkpoint();
            }
            if (savedAt != step || last == null) last = checkpoint();
            Checkpoints.saveModelDir(runDir.resolve("model"), store);
            drawPlots();
            if (interrupted) listener.onInterrupted(last, step);
            return last;
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting (Ctrl-C): the hook is running and waits for the latch above
            }
        }
    }

    private void drawPlots() {
        if (plots.isEmpty()) return;
        List<MetricsLog.Point> points = metrics.points();
        plots.forEach((file, plotter) -> plotter.draw(file, points));
    }

    private String sample() {
        module.eval();
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            return sampler.apply(step);
        } finally {
            module.train(true);
        }
    }

    /** Writes a checkpoint of the current state now. */
    public Path checkpoint() {
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("step", step);
        st.put("total_steps", totalSteps);
        st.put("micro_batch", microBatch);
        st.put("epoch", microBatch / train.batchesPerEpoch());
        st.put("batches_per_epoch", train.batchesPerEpoch());
        st.put("tokens_seen", tokens);
        Map<String, String> rngState = new LinkedHashMap<>();
        rngs.forEach((k, v) -> rngState.put(k, v.state()));
        st.put("rng", rngState);
        st.put("schedule", schedule.describe());
        st.put("optimizer", optimizer.stateMetadata());
        st.put("options", commandOptions);
        Path p = Checkpoints.save(runDir, step, store, optimizer, st, saveMidway, options.keepCheckpoints());
        savedAt = step;
        listener.onCheckpoint(p);
        return p;
    }
}
