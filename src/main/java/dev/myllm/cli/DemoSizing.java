package dev.myllm.cli;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.AdamW;
import dev.myllm.data.Batch;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.Losses;
import java.util.List;
import java.util.Locale;

/**
 * Sizes the demo for this machine: a small GPT over a 4,096-token BPE
 * vocabulary trained on the corpus, so most of the compute goes into the transformer rather
 * than a 50,257-way output head; the number of steps comes from timing a few steps here.
 */
final class DemoSizing {
    static final int VOCAB = 4096, CONTEXT = 128, BATCH = 16;
    static final int EVAL_EVERY = 100, EVAL_BATCHES = 8;

    /** The chosen run: measured step time, planned steps and the {@code train} options. */
    record Plan(double stepMs, long steps, List<String> trainArgs, String describe) {
    }

    private DemoSizing() {
    }

    /** The demo's model shape, or a one-line error naming what is wrong with it. */
    static GPTConfig config(int layers, int width, int heads) {
        try {
            return new GPTConfig(VOCAB, CONTEXT, width, heads, layers, 0f, true, true, 1e-5f);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    /** Times training steps on random tokens and plans as many steps as fit in {@code nanosLeft}. */
    static Plan plan(long nanosLeft, int layers, int width, int heads, double lr) {
        GPTConfig cfg = config(layers, width, heads);
        GPTModel model = new GPTModel(cfg, 1);
        AdamW opt = new AdamW(model.namedParameters(), AdamW.Options.book());
        Rng rng = new Rng(1);
        int n = BATCH * CONTEXT;
        int[] in = new int[n], tg = new int[n];
        for (int i = 0; i < n; i++) {
            in[i] = rng.nextInt(VOCAB);
            tg[i] = rng.nextInt(VOCAB);
        }
        Batch b = new Batch(in, tg, BATCH, CONTEXT);
        // two untimed steps warm the JIT up; the median of three more resists a busy moment
        double[] ms = new double[3];
        for (int s = -2; s < ms.length; s++) {
            long t0 = System.nanoTime();
            try (Arena a = Arena.open()) {
                opt.zeroGrad();
                Tensor l = Losses.batchLoss(LanguageModel.of(model), b);
                l.backward();
                opt.step(1e-4);
            }
            if (s >= 0) ms[s] = (System.nanoTime() - t0) / 1e6;
        }
        double best = BenchTrainCommand.median(ms);
        // evaluation runs 2·EVAL_BATCHES forward passes (a third of a step each) every EVAL_EVERY steps
        double perStep = best * (1 + 2.0 * EVAL_BATCHES / 3 / EVAL_EVERY) * 1.15; // 15% for a busy machine
        long steps = Math.max(20, (long) (nanosLeft / 1e6 / perStep));
        long warmup = Math.max(5, steps / 10);
        List<String> args = List.of("--n-layer", "" + layers, "--n-embd", "" + width, "--n-head", "" + heads,
                "--context-length", "" + CONTEXT, "--batch-size", "" + BATCH, "--dropout", "0", "--tie-weights", "--qkv-bias",
                "--lr", "" + lr, "--min-lr", "" + lr / 10, "--warmup-steps", "" + warmup, "--weight-decay", "0.1", "--grad-clip", "1.0",
                "--eval-every", "" + EVAL_EVERY, "--eval-batches", "" + EVAL_BATCHES, "--sample-every", "" + Math.max(EVAL_EVERY, steps / 4),
                "--sample-prompt", "It is a truth universally acknowledged", "--checkpoint-every", "" + Math.max(50, steps / 4),
                "--val-fraction", "0.05");
        String describe = String.format(Locale.ROOT, "GPT with %d layers, width %d, %d heads, context %d, vocabulary %d; batch %d, peak lr %.1e",
                layers, width, heads, CONTEXT, VOCAB, BATCH, lr);
        return new Plan(best, steps, args, describe);
    }
}
