package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Per-block activation checkpointing: the same losses and gradients bit for bit, with less activation memory. */
class ActivationCheckpointTest {
    private static final int STEPS = 2;
    private static final GPTConfig CFG = new GPTConfig(97, 32, 24, 3, 3, 0.2f, true, false, 1e-5f);

    private static Batch batch(GPTConfig cfg, int b, int t, long seed) {
        Rng r = new Rng(seed);
        int[] ids = new int[b * t], targets = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(cfg.vocabSize());
            targets[i] = r.nextInt(cfg.vocabSize());
        }
        return new Batch(ids, targets, b, t);
    }

    /** Two steps of AdamW (so the second one's dropout masks follow the first one's draws): losses, then every gradient of the last step. */
    private static List<float[]> twoSteps(GPTModel m, boolean checkpoint) {
        m.setCheckpointActivations(checkpoint);
        m.train(true);
        AdamW opt = new AdamW(m.namedParameters(), AdamW.Options.book());
        List<float[]> out = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            opt.zeroGrad();
            try (Arena a = Arena.open()) {
                Tensor loss = Losses.batchLoss(LanguageModel.of(m), batch(m.config(), 2, 17, step));
                out.add(new float[]{loss.item()});
                loss.backward();
            }
            if (step < STEPS - 1) opt.step(1e-3);
        }
        for (Tensor p : m.parameters()) out.add(p.grad() == null ? new float[0] : p.grad().toArray());
        return out;
    }

    private static void assertSame(List<float[]> expected, List<float[]> actual) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(expected.get(i), actual.get(i), "tensor " + i);
    }

    @Test
    void gradientsAreBitwiseThoseOfThePlainGraph() {
        // counter-based dropout masks, two threads and one
        List<float[]> plain = twoSteps(new GPTModel(CFG, 5), false);
        assertThat(plain.get(plain.size() - 1)).isNotEmpty();
        assertSame(plain, twoSteps(new GPTModel(CFG, 5), true));
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            assertSame(plain, twoSteps(new GPTModel(CFG, 5), true));
        } finally {
            Parallel.setThreads(threads);
        }
        // PyTorch's dropout masks (the book's runs) are replayed too
        Supplier<GPTModel> book = () -> new GPTModel(CFG.withTiedHead(true), new TorchGenerator(123));
        assertSame(twoSteps(book.get(), false), twoSteps(book.get(), true));
    }

    @Test
    void frozenEmbeddingsStillTrainTheBlocks() {
        List<List<float[]>> runs = new ArrayList<>();
        for (boolean checkpoint : new boolean[]{false, true}) {
            GPTModel m = new GPTModel(CFG, 9);
            m.tokenEmbedding().setTrainable(false);
            m.positionEmbedding().setTrainable(false);
            runs.add(twoSteps(m, checkpoint));
        }
        assertSame(runs.get(0), runs.get(1));
        // block 0's first weight (ln_1.weight) received a gradient through the recomputation
        float[] ln1 = runs.get(1).get(4); // after the two losses, wte and wpe
        assertThat(ln1).isNotEmpty();
        float sumAbs = 0;
        for (float g : ln1) sumAbs += Math.abs(g);
        assertThat(sumAbs).isGreaterThan(0f);
    }

    @Test
    void keepsLessActivationMemoryAndTheEstimateSaysSo() {
        GPTConfig cfg = new GPTConfig(300, 128, 32, 2, 4, 0.1f, true, true, 1e-5f);
        long[] peaks = new long[2];
        for (int c = 0; c < 2; c++) {
            GPTModel m = new GPTModel(cfg, 1);
            m.setCheckpointActivations(c == 1);
            m.train(true);
            try (Arena a = Arena.open()) {
                Losses.batchLoss(LanguageModel.of(m), batch(cfg, 3, 128, 4)).backward();
                peaks[c] = a.peakFloats();
            }
        }
        assertThat(peaks[1]).isLessThan(peaks[0] * 6 / 10);
        long estimated = MemoryEstimate.activationFloats(cfg, 3, 128, true);
        assertThat((double) estimated).isBetween(0.8 * peaks[1], 1.25 * peaks[1]);
        assertThat(MemoryEstimate.training(cfg, 3, 128, true).activationBytes())
                .isLessThan(MemoryEstimate.training(cfg, 3, 128, false).activationBytes());
    }
}
