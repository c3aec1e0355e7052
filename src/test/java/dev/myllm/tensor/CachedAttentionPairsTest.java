package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Batched decoding and prefill ({@link CachedAttention#attendEach}) take heads two at a time, in a
 * pipeline of their own (a lone last head of an odd count the single way); each row must still be
 * bitwise what its sequence gets alone, fed one token at a time through {@link CachedAttention#attend}
 * as generation decodes.
 * Run with {@code -Dmyllm.simd=false} too, for the scalar twins.
 */
class CachedAttentionPairsTest {
    @Test
    void pairedHeadsGiveBitwiseWhatEachSequenceGetsAloneOnAwkwardShapes() {
        SplittableRandom rnd = new SplittableRandom(31);
        int l = Simd.F.length(), before = Parallel.threads();
        // cached positions 0, 2, 6, 8, 12, 40: the queries see 1, 3, 7, 9, 13, 41 positions (eights, fours and ones)
        int[] past = {0, 2, 6, 8, 12, 40};
        try (var g = GradMode.noGrad()) {
            for (int heads : new int[]{1, 2, 3, 5}) {
                for (int d : new int[]{1, 3, l - 1, l + 1, 4 * l, 4 * l + 3, 8 * l}) {
                    if (d < 1) continue;
                    for (int threads = 1; threads <= 3; threads++) {
                        Parallel.setThreads(threads);
                        CachedAttentionPrefillTest.checkAttendEach(rnd, heads, d, past, new int[]{1, 1, 1, 1, 1, 1}); // decode: one token each
                        CachedAttentionPrefillTest.checkAttendEach(rnd, heads, d, past, new int[]{3, 1, 2, 5, 1, 4}); // prefill: several tokens each
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void theMaximumIsTheLargestScoreAndItsZeroSignDoesNotReachTheWeights() {
        SplittableRandom rnd = new SplittableRandom(32);
        int l = Simd.F.length();
        for (int n : new int[]{1, 2, l - 1, l, l + 1, 3 * l + 5, 129}) {
            if (n < 1) continue;
            float[] w = new float[n + 3];
            for (int j = 0; j < n; j++) w[j] = (float) (rnd.nextDouble() * 20 - 10);
            w[n] = 1e9f; // past the end: never looked at
            float want = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) if (w[j] > want) want = w[j];
            assertThat(CachedAttention.max(w, n)).as("n=%d", n).isEqualTo(want);
            w[rnd.nextInt(n)] = Float.NaN; // a NaN score: NaN (SIMD) or ignored (scalar); either way its weight is NaN
            float m = CachedAttention.max(w, n);
            assertThat(Float.isNaN(m) || m == want || m < want).as("n=%d with a NaN: %s", n, m).isTrue();
        }
        // all scores zero, some negative zero: the maximum may be either zero, the weights are all exactly 1
        for (float max : new float[]{0f, -0f}) {
            float[] w = new float[2 * l + 3];
            for (int j = 0; j < w.length; j++) w[j] = j % 3 == 0 ? -0f : 0f;
            CachedAttention.exps(w, max, w.length);
            for (float e : w) assertThat(Float.floatToRawIntBits(e)).as("max %s", max).isEqualTo(Float.floatToRawIntBits(1f));
        }
        float[] zeros = {-0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f};
        assertThat(CachedAttention.max(zeros, zeros.length)).isEqualTo(0f); // +0 or -0: equal as floats
    }
}
