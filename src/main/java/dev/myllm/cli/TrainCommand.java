package dev.myllm.cli;

import dev.myllm.data.Splits;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.ModelFiles;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.TorchGenerator;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.MemoryEstimate;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenWindows;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code myllm train}: pretrains a GPT on a corpus, with evaluation, samples, checkpoints and exact resume. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Pretrain a GPT (chapter 5, appendix D). With --resume DIR the saved options are the defaults.")
final class TrainCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", arity = "1..*", paramLabel = "SPEC", description = "Training corpus: files, folders, globs, .bin, or a dataset (austen, verdict, tinyshakespeare).")
    List<String> data = new ArrayList<>();
    @Option(names = "--preset", paramLabel = "NAME", description = "Model shape with fresh weights: gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, gpt2-tiny, gpt2-mini, book-124m, book-124m-256.")
    String preset;
    @Option(names = "--n-layer", defaultValue = "0", description = "Override the preset's number of layers.")
    int nLayer;
    @Option(names = "--n-embd", defaultValue = "0", description = "Override the preset's embedding width.")
    int nEmbd;
    @Option(names = "--n-head", defaultValue = "0", description = "Override the preset's number of heads.")
    int nHead;
    @Option(names = "--init", paramLabel = "book|gpt2|MODEL", description = "With --preset: book (PyTorch's initialisation from its generator, the book-* presets' default) "
            + "or gpt2 (N(0, 0.02), the others' default). Alone: start from a model directory (config.json + model.safetensors), a GGUF file or an llm.c checkpoint.")
    Path init;
    @Option(names = "--split", defaultValue = "tokens", paramLabel = "tokens|chars",
            description = "Hold out the last --val-fraction of the tokens, or of the characters as the book does (book-* presets: chars).")
    String split;
    @Option(names = "--out", paramLabel = "DIR", description = "Run directory: checkpoints, model/, metrics.jsonl, loss.png.")
    Path out;
    @Option(names = "--val-data", arity = "1..*", paramLabel = "SPEC", description = "Validation corpus (default: the last --val-fraction of the training tokens).")
    List<String> valData = new ArrayList<>();
    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Share of the tokens held out for validation (default ${DEFAULT-VALUE}).")
    double valFraction;
    @Option(names = "--replace-invalid", description = "Decode invalid UTF-8 as U+FFFD instead of failing (as data prepare and tokenize).")
    boolean replaceInvalid;
    @Option(names = {"-t", "--tokenizer"}, paramLabel = "gpt2|simple|PATH",
            description = "Tokenizer: gpt2, simple (the book's regex tokenizer), a vocabulary file or a GGUF file's; default: the --init model's own "
                    + "(its myllm-tokenizer.json, else its Hugging Face tokenizer.json, or a GGUF file's embedded one), else gpt2.")
    String tokenizer;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per micro-batch (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--context-length", defaultValue = "0", description = "Tokens per sequence (default: the model's context length).")
    int contextLength;
    @Option(names = "--stride", defaultValue = "0", description = "Distance between window starts (default: the context length).")
    int stride;
    @Option(names = "--epochs", defaultValue = "1", description = "Passes over the training data (default ${DEFAULT-VALUE}); ignored with --steps.")
    int epochs;
    @CommandLine.Mixin
    TrainingLength runLength;
    @Option(names = "--lr", defaultValue = "4e-4", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @CommandLine.Mixin
    ScheduleOptions lrSchedule;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--decay", defaultValue = "matrices", description = "Which parameters decay: matrices (nanoGPT) or all (the book) (default ${DEFAULT-VALUE}).")
    String decay;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Clip gradients to this global norm; 0 = off (default ${DEFAULT-VALUE}).")
    double gradClip;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default ${DEFAULT-VALUE}).")
    int gradAccum;
    @CommandLine.Mixin
    ActivationCheckpointing checkpointing;
    @Option(names = "--dropout", defaultValue = "-1", description = "Dropout rate (default: the preset's, or the --init model's config.json's; 0 from a GGUF file or llm.c checkpoint, which store none).")
    float dropout;
    @Option(names = "--tie-weights", negatable = true, description = "Share the output head with the token embedding (default: the preset's).")
    Boolean tieWeights;

    /** The spelling info and generate used to have, kept working. */
    @Option(names = "--tied-head", negatable = true, hidden = true)
    void tiedHeadAlias(Boolean on) {
        if (on == null) return; // picocli resets options with null before each parse
        tieWeights = on;
    }
    @Option(names = "--qkv-bias", negatable = true, description = "Bias in the query/key/value projection (default: the preset's).")
    Boolean qkvBias;
    @Option(names = "--eval-every", defaultValue = "50", description = "Evaluate every N steps; 0 = only at the end (default ${DEFAULT-VALUE}).")
    int evalEvery;
    @Option(names = "--eval-batches", defaultValue = "10", description = "Batches per evaluation; 0 = all (default ${DEFAULT-VALUE}).")
    int evalBatches;
    @Option(names = "--sample-every", defaultValue = "0", description = "Print a sample every N steps; 0 = after each epoch, -1 = never.")
    int sampleEvery;
    @Option(names = "--sample-prompt", defaultValue = "Every effort moves you", description = "Prompt of the samples (default '${DEFAULT-VALUE}').")
    String samplePrompt;
    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Save a checkpoint every N steps; 0 = only at the end and on Ctrl-C.")
    int checkpointEvery;
    @Option(names = "--seed", defaultValue = "123", description = "Seed of weights, shuffling and dropout (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--log", paramLabel = "FILE", description = "Metrics log, one JSON object per step (default OUT/metrics.jsonl).")
    Path log;
    @Option(names = "--plot", paramLabel = "FILE", description = "Loss plot PNG (default OUT/loss.png).")
    Path plot;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint or a run directory's latest one.")
    Path resume;

    /** The model --init starts from (null with --init book|gpt2). */
    private Path initModel;

    /** Set by the demo: stop (and save) once this much wall time has passed. */
    long deadlineNanos = Long.MAX_VALUE;
    /** What a finished run left behind, for the demo. */
    GPTModel trainedModel;
    Tokenizer trainedTokenizer;
    double finalValLoss = Double.NaN, firstValLoss = Double.NaN;

    @Override
    public void run() {
        long resumedStep = 0;
        Path checkpoint = null;
        if (resume != null) {
            // --n-layer, --n-embd, ... are checked against the checkpoint's model (requireResumedShape): saved as 0, the preset decided them
            ResumePoint r = ResumePoint.open(spec, resume, "preset", "init");
            checkpoint = r.checkpoint();
            resumedStep = r.step();
            if (out == null) out = r.runDirectory();
            // a trained vocabulary travels with the checkpoint; the saved path may be relative to
            // another directory or gone
            Path own = dev.myllm.io.ModelTokenizer.file(checkpoint);
            if (!spec.commandLine().getParseResult().hasMatchedOption("--tokenizer") && own != null) {
                tokenizer = own.toString();
            }
        }
        if (resume == null && GPTConfig.isBookPreset(preset)) BookRun.applyDefaults(this, spec.commandLine().getParseResult());
        String scheme = initScheme();
        initModel = scheme == null ? init : null;
        validate(checkpoint != null);
        if (resume == null) ResumePoint.refuseExistingRun(out);
        // the --init model's own vocabulary unless --tokenizer names one, as --model's in generate and finetune; a resumed run
        // never reads the --init model (it may be gone): its checkpoint holds the weights, config.json and any vocabulary but GPT-2's
        Path tokenizerModel = checkpoint == null ? initModel : null;
        TokenizerOption tokenizerRule = TokenizerOption.of(tokenizer, "--init");
        Tokenizer tok = tokenizerRule.load(tokenizerModel);
        GPTConfig cfg = modelConfig(tok, checkpoint);
        if (checkpoint != null) requireResumedShape(checkpoint, cfg, tok);
        int ctx = contextLength > 0 ? contextLength : Math.min(cfg.contextLength(), 256);
        if (ctx > cfg.contextLength()) throw new CliException("--context-length " + ctx + " exceeds the model's context length " + cfg.contextLength());
        MemoryEstimate memory = MemoryEstimate.training(cfg, batchSize, ctx, checkpointing.on);
        long heap = Runtime.getRuntime().maxMemory();
        String refusal = memory.refusal(batchSize, ctx, heap, MemoryRemedy.of(true));
        if (refusal != null) throw new CliException(refusal);
        int[] trainTokens, valTokens;
        CorpusInput corpus = new CorpusInput("--data", replaceInvalid);
        if (valData.isEmpty() && valFraction == 0) {
            trainTokens = corpus.tokens(data, tok); // no validation
            valTokens = new int[0];
        } else if (valData.isEmpty() && split.equals("chars")) {
            Splits.Pair<String> parts = Splits.text(String.join(tok.eotId() >= 0 ? "<|endoftext|>" : "", corpus.texts(data)), 1 - valFraction);
            trainTokens = tok.encode(parts.train(), Specials.ALLOW);
            valTokens = tok.encode(parts.validation(), Specials.ALLOW);
        } else if (valData.isEmpty()) {
            int[] tokens = corpus.tokens(data, tok);
            Splits.Pair<int[]> parts = Splits.tokens(tokens, 1 - valFraction);
            trainTokens = parts.train();
            valTokens = parts.validation();
        } else {
            trainTokens = corpus.tokens(data, tok);
            valTokens = new CorpusInput("--val-data", replaceInvalid).tokens(valData, tok);
        }
        // (after the data is read: a mistyped --data is then its one line alone)
        System.err.println("memory: " + memory.describe() + "; heap " + dev.myllm.util.ByteSizes.of(heap));
        boolean book = "book".equals(scheme) || (scheme == null && GPTConfig.isBookPreset(preset));
        TorchGenerator torch = book ? new TorchGenerator(seed) : null; // the book's global generator: weights, then loaders and dropout
        TokenWindows train = new TokenWindows(trainTokens, batchSize, ctx, stride > 0 ? stride : ctx, true, seed);
        TokenWindows val = new TokenWindows(valTokens, batchSize, ctx, ctx, false, 0, false);
        if (book) {
            train.torchOrder(torch);
            val.torchOrder(torch);
        }
        if (train.batchesPerEpoch() < 1) {
            throw new CliException("the training data (" + trainTokens.length + " tokens) makes no batch of " + batchSize + " × " + ctx
                    + "; lower --batch-size or --context-length");
        }
        if (val.batchesPerEpoch() < 1 && valFraction > 0) {
            System.err.println("myllm: note: the validation data (" + valTokens.length + " tokens) is shorter than one window of "
                    + ctx + " + 1 tokens; no validation loss will be reported");
        }
        long total = runLength.total(Math.max(1, (long) epochs * (train.batchesPerEpoch() / gradAccum)));
        if (checkpoint != null) ResumePoint.requireStepsLeft(resume, resumedStep, total, "--steps or --epochs");

        GPTModel model = checkpointing.apply(book ? new GPTModel(cfg, torch) : new GPTModel(cfg, seed));
        if (initModel != null && checkpoint == null) {
            try {
                model.loadStateDict(ModelDirectory.load(initModel, cfg).namedParameters());
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new CliException("--init " + Errors.oneLine(e)); // what the header check cannot see
            }
        }
        AdamW opt = new AdamW(model.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, weightDecay,
                decay.equals("all") ? AdamW.Decay.ALL : AdamW.Decay.MATRICES));
        // over this run's total: a --resume with a larger --steps lays the warmup and cosine out again over the new length
        LrSchedule schedule = LrSchedule.forRun(lr, lrSchedule.minLr, lrSchedule.warmupSteps, total);
        PrintStream err = System.err; // progress and notes; stdout stays free for results
        err.printf("model: %,d parameters (%d layers, %d heads, width %d, context %d, vocab %d); data: %,d training and %,d validation tokens, %d batches of %d × %d per epoch; %,d steps%n",
                model.parameterCount(), cfg.nLayers(), cfg.nHeads(), cfg.embDim(), cfg.contextLength(), cfg.vocabSize(),
                trainTokens.length, valTokens.length, train.batchesPerEpoch(), batchSize, ctx, total);
        Path logFile = log != null ? log : out.resolve("metrics.jsonl");
        Path plotFile = plot != null ? plot : out.resolve("loss.png");
        int[] prompt = tok.encode(samplePrompt, Specials.ALLOW);
        Generator gen = new Generator(model, id -> tok.decodeBytes(new int[]{id}));
        ProgressLine progress = new ProgressLine(err, Math.max(1, evalEvery));
        Trainer[] self = new Trainer[1];
        long[] firstStepEnd = {0};
        // kept beside every saved model, so --resume and generate --model RUN/model read the same ids (a GGUF file's is written out)
        TokenizerCopy kept = tokenizerRule.toKeep(tokenizerModel, tok, cfg.vocabSize());
        try (MetricsLog metrics = MetricsLog.open(logFile, resumedStep)) {
            Trainer t = new Trainer(model, LanguageModel.of(model), new GptModelStore(model, kept), opt, schedule, train,
                    new Trainer.Options(total, gradAccum, gradClip, evalEvery, evalBatches, sampleEvery, checkpointEvery, 2), out)
                    .rng("dropout", model.dropoutRng())
                    .commandOptions(SavedOptions.collect(spec))
                    .metrics(metrics, plotFile)
                    .sampler(step -> samplePrompt + gen.generate(prompt, GenerationConfig.greedy(40).withSampling(1.0f, 25, 1f, seed + step)
                            .withEos(tok.eotId())).text())
                    .listener(progress.andThen(new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.StepReport r) {
                            if (r.step() == 1) firstStepEnd[0] = System.nanoTime();
                            replanForDeadline(self[0], r, schedule, firstStepEnd[0]);
                            if (!Double.isNaN(r.valLoss())) {
                                if (Double.isNaN(firstValLoss)) firstValLoss = r.valLoss();
                                finalValLoss = r.valLoss();
                            }
                        }

                        @Override
                        public void onInterrupted(Path last, long step) {
                            // said here, while the JVM waits: after run() returns it may exit before a word is printed
                            saySaved(err, last, logFile, plotFile);
                            String stopped = ResumePoint.stoppedLine(spec, step, total, "interrupted", out);
                            if (stopped != null) err.println(stopped);
                        }
                    }));
            if (book) {
                // the book's train_model_simple: evaluation after steps 1, 6, 11, ... on loaders iterated anew
                t.evaluation(() -> val.iterate(evalBatches), () -> train.iterate(evalBatches)).evalRule(Trainer.EvalRule.BOOK)
                        .rng("torch", torch).rng("loader", train.orderState());
            } else {
                t.evaluation(val.first(evalBatches), train.first(evalBatches));
            }
            self[0] = t;
            // --minutes counts training time, as in finetune instruct and dpo: from here, after the data is read and the model built
            TimeBudget budget = runLength.start(t, deadlineNanos);
            progress.until(budget.end(deadlineNanos));
            if (checkpoint != null) ResumePoint.resume(t, checkpoint);
            Path last = t.run();
            if (!t.interrupted()) {
                saySaved(err, last, logFile, plotFile);
                String stopped = budget.stopLine(spec, t.step(), total, out);
                if (stopped != null) err.println(stopped);
            }
        }
        trainedModel = model;
        trainedTokenizer = tok;
    }

    private void saySaved(PrintStream err, Path last, Path logFile, Path plotFile) {
        err.printf("saved: %s (checkpoint), %s (model), %s, %s%n", last, out.resolve("model"), logFile, plotFile);
    }

    /**
     * With a deadline (the demo), fits the step count to the real step time: measured over the
     * warmup (after the first step, which includes JIT warm-up and an evaluation) and fixed before
     * the cosine decay starts, so the schedule stays seamless and the run ends near the deadline.
     */
    private void replanForDeadline(Trainer t, Trainer.StepReport r, LrSchedule schedule, long firstStepEnd) {
        if (deadlineNanos == Long.MAX_VALUE || !(schedule instanceof LrSchedule.WarmupCosine wc)) return;
        long at = Math.max(3, Math.min(wc.warmupSteps(), 25));
        if (r.step() != at || resume != null) return;
        long now = System.nanoTime();
        double evalShare = evalEvery > 0 ? 2.0 * Math.max(1, evalBatches) / 3 / evalEvery : 0;
        double perStep = (double) (now - firstStepEnd) / (r.step() - 1) * (1 + evalShare);
        long total = Math.max(wc.warmupSteps() + 1, r.step() + (long) ((deadlineNanos - now) / perStep));
        t.replan(total, new LrSchedule.WarmupCosine(wc.peakLr(), wc.initialLr(), wc.minLr(), wc.warmupSteps(), total));
        System.err.printf(java.util.Locale.ROOT, "%nre-planned for the deadline: %.0f ms per step, %d steps in all%n", perStep / 1e6, total);
    }

    /** book or gpt2 when --init names an initialisation rather than a model to start from. */
    private String initScheme() {
        if (init == null || preset == null) return null;
        String s = init.toString();
        if (s.equals("book") || s.equals("gpt2")) return s;
        throw new CliException("--init with --preset must be book or gpt2, got " + s);
    }

    /** The model's configuration: the preset's with its overrides, the --init model's, or (resumed from one) the checkpoint's. */
    private GPTConfig modelConfig(Tokenizer tok, Path checkpoint) {
        GPTConfig cfg;
        if (initModel != null && checkpoint != null) {
            try {
                cfg = ModelDirectory.readConfig(checkpoint); // the --init model's, with the run's --dropout, --tie-weights, ...
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new CliException("--resume " + Errors.oneLine(e));
            }
        } else if (initModel != null) {
            if (!ModelFiles.isModelFile(initModel) && !Files.isRegularFile(initModel.resolve("config.json"))) throw new CliException("--init: no config.json in " + initModel);
            try {
                cfg = ModelDirectory.check(initModel); // its weights' header too, before the data is read
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new CliException("--init " + Errors.oneLine(e));
            }
        } else {
            try {
                cfg = GPTConfig.preset(preset);
            } catch (IllegalArgumentException e) {
                throw new CliException("--preset: " + e.getMessage());
            }
            if (tok.vocabSize() != cfg.vocabSize()) cfg = cfg.withVocabSize(tok.vocabSize());
            if (nLayer > 0 || nEmbd > 0 || nHead > 0) {
                try {
                    cfg = new GPTConfig(cfg.vocabSize(), cfg.contextLength(), nEmbd > 0 ? nEmbd : cfg.embDim(), nHead > 0 ? nHead : cfg.nHeads(),
                            nLayer > 0 ? nLayer : cfg.nLayers(), cfg.dropRate(), cfg.qkvBias(), cfg.tiedHead(), cfg.layerNormEps());
                } catch (IllegalArgumentException e) {
                    throw new CliException(e.getMessage());
                }
            }
        }
        if (tok.vocabSize() > cfg.vocabSize()) {
            throw new CliException("the tokenizer's vocabulary (" + tok.vocabSize() + ") is larger than the model's (" + cfg.vocabSize() + ")");
        }
        // a fresh model's position table is as long as the training context (nanoGPT's block_size)
        if (contextLength > 0 && initModel == null) cfg = cfg.withContextLength(contextLength);
        if (dropout >= 0) cfg = cfg.withDropRate(dropout);
        if (tieWeights != null) cfg = cfg.withTiedHead(tieWeights);
        if (qkvBias != null) cfg = cfg.withQkvBias(qkvBias);
        return cfg;
    }

    /** Each shape option typed on --resume must give the checkpoint's model: one line naming it and the checkpoint's value. */
    private void requireResumedShape(Path checkpoint, GPTConfig cfg, Tokenizer tok) {
        GPTConfig saved;
        try {
            saved = ModelDirectory.readConfig(checkpoint);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            return; // no readable config.json: loading the checkpoint says what is wrong
        }
        shape("--n-layer", saved.nLayers(), cfg.nLayers());
        shape("--n-embd", saved.embDim(), cfg.embDim());
        shape("--n-head", saved.nHeads(), cfg.nHeads());
        shape("--context-length", saved.contextLength(), cfg.contextLength());
        flag("--tie-weights", saved.tiedHead(), cfg.tiedHead());
        flag("--qkv-bias", saved.qkvBias(), cfg.qkvBias());
        ResumePoint.requireShape(spec, resume, "--tokenizer", saved.vocabSize() == cfg.vocabSize(), "a vocabulary of " + saved.vocabSize() + " tokens",
                "--tokenizer " + tokenizer + ", of " + tok.vocabSize() + " tokens,");
    }

    private void shape(String option, int saved, int asked) {
        ResumePoint.requireShape(spec, resume, option, saved == asked, option + " " + saved, option + " " + asked);
    }

    private void flag(String option, boolean saved, boolean asked) {
        String no = option.replaceFirst("^--", "--no-");
        ResumePoint.requireShape(spec, resume, option, saved == asked, saved ? option : no, asked ? option : no);
    }

    private void validate(boolean resumed) {
        if (data.isEmpty()) throw new CliException("--data is required (files, folders, .bin or a dataset name such as austen)");
        if (out == null) throw new CliException("--out is required");
        OutputPaths.directory("--out", out);
        if (log != null) OutputPaths.file("--log", log, "metrics log");
        if (plot != null) OutputPaths.file("--plot", plot, "loss plot");
        if ((preset == null) == (initModel == null)) throw new CliException("give exactly one of --preset NAME and --init MODEL_DIR");
        if (initModel != null && !resumed && !Files.isDirectory(initModel) && !ModelFiles.isModelFile(initModel)) throw new CliException("--init: no such directory or file: " + initModel);
        if (batchSize < 1) throw new CliException("--batch-size must be >= 1, got " + batchSize);
        if (contextLength < 0) throw new CliException("--context-length must be >= 1, got " + contextLength);
        if (stride < 0) throw new CliException("--stride must be >= 1, got " + stride);
        if (epochs < 1 && runLength.steps <= 0) throw new CliException("--epochs must be >= 1, got " + epochs);
        runLength.check(spec);
        if (!(lr > 0)) throw new CliException("--lr must be positive, got " + lr);
        if (!(valFraction >= 0 && valFraction < 1)) throw new CliException("--val-fraction must be at least 0 and below 1, got " + valFraction);
        if (!split.equals("tokens") && !split.equals("chars")) throw new CliException("--split must be tokens or chars, got " + split);
        if (weightDecay < 0) throw new CliException("--weight-decay must be >= 0, got " + weightDecay);
        if (!decay.equals("all") && !decay.equals("matrices")) throw new CliException("--decay must be all or matrices, got " + decay);
        if (gradClip < 0) throw new CliException("--grad-clip must be >= 0, got " + gradClip);
        if (gradAccum < 1) throw new CliException("--grad-accum must be >= 1, got " + gradAccum);
        if (dropout >= 1) throw new CliException("--dropout must be below 1, got " + dropout);
        // these default to a "not given" value; a value typed in must be a real one
        GivenOptions.nonNegative(spec, "--dropout", dropout);
        lrSchedule.check(spec);
        GivenOptions.positive(spec, "--n-layer", nLayer);
        GivenOptions.positive(spec, "--n-embd", nEmbd);
        GivenOptions.positive(spec, "--n-head", nHead);
        if (evalEvery < 0 || evalBatches < 0) throw new CliException("--eval-every and --eval-batches must be >= 0");
        if (checkpointEvery < 0) throw new CliException("--checkpoint-every must be >= 0, got " + checkpointEvery);
    }
}
