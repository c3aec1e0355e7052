package dev.myllm.cli;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.StepProfile;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.AdamW;
import dev.myllm.data.Batch;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.MemoryEstimate;
import dev.myllm.train.Losses;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code myllm bench train}: median time of a full training step (forward, backward, AdamW) on
 * random tokens, with tokens/s, achieved GFLOP/s (nanoGPT's FLOP estimate) and peak memory.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Time training steps (llm.c's CPU configuration: --preset gpt2-small --batch-size 4 --context-length 64).")
final class BenchTrainCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "gpt2-small", paramLabel = "NAME", description = "Model shape (default ${DEFAULT-VALUE}); tied head, QKV bias, dropout 0.")
    String preset;
    @Option(names = "--batch-size", defaultValue = "4", description = "Sequences per step (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--context-length", defaultValue = "64", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int contextLength;
    @Option(names = "--steps", defaultValue = "5", description = "Timed steps after the --warmup ones; the median is reported (default ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--warmup", defaultValue = "1", description = "Untimed warm-up steps (default ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--n-layer", defaultValue = "0", description = "Override the preset's number of layers.")
    int nLayer;
    @Option(names = "--n-embd", defaultValue = "0", description = "Override the preset's width.")
    int nEmbd;
    @Option(names = "--n-head", defaultValue = "0", description = "Override the preset's number of heads.")
    int nHead;
    @Option(names = "--vocab-size", defaultValue = "0", description = "Override the preset's vocabulary size.")
    int vocab;
    @CommandLine.Mixin
    ActivationCheckpointing checkpointing;
    @Option(names = "--profile", description = "Also print where a step's time goes: each matrix product by shape, attention, layer norms, GELU, adds, biases, the loss's softmax, AdamW, the rest.")
    boolean profile;
    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;
    @Option(names = "--init", paramLabel = "book|gpt2", description = "The random weights: book (PyTorch's initialisation; book-* presets) or gpt2 (N(0, 0.02); the others).")
    String init;
    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public void run() {
        // 0, each one's default, means the preset's; typed, it is no shape
        GivenOptions.positive(spec, "--n-layer", nLayer);
        GivenOptions.positive(spec, "--n-embd", nEmbd);
        GivenOptions.positive(spec, "--n-head", nHead);
        GivenOptions.positive(spec, "--vocab-size", vocab);
        GPTConfig cfg;
        try {
            cfg = GPTConfig.preset(preset).withDropRate(0f).withQkvBias(true).withTiedHead(true);
            if (nLayer > 0 || nEmbd > 0 || nHead > 0 || vocab > 0) {
                cfg = new GPTConfig(vocab > 0 ? vocab : cfg.vocabSize(), cfg.contextLength(), nEmbd > 0 ? nEmbd : cfg.embDim(),
                        nHead > 0 ? nHead : cfg.nHeads(), nLayer > 0 ? nLayer : cfg.nLayers(), 0f, true, true, cfg.layerNormEps());
            }
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (batchSize < 1) throw new CliException("--batch-size must be >= 1, got " + batchSize);
        if (contextLength < 1 || contextLength > cfg.contextLength()) {
            throw new CliException("--context-length must be in 1.." + cfg.contextLength() + ", got " + contextLength);
        }
        if (steps < 1 || warmup < 0) throw new CliException("--steps must be >= 1 and --warmup >= 0");
        MemoryEstimate memory = MemoryEstimate.training(cfg, batchSize, contextLength, checkpointing.on);
        long heap = Runtime.getRuntime().maxMemory();
        String refusal = memory.refusal(batchSize, contextLength, heap, MemoryRemedy.of(false));
        if (refusal != null) throw new CliException(refusal);
        if (!json) spec.commandLine().getOut().println("memory: " + memory.describe() + "; heap " + dev.myllm.util.ByteSizes.of(heap));
        GPTModel model = checkpointing.apply(ModelOptions.randomModel(cfg, ModelOptions.initScheme(preset, init), seed));
        AdamW opt = new AdamW(model.namedParameters(), AdamW.Options.book());
        Rng rng = new Rng(7);
        int n = batchSize * contextLength;
        int[] in = new int[n], tg = new int[n];
        for (int i = 0; i < n; i++) {
            in[i] = rng.nextInt(cfg.vocabSize());
            tg[i] = rng.nextInt(cfg.vocabSize());
        }
        Batch b = new Batch(in, tg, batchSize, contextLength);
        double[] ms = new double[steps], fwd = new double[steps], bwd = new double[steps], upd = new double[steps], zero = new double[steps];
        double loss = 0;
        for (int s = -warmup; s < steps; s++) {
            if (s == 0 && profile) StepProfile.start();
            long t0 = System.nanoTime();
            long t1, t2, tz;
            try (Arena a = Arena.open()) {
                opt.zeroGrad();
                tz = System.nanoTime();
                Tensor l = Losses.batchLoss(LanguageModel.of(model), b);
                loss = l.item();
                t1 = System.nanoTime();
                l.backward();
                t2 = System.nanoTime();
                opt.step(1e-4);
            }
            long t3 = System.nanoTime();
            if (s >= 0) {
                ms[s] = (t3 - t0) / 1e6;
                fwd[s] = (t1 - t0) / 1e6;
                bwd[s] = (t2 - t1) / 1e6;
                upd[s] = (t3 - t2) / 1e6;
                zero[s] = (tz - t0) / 1e6;
            }
        }
        StepProfile.stop();
        double median = median(ms);
        double tokPerSec = n / (median / 1000);
        long c = cfg.embDim(), v = cfg.vocabSize();
        long nonEmbedding = model.parameterCount() - v * c - (long) cfg.contextLength() * c;
        // nanoGPT's estimate: 6 per weight per token (the head counted even when tied) plus attention
        double flopsPerToken = 6.0 * (nonEmbedding + v * c) + 12.0 * cfg.nLayers() * contextLength * c;
        double gflops = flopsPerToken * tokPerSec / 1e9;
        long heapPeak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) heapPeak += p.getPeakUsage().getUsed();
        }
        long rssPeak = PeakMemory.bytes();
        var out = spec.commandLine().getOut();
        if (json) {
            out.printf(Locale.ROOT, "{\"preset\":\"%s\",\"batch\":%d,\"context\":%d,\"threads\":%d,\"checkpoint_activations\":%b,\"median_ms\":%.1f,\"tokens_per_s\":%.1f,"
                            + "\"gflops\":%.2f,\"peak_heap_mb\":%.0f,\"peak_rss_mb\":%.0f,\"estimated_mb\":%.1f,\"loss\":%.4f,\"step_ms\":%s}%n",
                    preset, batchSize, contextLength, Parallel.threads(), checkpointing.on, median, tokPerSec, gflops, heapPeak / 1048576.0,
                    rssPeak / 1048576.0, memory.totalBytes() / 1048576.0, loss, Arrays.toString(ms));
        } else {
            out.printf(Locale.ROOT, "train step %s, batch %d × %d, %d threads%s: median %.1f ms over %d steps (%s)%n", preset, batchSize,
                    contextLength, Parallel.threads(), checkpointing.on ? ", activations checkpointed" : "", median, steps, Arrays.stream(ms).mapToObj(x -> String.format(Locale.ROOT, "%.0f", x)).toList());
            out.printf(Locale.ROOT, "  %.1f tokens/s, %.2f GFLOP/s (%.1f MFLOP per token), peak heap %.0f MiB, peak RSS %.0f MiB, last loss %.4f%n",
                    tokPerSec, gflops, flopsPerToken / 1e6, heapPeak / 1048576.0, rssPeak / 1048576.0, loss);
            out.printf(Locale.ROOT, "  median forward %.0f ms (zero grad + loss), backward %.0f ms, AdamW %.0f ms%n", median(fwd), median(bwd), median(upd));
            if (profile) printProfile(out, Arrays.stream(ms).sum(), Arrays.stream(zero).sum(), Arrays.stream(upd).sum());
        }
        out.flush();
    }

    /** The profile's table: per step, each timed kind of call, then zeroing, AdamW and the rest, with shares of the step. */
    private void printProfile(java.io.PrintWriter out, double totalMs, double zeroMs, double adamMs) {
        out.printf(Locale.ROOT, "  where a step's time goes (per step, over %d steps):%n", steps);
        double timed = zeroMs + adamMs;
        for (StepProfile.Entry e : StepProfile.entries()) {
            double ms = e.nanos() / 1e6;
            timed += ms;
            out.printf(Locale.ROOT, "    %-34s %3d× %8.1f ms %5.1f%%  %s%n", e.label(), e.calls() / steps, ms / steps, 100 * ms / totalMs,
                    e.flops() > 0 ? String.format(Locale.ROOT, "%.1f GFLOP/s", e.gflops()) : "");
        }
        out.printf(Locale.ROOT, "    %-34s      %8.1f ms %5.1f%%%n", "zero gradients", zeroMs / steps, 100 * zeroMs / totalMs);
        out.printf(Locale.ROOT, "    %-34s      %8.1f ms %5.1f%%%n", "AdamW", adamMs / steps, 100 * adamMs / totalMs);
        out.printf(Locale.ROOT, "    %-34s      %8.1f ms %5.1f%%%n", "rest (autograd, buffers, ...)",
                (totalMs - timed) / steps, 100 * (totalMs - timed) / totalMs);
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
