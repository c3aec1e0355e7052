package dev.myllm.cli;

import dev.myllm.data.LabelledSplits;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.ClassifierTuning;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.TokenRule;
import dev.myllm.finetune.Trainable;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.AccuracyPlot;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code myllm finetune classify}: chapter 6's classification fine-tuning (and appendix E's LoRA), with checkpoints and exact resume. */
@Command(name = "classify", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fine-tune a GPT into a text classifier (chapter 6; --trainable lora: appendix E). "
                + "Defaults are the book's. With --resume DIR the saved options are the defaults.")
final class FinetuneClassifyCommand implements Runnable {
    /** How the shared assembly's messages name what was typed. */
    private static final ClassifierTuning.Names NAMES = new ClassifierTuning.Names("--model", "--max-length", "--batch-size", "--trainable lora");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR|FILE", description = "A GPT model directory, GPT-2 GGUF file (upcast to float32) or llm.c checkpoint (a new head is made), "
            + "or a classifier directory (its head is kept).")
    Path model;
    @Mixin
    LabelledDataOptions data;
    @Mixin
    ActivationCheckpointing checkpointing;
    @Option(names = "--out", paramLabel = "DIR", description = "Run directory: checkpoints, model/, metrics.jsonl, loss.png, accuracy.png.")
    Path out;
    @Option(names = "--trainable", defaultValue = "last-block", description = "What trains: head, last-block, last-two-blocks, all or lora (default ${DEFAULT-VALUE}).")
    String trainable;
    @Option(names = "--token", defaultValue = "last", description = "Position read: last (the book), flexible (last non-pad), first or mean (default ${DEFAULT-VALUE}).")
    String token;
    @Option(names = "--no-head-bias", description = "A head without bias (Hugging Face's score layer) instead of the book's Linear with bias.")
    boolean noHeadBias;
    @Option(names = "--max-length", defaultValue = "0", description = "Cut and pad every text to N tokens (default: the longest training text; spam: 256 or the model's context if shorter).")
    int maxLength;
    @Option(names = "--epochs", defaultValue = "5", description = "Passes over the training data (default ${DEFAULT-VALUE}).")
    int epochs;
    @Mixin
    TrainingLength runLength;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--lr", defaultValue = "-1", description = "AdamW learning rate (default 5e-5; with --trainable lora and the alpha/rank scale 8e-4, as the book's notebook).")
    double lr;
    @Mixin
    ScheduleOptions lrSchedule;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW weight decay on every trainable tensor (default ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--lora-rank", defaultValue = "16", description = "LoRA rank r (default ${DEFAULT-VALUE}).")
    int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (default ${DEFAULT-VALUE}).")
    double loraAlpha;
    @Option(names = "--lora-scale", defaultValue = "alpha/rank", paramLabel = "RULE", description = "Update factor: alpha/rank (current book, PEFT) or alpha (printed book) (default ${DEFAULT-VALUE}).")
    String loraScale;
    @Option(names = "--dropout", defaultValue = "0.0", description = "Dropout rate while fine-tuning (default ${DEFAULT-VALUE}, the book's).")
    float dropout;
    @Option(names = "--eval-every", defaultValue = "50", description = "Evaluate the loss after steps 1, 1+N, 1+2N, ... (the book's steps 0, N, ...; default ${DEFAULT-VALUE}).")
    int evalEvery;
    @Option(names = "--eval-batches", defaultValue = "5", description = "Batches per evaluation and per-epoch accuracy (default ${DEFAULT-VALUE}).")
    int evalBatches;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Save a checkpoint every N steps; 0 = at the end and on Ctrl-C (default).")
    int checkpointEvery;
    @Option(names = "--seed", defaultValue = "123", description = "Seed of the split, the head, LoRA and shuffling (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--no-shuffle", description = "Keep the training order fixed.")
    boolean noShuffle;
    @Mixin
    TokenizerOption tokenizer;
    @Option(names = "--log", paramLabel = "FILE", description = "Metrics log, one JSON object per step (default OUT/metrics.jsonl).")
    Path log;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint or a run directory's latest one.")
    Path resume;

    @Override
    public void run() {
        Path checkpoint = null;
        Map<String, Object> resumeState = null;
        if (resume != null) {
            ResumePoint r = ResumePoint.open(spec, resume, "trainable", "lora-rank", "lora-alpha", "lora-scale", "no-head-bias");
            checkpoint = r.checkpoint();
            resumeState = r.state();
            if (out == null) out = r.runDirectory();
        }
        validate();
        if (resume == null) ResumePoint.refuseExistingRun(out);
        Trainable what = parse(() -> Trainable.parse(trainable), "--trainable");
        TokenRule rule = parse(() -> TokenRule.parse(token), "--token");
        LoRA.Scale scaleRule = parse(() -> LoRA.Scale.parse(loraScale), "--lora-scale");
        double rate = lr > 0 ? lr : what == Trainable.LORA && scaleRule == LoRA.Scale.ALPHA_OVER_RANK ? 8e-4 : 5e-5;
        PrintStream err = System.err;

        ClassifierTuning.Settings settings = new ClassifierTuning.Settings(model, what, what == Trainable.LORA ? new LoRA.Settings(loraRank, loraAlpha, scaleRule) : null,
                rule, !noHeadBias, dropout, maxLength, batchSize, !noShuffle, seed);
        ClassifierTuning.Memory memory = new ClassifierTuning.Memory(MemoryRemedy.FINETUNE, checkpointing.on, Runtime.getRuntime().maxMemory());
        try {
            ClassifierTuning.requireMemory(settings, NAMES, memory); // before the data, which may be a download
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        LabelledSplits splits = data.splits(seed);
        Tokenizer tok = tokenizer.load(model);
        ClassifierTuning tuning;
        try {
            tuning = ClassifierTuning.prepare(
                    new ClassifierTuning.Data(splits, data.name(), data.source("train"), data.source("validation"), data.source("test"), data.defaultMaxLength()),
                    tok, settings, NAMES, memory);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        GPTClassifier c = tuning.classifier();
        // a classifier directory keeps the rule its head was trained with
        if (c.tokenRule() != rule && spec.commandLine().getParseResult().hasMatchedOption("--token")) {
            err.println("myllm: note: " + model + " reads --token " + c.tokenRule().id() + "; the classifier keeps its rule");
        }
        checkpointing.apply(c.transformer());
        ClassificationDataset train = tuning.train(), val = tuning.validation(), test = tuning.test();
        List<String> labels = c.labels();
        long total = runLength.total((long) epochs * train.batchesPerEpoch());
        if (checkpoint != null) ResumePoint.requireStepsLeft(resume, ((Number) resumeState.get("step")).longValue(), total, "--steps or --epochs");
        err.printf(Locale.ROOT, "classifier: %s classes %s, %,d of %,d parameters train (%s), token %s, lr %.2g; data: %d / %d / %d examples, length %d, %d batches of %d per epoch; %d steps%n",
                labels.size(), labels, tuning.trainableCount(), c.parameterCount(), what.id(), c.tokenRule().id(), rate,
                train.size(), val.size(), test.size(), c.maxLength(), train.batchesPerEpoch(), batchSize, total);

        Path logFile = log != null ? log : out.resolve("metrics.jsonl");
        ProgressLine progress = new ProgressLine(err, Math.max(1, evalEvery));
        try (MetricsLog metrics = MetricsLog.open(logFile, checkpoint == null ? 0 : ((Number) resumeState.get("step")).longValue())) {
            Trainer t = tuning.trainer(new ClassifierTuning.Training(total, rate, lrSchedule.givenWarmupSteps(), lrSchedule.givenMinLr(),
                            weightDecay, evalEvery, evalBatches, checkpointEvery),
                            tokenizer.toKeep(model, tok, c.config().vocabSize()), metrics, out)
                    .commandOptions(SavedOptions.collect(spec))
                    .plot(out.resolve("accuracy.png"), AccuracyPlot::write)
                    .listener(progress.andThen(new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.StepReport r) {
                            if (!r.metrics().isEmpty()) {
                                err.printf(Locale.ROOT, "epoch %d: training accuracy %.2f%% | validation accuracy %.2f%%%n", r.epoch(),
                                        100 * r.metrics().getOrDefault("train_accuracy", Double.NaN),
                                        100 * r.metrics().getOrDefault("val_accuracy", Double.NaN));
                            }
                        }

                        @Override
                        public void onInterrupted(Path last, long step) {
                            // said here, while the JVM waits: after run() returns it may exit before the report is printed
                            saySaved(err, last, logFile);
                            String stopped = ResumePoint.stoppedLine(spec, step, total, "interrupted", out);
                            if (stopped != null) err.println(stopped);
                            err.flush();
                        }
                    }));
            TimeBudget budget = runLength.start(t, Long.MAX_VALUE);
            progress.until(budget.end(Long.MAX_VALUE));
            if (checkpoint != null) ResumePoint.resume(t, checkpoint);
            Path last = t.run();
            if (t.interrupted()) return; // (said by onInterrupted; the accuracies would take longer than the JVM waits)
            c.eval();
            err.printf(Locale.ROOT, "accuracy: training %s, validation %s, test %s%n", pct(c, train.first(0)), pct(c, val.all()), pct(c, test.all()));
            saySaved(err, last, logFile);
            String stopped = budget.stopLine(spec, t.step(), total, out);
            if (stopped != null) err.println(stopped);
        }
    }

    private void saySaved(PrintStream err, Path last, Path logFile) {
        // the accuracy plot is drawn at an epoch's end: a run of fewer steps has none to name
        Path accuracy = out.resolve("accuracy.png");
        err.printf("saved: %s (checkpoint), %s (model), %s, %s%s%n", last, out.resolve("model"), logFile, out.resolve("loss.png"),
                java.nio.file.Files.exists(accuracy) ? ", " + accuracy : "");
    }

    private static String pct(GPTClassifier c, List<dev.myllm.data.Batch> batches) {
        long n = batches.stream().mapToLong(dev.myllm.data.Batch::rows).sum();
        double a = ClassificationObjective.accuracy(c, batches, 0);
        return String.format(Locale.ROOT, "%.2f%% (%d/%d)", 100 * a, Math.round(a * n), n);
    }

    private interface Parse<T> {
        T get();
    }

    private static <T> T parse(Parse<T> p, String option) {
        try {
            return p.get();
        } catch (IllegalArgumentException e) {
            throw new CliException(option + ": " + e.getMessage());
        }
    }

    private void validate() {
        if (model == null) throw new CliException("--model is required (a GPT model directory or a classifier directory)");
        // checked before the data, which may be a download
        ModelDirectories.requireModel(model);
        if (out == null) throw new CliException("--out is required");
        OutputPaths.directory("--out", out);
        if (log != null) OutputPaths.file("--log", log, "metrics log");
        if (epochs < 1) throw new CliException("--epochs must be >= 1, got " + epochs);
        runLength.check(spec);
        if (batchSize < 1) throw new CliException("--batch-size must be >= 1, got " + batchSize);
        if (maxLength < 0) throw new CliException("--max-length must be >= 1, got " + maxLength);
        GivenOptions.positive(spec, "--max-length", maxLength); // 0 is its default's sentinel, not a length
        GivenOptions.positive(spec, "--lr", lr); // -1, its default, means the book's rate for the --trainable kind
        lrSchedule.check(spec);
        if (weightDecay < 0) throw new CliException("--weight-decay must be >= 0, got " + weightDecay);
        if (!(dropout >= 0 && dropout < 1)) throw new CliException("--dropout must be in [0, 1), got " + dropout);
        if (evalEvery < 0 || evalBatches < 0) throw new CliException("--eval-every and --eval-batches must be >= 0");
        if (checkpointEvery < 0) throw new CliException("--checkpoint-every must be >= 0, got " + checkpointEvery);
        if (loraRank < 1) throw new CliException("--lora-rank must be >= 1, got " + loraRank);
        if (!(loraAlpha > 0)) throw new CliException("--lora-alpha must be positive, got " + loraAlpha);
    }
}
