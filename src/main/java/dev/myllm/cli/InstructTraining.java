package dev.myllm.cli;

import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.ModelStore;
import dev.myllm.train.Objective;
import dev.myllm.train.BatchSource;
import dev.myllm.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What {@code finetune instruct} and {@code finetune dpo} share: the model, the data and its split,
 * the prompt format, and the run (the shared {@link Trainer}, checkpoints, metrics, exact resume).
 */
abstract class InstructTraining implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "The model directory to start from.")
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
    @Option(names = "--format", paramLabel = "alpaca|phi3", description = "Prompt format (default: the model's saved one, else alpaca).")
    String format;
    @Option(names = "--trainable", defaultValue = "all", description = "What trains: all (the book), last-block or last-two-blocks (with the final LayerNorm; the tied embedding stays frozen) (default ${DEFAULT-VALUE}).")
    String trainable;
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
    @Option(names = "--minutes", defaultValue = "0", description = "Stop (saving) after this much training time; 0 = no limit (default).")
    double minutes;
    @Option(names = "--seed", defaultValue = "123", description = "Seed of the shuffling (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--no-shuffle", description = "Keep the training order fixed.")
    boolean noShuffle;
    @Option(names = "--synthetic-size", defaultValue = "" + InstructionDatasets.SYNTHETIC_SIZE, description = "Records of --data synthetic before the split (default ${DEFAULT-VALUE}).")
    int syntheticSize;
    @Option(names = "--synthetic-seed", defaultValue = "123", description = "Seed of --data synthetic (default ${DEFAULT-VALUE}).")
    long syntheticSeed;
    @Option(names = "--tokenizer", paramLabel = "SPEC", description = "Tokenizer (default: the one saved beside the model, else gpt2).")
    String tokenizer;
    @Option(names = "--log", paramLabel = "FILE", description = "Metrics log, one JSON object per step (default OUT/metrics.jsonl).")
    Path log;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint or a run directory's latest one.")
    Path resume;

    Path checkpoint;
    Map<String, Object> resumeState;
    final PrintStream err = System.err;

    abstract int epochs();

    abstract double lr();

    abstract double weightDecay();

    /** Reads {@code --resume}'s options and checks the common ones. */
    void prepare() {
        if (resume != null) {
            ResumePoint r = ResumePoint.open(spec, resume);
            checkpoint = r.checkpoint();
            resumeState = r.state();
            if (out == null) out = r.runDirectory();
        }
        if (model == null) throw new CliException("--model is required");
        if (!Files.isDirectory(model)) throw new CliException("--model: no such directory: " + model);
        if (out == null) throw new CliException("--out is required");
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
        if (minutes < 0) throw new CliException("--minutes must be >= 0, got " + minutes);
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

    String source(String part) {
        return data != null ? data + " (" + part + ")" : switch (part) {
            case "train" -> trainFile.toString();
            case "val" -> valFile.toString();
            default -> String.valueOf(testFile);
        };
    }

    PromptFormat promptFormat() {
        try {
            if (format != null) return PromptFormat.parse(format);
            PromptFormat saved = SavedFormat.read(model);
            return saved != null ? saved : PromptFormat.ALPACA;
        } catch (IllegalArgumentException e) {
            throw new CliException("--format: " + e.getMessage());
        }
    }

    Tokenizer tokenizer() {
        return Classifiers.tokenizer(model, tokenizer);
    }

    /** The model directory's GPT, with this run's dropout. */
    GPTModel loadModel() {
        try {
            GPTConfig cfg = ModelDirectory.readConfig(model).withDropRate(dropout);
            return ModelDirectory.load(model, cfg);
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
    }

    /** Freezes all but the chosen part of the model (before the optimizer is made, so frozen tensors get no state). */
    void freeze(GPTModel m) {
        int n = m.config().nLayers();
        int keep = switch (trainable) {
            case "all" -> n;
            case "last-block" -> 1;
            case "last-two-blocks" -> 2;
            default -> throw new CliException("--trainable: unknown '" + trainable + "'; choose all, last-block or last-two-blocks");
        };
        if (keep == n) return;
        m.setTrainable(false);
        for (int i = Math.max(0, n - keep); i < n; i++) m.block(i).setTrainable(true);
        m.finalNorm().setTrainable(true);
    }

    /** The pad and end-of-text id, checked against the model. */
    int padId(Tokenizer tok, GPTModel m) {
        int pad = tok.eotId();
        if (pad < 0) throw new CliException("tokenizer " + tok.name() + " has no <|endoftext|> to end answers and pad with");
        if (pad >= m.config().vocabSize()) throw new CliException("the end-of-text id " + pad + " is outside the model's vocabulary of " + m.config().vocabSize());
        return pad;
    }

    /** Saves the model with its tokenizer and the prompt format. */
    ModelStore store(GPTModel m, PromptFormat f) {
        GptModelStore base = new GptModelStore(m, Classifiers.tokenizerFile(model, tokenizer));
        return new ModelStore() {
            @Override
            public void save(Path dir) {
                base.save(dir);
                SavedFormat.write(dir, f);
            }

            @Override
            public void load(Path dir) {
                base.load(dir);
            }
        };
    }

    /** Runs the shared loop with the book's constant-rate AdamW (decay on every tensor) and returns the last checkpoint. */
    Path train(GPTModel m, Objective objective, ModelStore store, BatchSource train, List<dev.myllm.data.Batch> val,
               List<dev.myllm.data.Batch> trainEval, java.util.function.LongFunction<String> sampler, boolean metricsAtEval,
               Consumer<Trainer.StepReport> onStep) {
        long total = (long) epochs() * train.batchesPerEpoch();
        freeze(m);
        checkpointing.apply(m);
        AdamW opt = new AdamW(m.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, weightDecay(), AdamW.Decay.ALL));
        Path logFile = log != null ? log : out.resolve("metrics.jsonl");
        ProgressLine progress = new ProgressLine(err, Math.max(1, evalEvery));
        try (MetricsLog metrics = MetricsLog.open(logFile, checkpoint == null ? 0 : ((Number) resumeState.get("step")).longValue())) {
            Trainer t = new Trainer(m, objective, store, opt, new LrSchedule.Constant(lr()), train,
                    new Trainer.Options(total, 1, 0, evalEvery, evalBatches, sampler == null ? -1 : 0, checkpointEvery, 2), out)
                    .evaluation(val, trainEval)
                    .evalRule(Trainer.EvalRule.BOOK)
                    .rng("dropout", m.dropoutRng())
                    .commandOptions(SavedOptions.collect(spec))
                    .metrics(metrics, out.resolve("loss.png"))
                    .listener(new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.StepReport r) {
                            progress.onStep(r);
                            onStep.accept(r);
                        }

                        @Override
                        public void onSample(long step, String text) {
                            progress.onSample(step, text);
                        }

                        @Override
                        public void onCheckpoint(Path dir) {
                            progress.onCheckpoint(dir);
                        }
                    });
            if (sampler != null) t.sampler(sampler);
            if (metricsAtEval) t.metricsAtEvaluation();
            if (minutes > 0) t.stopAt(System.nanoTime() + (long) (minutes * 60e9));
            if (checkpoint != null) {
                try {
                    t.resume(checkpoint);
                } catch (IllegalArgumentException e) {
                    throw new CliException("--resume: " + e.getMessage());
                }
            }
            Path last = t.run();
            err.printf(Locale.ROOT, "saved: %s (checkpoint), %s (model), %s, %s%n", last, out.resolve("model"), logFile, out.resolve("loss.png"));
            return last;
        }
    }
}
