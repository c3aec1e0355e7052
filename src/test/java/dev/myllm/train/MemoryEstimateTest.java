package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The memory estimate against what a training step really holds, and the refusal it gives. */
class MemoryEstimateTest {
    /** The arena's peak over one forward and backward of a random batch. */
    private static long measuredPeak(GPTConfig cfg, int batch, int t) {
        GPTModel m = new GPTModel(cfg, 1);
        m.train(true);
        Rng r = new Rng(2);
        int[] ids = new int[batch * t], targets = new int[batch * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(cfg.vocabSize());
            targets[i] = r.nextInt(cfg.vocabSize());
        }
        try (Arena a = Arena.open()) {
            Tensor loss = Losses.batchLoss(LanguageModel.of(m), new Batch(ids, targets, batch, t));
            loss.backward();
            return a.peakFloats();
        }
    }

    @Test
    void activationEstimateIsAtMostTheMeasuredPeakAndWithinAFifthOfIt() {
        for (GPTConfig cfg : new GPTConfig[]{
                new GPTConfig(500, 64, 64, 4, 2, 0f, true, true, 1e-5f),    // small batch: the head keeps probabilities
                new GPTConfig(300, 128, 32, 2, 3, 0.1f, true, false, 1e-5f)}) { // dropout, untied head
            for (int[] bt : new int[][]{{2, 32}, {3, 128}}) {
                if (bt[1] > cfg.contextLength()) continue;
                long measured = measuredPeak(cfg, bt[0], bt[1]);
                long estimated = MemoryEstimate.activationFloats(cfg, bt[0], bt[1]);
                assertThat((double) estimated).as("%s, batch %d × %d", cfg, bt[0], bt[1])
                        .isBetween(0.8 * measured, (double) measured);
            }
        }
    }

    @Test
    void gpt2SmallAtTheIssuesSizes() {
        GPTConfig small = GPTConfig.preset("gpt2-small").withDropRate(0f).withQkvBias(true).withTiedHead(true);
        MemoryEstimate e464 = MemoryEstimate.training(small, 4, 64), e8256 = MemoryEstimate.training(small, 8, 256);
        // weights + gradients and AdamW's moments: 4 × 124.4M floats
        assertThat(e464.weightBytes() + e464.optimizerBytes()).isEqualTo(16 * small.parameterCount());
        assertThat(e464.totalBytes()).isLessThan(2_500_000_000L);
        assertThat(e8256.totalBytes()).isBetween(3_000_000_000L, 5_000_000_000L);
        assertThat(e8256.refusal(8, 256, 64L << 30, "lower it")).isNull();
        String no = e8256.refusal(8, 256, 3L << 30, "lower it");
        assertThat(no).startsWith("batch 8 × 256 needs 3.").contains("the Java heap is 3.0 GiB").endsWith("; lower it").doesNotContain("\n");
    }

    @Test
    void aTinyRunThatRunsInASmallHeapIsNotRefusedThereATooLargeOneStillIs() {
        // myllm train of gpt2-tiny at its defaults (batch 8 × 128) runs in -Xmx200m: a margin of 192 MiB refused it
        GPTConfig tiny = GPTConfig.preset("gpt2-tiny");
        long heap = 200L << 20;
        assertThat(MemoryEstimate.training(tiny, 8, 128).refusal(8, 128, heap, "lower it")).isNull();
        assertThat(MemoryEstimate.training(tiny, 256, 128).refusal(256, 128, heap, "lower it")).startsWith("batch 256 × 128 needs ");
    }

    @Test
    void smallSizesReadInMebibytesAndARefusalNeverReadsItsNeedEqualToTheHeap() {
        // they read "needs 0.4 GiB ... weights and gradients 0.0 GiB ... the Java heap is 0.2 GiB"
        MemoryEstimate e = MemoryEstimate.training(GPTConfig.preset("gpt2-tiny"), 256, 128);
        assertThat(e.refusal(256, 128, 200L << 20, "lower it")).matches("batch 256 × 128 needs \\d{3} MiB of memory \\(weights and gradients"
                + " \\d+ MiB, AdamW state \\d+ MiB, activations \\d{3} MiB\\) but the Java heap is 200 MiB; lower it");
        // a heap a little below the need: both in as many decimals as it takes to tell them apart
        for (long below : new long[]{1, 1L << 10, 1L << 16, 1L << 19}) {
            String no = e.refusal(256, 128, e.totalBytes() - below, "lower it");
            String needs = no.replaceFirst("^batch 256 × 128 needs (\\S+ MiB) .*", "$1"), heap = no.replaceFirst(".* heap is (\\S+ MiB);.*", "$1");
            assertThat(needs).as(no).isNotEqualTo(heap).doesNotContain(" of memory");
        }
    }
}
