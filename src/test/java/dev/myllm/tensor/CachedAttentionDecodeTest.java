package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A decode step of many sequences takes a sequence's heads in one task ({@link DecodeAttention}),
 * one of few sequences takes pairs of heads: each sequence's row must be bitwise what it gets
 * decoded alone, whatever the heads, head width and positions, and on one to three threads. Run
 * with {@code -Dmyllm.simd=false} too, for the scalar twins.
 */
class CachedAttentionDecodeTest {
    @Test
    void aStepOfManySequencesIsBitwiseEachSequenceAloneOnAwkwardShapes() {
        SplittableRandom rnd = new SplittableRandom(51);
        int l = Simd.F.length(), before = Parallel.threads();
        // positions around the eight-key blocks, the four-key ones and the single keys, and longer ones
        int[] past = {0, 1, 3, 4, 6, 7, 8, 9, 12, 15, 16, 17, 31, 63, 64, 129};
        try (var g = GradMode.noGrad()) {
            for (int heads : new int[]{1, 3, 4, 5, 12}) {
                for (int d : new int[]{3, l + 1, 4 * l, 8 * l}) {
                    for (int threads = 1; threads <= 3; threads++) {
                        Parallel.setThreads(threads);
                        check(rnd, heads, d, past);
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** {@code past.length} sequences of one new token each: together, then each alone, the caches copied before either. */
    private static void check(SplittableRandom rnd, int heads, int d, int[] past) {
        int n = past.length, c = heads * d;
        float[] qkv = GemmTest.random(rnd, n * 3 * c);
        float[][] k = new float[n][], v = new float[n][], k1 = new float[n][], v1 = new float[n][];
        int[] cap = new int[n];
        for (int s = 0; s < n; s++) {
            cap[s] = past[s] + 1 + s % 3;
            k[s] = GemmTest.random(rnd, cap[s] * c);
            v[s] = GemmTest.random(rnd, cap[s] * c);
            k1[s] = k[s].clone();
            v1[s] = v[s].clone();
        }
        float[] together = CachedAttention.attendEach(Tensor.of(qkv.clone(), new int[]{n, 1, 3 * c}), heads, k, v, cap, past).toArray();
        for (int s = 0; s < n; s++) {
            float[] row = Arrays.copyOfRange(qkv, s * 3 * c, (s + 1) * 3 * c);
            float[] alone = CachedAttention.attend(Tensor.of(row, new int[]{1, 1, 3 * c}), heads, k1[s], v1[s], cap[s], past[s]).toArray();
            assertThat(Arrays.copyOfRange(together, s * c, (s + 1) * c))
                    .as("heads=%d d=%d threads=%d sequence %d at %d", heads, d, Parallel.threads(), s, past[s]).isEqualTo(alone);
            assertThat(k[s]).isEqualTo(k1[s]); // the new keys and values went where they go alone
            assertThat(v[s]).isEqualTo(v1[s]);
        }
    }
}
