package dev.myllm.cli;

import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.finetune.Trainable;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.Deadline;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.ModelStore;
import dev.myllm.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What {@code finetune instruct} and {@code finetune dpo} share: the model, the data and its split,
 * the prompt format, and the run (the shared {@link Trainer}, checkpoints, metrics, exact resume).
 */
abstract class InstructTraining implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR|FILE", description = "The model to start from: a model directory, a GPT-2 GGUF file "
            + "(weights upcast to float32, its tokenizer used) or an llm.c checkpoint (.bin).")
    Path model;
    @Option(names = "--data", paramLabel = "NAME|FILE", description = "instructions, preferences, synthetic, or a JSON/JSONL file; split as the book (85%% train, 10%% test, rest val).")
    String data;
    @Option(names = "--train", paramLabel = "FILE", description = "Training records (with --val and --test instead of --data).")
    Path trainFile;
    @Option(names = "--val", paramLabel = "FILE", description = "Validation records.")
    Path valFile;
    @Option(names = "--test", paramLabel = "FILE", description = "Test records (counted only).")
    Path testFile;
    @Option(names = "--out", paramLabel = "DIR", description = "Run directory: checkpoints, model/, metrics.jsonl, loss.png.")
    Path out;
    @Mixin
    PromptFormatOption format;
    @Option(names = "--trainable", defaultValue = "all", description = "What trains: all (the book), last-block or last-two-blocks (with the final LayerNorm; the tied embedding stays frozen), "
            + "or lora (adapters on every linear map of the blocks; model/ gets them merged) (default ${DEFAULT-VALUE}).")
    String trainable;
    @Option(names = "--lora-rank", paramLabel = "R", description = "LoRA rank r with --trainable lora (default 16).")
    Integer loraRank;
    @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA alpha with --trainable lora; the update is scaled by alpha/rank (default 16).")
    Double loraAlpha;
    @Option(names = "--lora-scale", paramLabel = "RULE", description = "LoRA update factor with --trainable lora: alpha/rank (current book, PEFT) or alpha (printed book) (default alpha/rank).")
    String loraScale;
    @Option(names = "--max-length", defaultValue = "1024", paramLabel = "N", description = "Cut each batch to N tokens (and to the model's context), default ${DEFAULT-VALUE}.")
    int maxLength;
    @Option(names = "--batch-size", defaultValue = "8", description = "Records per batch (default ${DEFAULT-VALUE}).")
    int batchSize;
    @CommandLine.Mixin
    ActivationCheckpointing checkpointing;
    @Option(names = "--dropout", defaultValue = "0.0", description = "Dropout rate while fine-tuning (default ${DEFAULT-VALUE}, the book's).")
    float dropout;
    @Option(names = "--eval-every", defaultValue = "5", description = "Evaluate after steps 1, 1+N, 1+2N, ... (the book's steps 0, N, ...; default ${DEFAULT-VALUE}).")
    int evalEvery;
    @Option(names = "--eval-batches", defaultValue = "5", description = "Batches per evaluation (default ${DEFAULT-VALUE}).")
    int evalBatches;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Save a checkpoint every N steps; 0 = at the end and on Ctrl-C (default).")
    int checkpointEvery;
    @Mixin
    TrainingLength runLength;
    @Mixin
    ScheduleOptions lrSchedule;
    @Option(names = "--seed", defaultValue = "123", description = "Seed of the shuffling (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--no-shuffle", description = "Keep the training order fixed.")
    boolean noShuffle;
    @Option(names = "--synthetic-size", defaultValue = "" + InstructionDatasets.SYNTHETIC_SIZE, description = "Records of --data synthetic before the split (default ${DEFAULT-VALUE}).")
    int syntheticSize;
    @Option(names = "--synthetic-seed", defaultValue = "123", description = "Seed of --data synthetic (default ${DEFAULT-VALUE}).")
    long syntheticSeed;
    @Mixin
    TokenizerOption tokenizer;
    @Option(names = "--log", paramLabel = "FILE", description = "Metrics log, one JSON object per step (default OUT/metrics.jsonl).")
    Path log;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint or a run directory's latest one.")
    Path resume;

    Path checkpoint;
    long resumedStep; // the checkpoint's step, with --resume
    final PrintStream err = System.err;
    /** Where --minutes cut the run short, said last; null when it was not. */
    private String stopLine;

    abstract int epochs();

    /** What the command tunes for, as its memory estimate counts it. */
    abstract FineTuningMemory.Kind kind();

    abstract double lr();

    abstract double weightDecay();

    /** Reads {@code --resume}'s options and checks the common ones. */
    void prepare() {
        if (resume != null) {
            ResumePoint r = ResumePoint.open(spec, resume, "trainable", "lora-rank", "lora-alpha", "lora-scale");
            checkpoint = r.checkpoint();
            resumedStep = r.step();
            if (out == null) out = r.runDirectory();
        }
        if (model == null) throw new CliException("--model is required");
        ModelDirectories.requireModel(model);
        if (out == null) throw new CliException("--out is required");
        OutputPaths.directory("--out", out);
        if (log != null) OutputPaths.file("--log", log, "metrics log");
        if (resume == null) ResumePoint.refuseExistingRun(out);
        if ((data == null) == (trainFile == null)) throw new CliException("give --data, or --train with --val (and optionally --test)");
        if (trainFile != null && valFile == null) throw new CliException("--train needs --val");
        if (epochs() < 1) throw new CliException("--epochs must be >= 1, got " + epochs());
        if (batchSize < 1) throw new CliException("--batch-size must be >= 1, got " + batchSize);
        if (maxLength < 2) throw new CliException("--max-length must be >= 2, got " + maxLength);
        if (!(lr() > 0)) throw new CliException("--lr must be positive, got " + lr());
        if (weightDecay() < 0) throw new CliException("--weight-decay must be >= 0, got " + weightDecay());
        if (!(dropout >= 0 && dropout < 1)) throw new CliException("--dropout must be in [0, 1), got " + dropout);
        if (evalEvery < 0 || evalBatches < 0) throw new CliException("--eval-every and --eval-batches must be >= 0");
        if (checkpointEvery < 0) throw new CliException("--checkpoint-every must be >= 0, got " + checkpointEvery);
        runLength.check(spec);
        lrSchedule.check(spec);
        if ((loraRank != null || loraAlpha != null || loraScale != null) && !trainable.equals("lora")) {
            throw new CliException("--lora-rank, --lora-alpha and --lora-scale need --trainable lora");
        }
        if (loraScale != null) loraScaleRule();
        if (loraRank != null && loraRank < 1) throw new CliException("--lora-rank must be >= 1, got " + loraRank);
        if (loraAlpha != null && !(loraAlpha > 0)) throw new CliException("--lora-alpha must be positive, got " + loraAlpha);
        requireMemory(0); // before the data and the weights are read
    }

    /**
     * Refuses, as {@code train} does, a run that cannot fit the Java heap: {@code length} 0 before the data is read (the
     * weights, their gradients and AdamW state), else with batches of that many tokens.
     */
    void requireMemory(int length) {
        String refusal = FineTuningMemory.refusal(ModelDirectories.readConfig(model).withDropRate(dropout), kind(), trainableChoice(), batchSize, length,
                checkpointing.on, Runtime.getRuntime().maxMemory(), MemoryRemedy.FINETUNE);
        if (refusal != null) throw new CliException(refusal);
    }

    /** The run's length as the header line says it: the epochs, or the steps of {@code --steps}. */
    String length() {
        return runLength.steps > 0 ? runLength.steps + " steps" : epochs() + (epochs() == 1 ? " epoch" : " epochs");
    }

    /** The train/val/test records: the book's split of {@code --data}, or the three files. */
    InstructionData.Split split() {
        try {
            if (data != null) return InstructionData.bookSplit(InstructionDatasets.standard().load(data, syntheticSize, syntheticSeed));
            return new InstructionData.Split(InstructionData.read(trainFile), InstructionData.read(valFile),
                    testFile == null ? List.<InstructionExample>of() : InstructionData.read(testFile));
        } catch (IllegalArgumentException e) {
            throw new CliException((data != null ? "--data: " : "") + e.getMessage());
        }
    }

    /** The training split made no batch: {@code records} of them; no records at all is not a matter of --batch-size. */
    CliException noTrainingBatch(int records) {
        // the book's split keeps 85% of few records for training, which may be none
        return new CliException(source("train") + (records == 0 ? ": no training records; give more records"
                : ": " + records + " records make no batch of " + batchSize + "; lower --batch-size"));
    }

    String source(String part) {
        return data != null ? data + " (" + part + ")" : switch (part) {
            case "train" -> trainFile.toString();
            case "val" -> valFile.toString();
            default -> String.valueOf(testFile);
        };
    }

    PromptFormat promptFormat() {
        PromptFormat given = format.given();
        try {
            return SavedFormat.orBook(model, given); // an unreadable side file of the model is reported here too
        } catch (IllegalArgumentException e) {
            throw new CliException("--format: " + e.getMessage());
        }
    }

    Tokenizer tokenizer() {
        return tokenizer.load(model);
    }

    /** The model directory's GPT, with this run's dropout. */
    GPTModel loadModel() {
        return ModelDirectories.load(model, ModelDirectories.readConfig(model).withDropRate(dropout));
    }

    /**
     * With {@code --trainable lora}, freezes {@code m} and attaches adapters (drawn from seed + 1);
     * else null. Call before the first forward pass.
     */
    LoRAModel attachLoRA(GPTModel m) {
        if (!trainable.equals("lora")) return null;
        return LoRAModel.attach(m, new LoRA.Settings(loraRank == null ? 16 : loraRank, loraAlpha == null ? 16 : loraAlpha, loraScaleRule()), seed);
    }

    /** {@code --lora-scale}'s rule, alpha/rank when not given. */
    private LoRA.Scale loraScaleRule() {
        try {
            return loraScale == null ? LoRA.Scale.ALPHA_OVER_RANK : LoRA.Scale.parse(loraScale);
        } catch (IllegalArgumentException e) {
            throw new CliException("--lora-scale: " + e.getMessage());
        }
    }

    /** Freezes all but the chosen part of the model (before the optimizer is made, so frozen tensors get no state). */
    void freeze(GPTModel m) {
        trainableChoice().apply(m);
    }

    /** {@code --trainable}'s choice. */
    private Trainable trainableChoice() {
        return switch (trainable) {
            case "all" -> Trainable.ALL;
            case "last-block" -> Trainable.LAST_BLOCK;
            case "last-two-blocks" -> Trainable.LAST_TWO_BLOCKS;
            case "lora" -> Trainable.LORA;
            default -> throw new CliException("--trainable: unknown '" + trainable + "'; choose all, last-block, last-two-blocks or lora");
        };
    }

    /** Saves the model with its tokenizer and the prompt format; resuming a LoRA run reads the frozen weights from {@code --model}. */
    ModelStore store(GPTModel m, LoRAModel lora, PromptFormat f) {
        return new InstructStore(m, lora, tokenizer.toKeep(model, tokenizer(), m.config().vocabSize()), f, model, "--trainable lora");
    }

    private void saySaved(Path last, Path logFile) {
        err.printf(Locale.ROOT, "saved: %s (checkpoint), %s (model), %s, %s%n", last, out.resolve("model"), logFile, out.resolve("loss.png"));
    }

    /** Ends a command's report: where --minutes cut the run short and how to continue it, if it did. */
    void sayWhereItStopped() {
        if (stopLine != null) err.println(stopLine);
    }

    /** Makes a command's trainer once the model is frozen: {@link FineTuning#trainer} on the command's data and objective. */
    interface Assembly {
        Trainer trainer(ModelStore store, FineTuning.Settings settings);
    }

    /**
     * Runs the shared loop with the book's AdamW (decay on every tensor; a constant rate unless
     * {@code --warmup-steps}/{@code --min-lr} ask for warmup + cosine) and returns the last checkpoint.
     */
    Path train(GPTModel m, LoRAModel lora, PromptFormat f, int batchesPerEpoch, Assembly assembly, Consumer<Trainer.StepReport> onStep) {
        long total = runLength.total((long) epochs() * batchesPerEpoch);
        if (checkpoint != null) ResumePoint.requireStepsLeft(resume, resumedStep, total, "--steps or --epochs");
        freeze(m);
        checkpointing.apply(m);
        ModelStore store = store(m, lora, f);
        Path logFile = log != null ? log : out.resolve("metrics.jsonl");
        ProgressLine progress = new ProgressLine(err, Math.max(1, evalEvery));
        try (MetricsLog metrics = MetricsLog.open(logFile, resumedStep)) {
            LrSchedule schedule = FineTuning.schedule(lr(), lrSchedule.givenWarmupSteps(), lrSchedule.givenMinLr(), total);
            Trainer t = assembly.trainer(store, new FineTuning.Settings(schedule, weightDecay(), total, evalEvery, checkpointEvery))
                    .commandOptions(SavedOptions.collect(spec))
                    .metrics(metrics, out.resolve("loss.png"))
                    .listener(progress.andThen(new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.StepReport r) {
                            onStep.accept(r);
                        }

                        @Override
                        public void onInterrupted(Path last, long step) {
                            // said here, while the JVM waits: after run() returns it may exit before the report is printed
                            saySaved(last, logFile);
                            String stopped = ResumePoint.stoppedLine(spec, step, total, "interrupted", out);
                            if (stopped != null) err.println(stopped);
                        }
                    }));
            TimeBudget budget = runLength.start(t, Deadline.NONE);
            progress.until(budget.end(Deadline.NONE));
            if (checkpoint != null) ResumePoint.resume(t, checkpoint);
            Path last = t.run();
            if (!t.interrupted()) {
                saySaved(last, logFile);
                stopLine = budget.stopLine(spec, t.step(), total, out);
            }
            return last;
        }
    }
}
