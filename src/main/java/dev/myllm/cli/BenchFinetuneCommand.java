package dev.myllm.cli;

import dev.myllm.data.Batch;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.TokenRule;
import dev.myllm.finetune.Trainable;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.AdamW;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.Losses;
import dev.myllm.train.Objective;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code myllm bench finetune}: a classification fine-tuning step (default: the book's last
 * block) against a full language-model training step on the same model and shapes, in one run:
 * median step time, trainable parameters, gradient and optimizer memory, and peak heap of each.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Time a fine-tuning step (frozen body) against a full training step, same model and batch (the book's: gpt2-small, 8 × 120).")
final class BenchFinetuneCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "gpt2-small", paramLabel = "NAME", description = "Model shape (default ${DEFAULT-VALUE}); random weights, dropout 0.")
    String preset;
    @Option(names = "--n-layer", defaultValue = "0", description = "Override the preset's number of layers (for a quick check).")
    int nLayer;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--context-length", defaultValue = "120", description = "Tokens per example (default ${DEFAULT-VALUE}, the book's longest SMS).")
    int contextLength;
    @Option(names = "--trainable", defaultValue = "last-block", description = "What the fine-tuning step trains (default ${DEFAULT-VALUE}).")
    String trainable;
    @Option(names = "--steps", defaultValue = "3", description = "Timed steps of each kind after the warm-up (default ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "Untimed warm-up steps of each kind (default ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--init", paramLabel = "book|gpt2", description = "The random weights: book (PyTorch's initialisation; book-* presets) or gpt2 (N(0, 0.02); the others).")
    String init;
    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
    long seed;

    /** One measured phase. */
    private record Phase(String name, double medianMs, long trainable, long stateBytes, long peakHeap) {
    }

    @Override
    public void run() {
        GPTConfig cfg;
        Trainable what;
        GivenOptions.positive(spec, "--n-layer", nLayer); // 0, the default, means the preset's; typed, it is no layer count
        try {
            cfg = GPTConfig.preset(preset).withDropRate(0f);
            if (nLayer > 0) cfg = new GPTConfig(cfg.vocabSize(), cfg.contextLength(), cfg.embDim(), cfg.nHeads(), nLayer, 0f, cfg.qkvBias(), cfg.tiedHead(), cfg.layerNormEps());
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        try {
            what = Trainable.parse(trainable);
        } catch (IllegalArgumentException e) {
            throw new CliException("--trainable: " + e.getMessage());
        }
        if (batchSize < 1 || contextLength < 1 || contextLength > cfg.contextLength()) {
            throw new CliException("--batch-size must be >= 1 and --context-length in 1.." + cfg.contextLength());
        }
        if (steps < 1 || warmup < 0) throw new CliException("--steps must be >= 1 and --warmup >= 0");
        GPTModel body = ModelOptions.randomModel(cfg.withTiedHead(true), ModelOptions.initScheme(preset, init), seed);
        Rng rng = new Rng(7);
        int n = batchSize * contextLength;
        int[] ids = new int[n], next = new int[n], labels = new int[batchSize];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(cfg.vocabSize());
            next[i] = rng.nextInt(cfg.vocabSize());
        }
        for (int r = 0; r < batchSize; r++) labels[r] = r % 2;

        GPTClassifier c = GPTClassifier.withNewHead(body, List.of("ham", "spam"), true, TokenRule.LAST, cfg.vocabSize() - 1, new Rng(123));
        if (what == Trainable.LORA) c.addLoRA(new LoRA.Settings(16, 16, LoRA.Scale.ALPHA_OVER_RANK), new Rng(124));
        what.apply(c);
        Phase fine = measure(what.id() + " fine-tuning", c, new ClassificationObjective(c), new Batch(ids, labels, batchSize, contextLength));
        c = null; // the full step trains the same body as a language model (tied vocabulary head)
        body.setTrainable(true);
        Phase full = measure("full training", body, Objective.languageModel(LanguageModel.of(body)), new Batch(ids, next, batchSize, contextLength));

        var out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s, batch %d × %d, %d threads, %d timed steps each%n", preset + (nLayer > 0 ? " (" + nLayer + " layers)" : ""),
                batchSize, contextLength, Parallel.threads(), steps);
        for (Phase p : List.of(fine, full)) {
            out.printf(Locale.ROOT, "  %-28s median %8.1f ms/step  trainable %,13d  grads+AdamW %8.1f MiB  peak heap %8.1f MiB%n",
                    p.name(), p.medianMs(), p.trainable(), p.stateBytes() / 1048576.0, p.peakHeap() / 1048576.0);
        }
        out.printf(Locale.ROOT, "  fine-tuning step is %s; its peak heap is %.0f%% of full training's%n",
                speed(fine.medianMs(), full.medianMs()), 100.0 * fine.peakHeap() / full.peakHeap());
        out.flush();
    }

    private Phase measure(String name, dev.myllm.nn.Module module, Objective objective, Batch b) {
        Arena.releasePool();
        System.gc();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
        AdamW opt = new AdamW(module.namedParameters(), AdamW.Options.book());
        long trainableCount = 0;
        for (Tensor t : module.parameters()) if (t.requiresGrad()) trainableCount += t.size();
        module.train(true);
        double[] ms = new double[steps];
        for (int s = -warmup; s < steps; s++) {
            long t0 = System.nanoTime();
            try (Arena a = Arena.open()) {
                opt.zeroGrad();
                objective.loss(b).backward();
                opt.step(5e-5);
            }
            if (s >= 0) ms[s] = (System.nanoTime() - t0) / 1e6;
        }
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) peak += p.getPeakUsage().getUsed();
        }
        // the gradient buffers and both moments: what training keeps per trainable value, beyond the weights
        for (Tensor t : module.parameters()) if (!t.requiresGrad()) t.clearGrad();
        return new Phase(name, BenchTrainCommand.median(ms), trainableCount, 3L * Float.BYTES * trainableCount, peak);
    }

    /** "4.2× faster", or "1.3× slower" when the fine-tuning step took longer (LoRA on a tiny model can). */
    static String speed(double fineMs, double fullMs) {
        return fullMs >= fineMs ? String.format(Locale.ROOT, "%.1f× faster", fullMs / fineMs)
                : String.format(Locale.ROOT, "%.1f× slower", fineMs / fullMs);
    }
}
