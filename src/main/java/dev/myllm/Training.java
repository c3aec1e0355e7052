package dev.myllm;

import dev.myllm.data.Corpus;
import dev.myllm.data.Splits;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MemoryEstimate;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenWindows;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@link Myllm#train}: the same data split, model, AdamW, schedule and {@link Trainer} as {@code myllm train}, without printing. */
final class Training {
    private Training() {
    }

    static Myllm run(TrainingOptions o, Trainer.Listener listener) {
        LibraryRun run = LibraryRun.open(o.out(), o.resume(), 0, "train");
        Path checkpoint = run.checkpoint();
        Object savedOptions = run.savedOptions();
        if (checkpoint != null) {
            TrainingResume.requireTrainRun(o, savedOptions);
            run.requireStepsLeft(o.steps(), "");
        }
        // unset, the tokenizer is the model's own, as myllm train --init reads it: the resumed run's (kept in its checkpoint,
        // as the init model may be gone) or the init model's; else GPT-2's
        Path ownOf = o.tokenizer() != null ? null : checkpoint != null ? checkpoint : o.init();
        Tokenizer tok = o.tokenizer() != null ? Myllm.tokenizer(o.tokenizer()) : ownTokenizer(ownOf, checkpoint != null);
        GPTConfig cfg;
        if (o.init() != null) {
            // resumed, the checkpoint holds the weights and the init model's configuration: that model may be gone (when it is
            // still there, its shape is checked against the run's below)
            cfg = ModelDirectory.readConfig(checkpoint != null && !Files.exists(o.init()) ? checkpoint : o.init());
        } else {
            cfg = GPTConfig.preset(o.preset());
            if (tok.vocabSize() != cfg.vocabSize()) cfg = cfg.withVocabSize(tok.vocabSize());
            // a fresh model's position table is as long as the training context (nanoGPT's block_size)
            if (o.contextLength() > 0) cfg = cfg.withContextLength(o.contextLength());
        }
        if (tok.vocabSize() > cfg.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer's vocabulary (" + tok.vocabSize() + ") is larger than the model's (" + cfg.vocabSize() + ")");
        }
        if (checkpoint != null) requireSameShape(o, checkpoint, cfg);
        int ctx = o.contextLength() > 0 ? o.contextLength() : Math.min(cfg.contextLength(), 256);
        if (ctx > cfg.contextLength()) throw new IllegalArgumentException("contextLength " + ctx + " exceeds the model's " + cfg.contextLength());
        if (checkpoint != null) TrainingResume.requireSameSettings(o, savedOptions, cfg, ctx);
        // before the data is read and a step allocates: as myllm train refuses it, not an OutOfMemoryError mid-step
        String tooLarge = MemoryEstimate.training(cfg, o.batchSize(), ctx).refusal(o.batchSize(), ctx, Runtime.getRuntime().maxMemory(),
                "lower batchSize or contextLength, or give the JVM more heap (-Xmx)");
        if (tooLarge != null) throw new IllegalArgumentException(tooLarge);
        Splits.Pair<int[]> split = Splits.tokens(Corpus.standard().tokens(o.data(), tok), 1 - o.valFraction());
        TokenWindows train = new TokenWindows(split.train(), o.batchSize(), ctx, ctx, true, o.seed());
        TokenWindows val = new TokenWindows(split.validation(), o.batchSize(), ctx, ctx, false, 0, false);
        if (train.batchesPerEpoch() < 1) {
            throw new IllegalArgumentException("the training data (" + split.train().length + " tokens) makes no batch of "
                    + o.batchSize() + " × " + ctx + "; lower batchSize or contextLength");
        }
        GPTModel model = new GPTModel(cfg, o.seed());
        if (o.init() != null && checkpoint == null) model.loadStateDict(ModelDirectory.load(o.init(), cfg).namedParameters());
        AdamW opt = new AdamW(model.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, o.weightDecay(), AdamW.Decay.MATRICES));
        // myllm train's schedule (warmupSteps 0 is its "no --warmup-steps"), laid out as it is over this call's steps
        LrSchedule schedule = LrSchedule.forRun(o.lr(), -1, o.warmupSteps() > 0 ? o.warmupSteps() : -1, o.steps());
        TokenizerCopy kept = o.tokenizer() != null ? TokenizerCopy.read(namedFile(o.tokenizer())) : ownCopy(ownOf, tok, cfg.vocabSize());
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), run.resumedStep())) {
            Trainer t = new Trainer(model, model::forward, new GptModelStore(model, kept), opt, schedule, train,
                    new Trainer.Options(o.steps(), 1, o.gradClip(), o.evalEvery(), o.evalBatches(), 0, 0, 1), o.out())
                    .evaluation(val.first(o.evalBatches()), train.first(o.evalBatches()))
                    .rng("dropout", model.dropoutRng())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener);
            // saved as the command saves its own, so myllm train --resume continues with this run's settings
            run.start(t, TrainingRunOptions.continuing(o, savedOptions)).run();
        }
        return Myllm.of(model, tok);
    }

    /** The tokenizer file {@code spec} names, to keep beside the run's models, or null for a built-in one. */
    private static Path namedFile(String spec) {
        return !spec.equals("gpt2") && !spec.equals("simple") && Files.isRegularFile(Path.of(spec)) ? Path.of(spec) : null;
    }

    /** The tokenizer {@code model} (a checkpoint, an init model, or null) keeps, else GPT-2's; a broken one is named. */
    private static Tokenizer ownTokenizer(Path model, boolean resumed) {
        try {
            Tokenizer own = dev.myllm.io.ModelTokenizer.of(model);
            return own != null ? own : Myllm.tokenizer("gpt2");
        } catch (IllegalArgumentException e) {
            // a file the caller did not name: say whose it is, and how to choose another
            throw new IllegalArgumentException((resumed ? "resume " : "init ") + e.getMessage() + "; name the tokenizer with withTokenizer", e);
        }
    }

    /**
     * What to keep beside the run's models for the tokenizer {@code model} gave: its file, or a GGUF file's embedded
     * vocabulary written out; null for GPT-2's.
     */
    private static TokenizerCopy ownCopy(Path model, Tokenizer tok, int rows) {
        Path file = dev.myllm.io.ModelTokenizer.file(model);
        if (file != null) return TokenizerCopy.read(file);
        return model == null || tok == Myllm.tokenizer("gpt2") ? null : TokenizerCopy.of(tok, rows);
    }

    /**
     * A resumed run keeps its model's shape: a setting that changes it is refused naming the setting, not with the
     * missing or misshapen tensor that loading the checkpoint would fail on.
     */
    private static void requireSameShape(TrainingOptions o, Path checkpoint, GPTConfig cfg) {
        GPTConfig saved;
        try {
            saved = ModelDirectory.readConfig(checkpoint);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            return; // no readable config.json: loading the checkpoint says what is wrong
        }
        String what = o.init() != null ? "init " + o.init() : "preset " + o.preset();
        if (saved.nLayers() != cfg.nLayers() || saved.embDim() != cfg.embDim() || saved.nHeads() != cfg.nHeads()
                || saved.tiedHead() != cfg.tiedHead() || saved.qkvBias() != cfg.qkvBias()) {
            throw new IllegalArgumentException("resume: the run in " + o.out() + " has a model of " + saved.nLayers() + " layers, "
                    + saved.nHeads() + " heads, width " + saved.embDim() + "; " + what + " gives another; resume with the run's own preset or init");
        }
        if (saved.contextLength() != cfg.contextLength()) {
            throw new IllegalArgumentException("resume: the run in " + o.out() + " has a context length of " + saved.contextLength()
                    + ", contextLength gives " + cfg.contextLength() + "; resume with the run's own contextLength");
        }
        if (saved.vocabSize() != cfg.vocabSize()) {
            throw new IllegalArgumentException("resume: the run in " + o.out() + " has a vocabulary of " + saved.vocabSize()
                    + " tokens, " + (o.tokenizer() != null ? "tokenizer " + o.tokenizer() : "GPT-2's tokenizer (the run keeps no other)") + " gives " + cfg.vocabSize() + "; resume with the run's own tokenizer");
        }
    }
}
