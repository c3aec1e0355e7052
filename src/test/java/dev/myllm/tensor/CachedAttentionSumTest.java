package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The weighted sum of cached values that ends every attention query keeps its output in registers
 * across positions, and the scores are taken eight and four keys at a time; each must give what the plain
 * loops give ({@code axpy} into a zeroed row, one {@code dot} per key), bit for bit, so decoding's
 * tokens did not change with them; positions are a head's {@code d} apart or, as in the cache's
 * {@code (capacity, H, D)} layout, further.
 */
class CachedAttentionSumTest {
    @Test
    void weightedSumEqualsAxpyIntoZerosBitwiseOnAwkwardSizes() {
        SplittableRandom rnd = new SplittableRandom(21);
        int l = Simd.F.length();
        for (int d : new int[]{1, 3, l - 1, l, l + 1, 2 * l + 3, 4 * l, 4 * l + 1, 5 * l + 7, 9 * l}) {
            for (int visible : new int[]{1, 2, 7, 64, 129}) {
                int base = 5, ps = visible % 2 == 0 ? d : 3 * d + 5;
                float[] v = GemmTest.random(rnd, base + visible * ps + 3);
                float[] w = new float[visible];
                for (int j = 0; j < visible; j++) w[j] = (float) rnd.nextDouble();
                float inv = (float) (1 / (0.5 + rnd.nextDouble()));
                float[] expected = new float[d + 4], actual = new float[d + 4];
                Arrays.fill(actual, 9f); // every output element is written, nothing around it
                Arrays.fill(expected, 9f);
                Arrays.fill(expected, 2, 2 + d, 0f);
                for (int j = 0; j < visible; j++) CachedAttention.axpy(w[j] * inv, v, base + j * ps, expected, 2, d);
                CachedAttention.weightedSum(w, inv, v, base, ps, visible, d, actual, 2);
                assertThat(actual).as("d=%d ps=%d visible=%d", d, ps, visible).isEqualTo(expected);
            }
        }
    }

    @Test
    void eightAndFourKeysAtATimeScoreBitwiseAsOneDotEachOnAwkwardSizes() {
        SplittableRandom rnd = new SplittableRandom(22);
        int l = Simd.F.length();
        for (int d : new int[]{1, 3, l - 1, l, l + 1, 2 * l + 3, 4 * l, 4 * l + 1, 5 * l + 7}) {
            for (int visible : new int[]{1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 64, 129}) { // eights, fours and ones
                int base = 3, qOff = 2, ps = visible % 2 == 0 ? d : 2 * d + 7;
                float[] k = GemmTest.random(rnd, base + visible * ps + 3);
                float[] x = GemmTest.random(rnd, qOff + d + 1);
                float scale = (float) (1 / Math.sqrt(d));
                float[] expected = new float[visible + 2], actual = new float[visible + 2];
                Arrays.fill(actual, 9f); // only the first visible scores are written
                Arrays.fill(expected, 9f);
                for (int j = 0; j < visible; j++) expected[j] = CachedAttention.dot(x, qOff, k, base + j * ps, d) * scale;
                CachedAttention.scores(x, qOff, k, base, ps, visible, d, scale, actual);
                assertThat(actual).as("d=%d ps=%d visible=%d", d, ps, visible).isEqualTo(expected);
            }
        }
    }

    @Test
    void softmaxExpsAreCloseToMathExpAndTheSameInATailAsInAFullVector() {
        SplittableRandom rnd = new SplittableRandom(23);
        int l = Simd.F.length();
        float[] scores = new float[5 * l + 3];
        for (int j = 0; j < scores.length; j++) scores[j] = (float) (rnd.nextDouble() * 40 - 30);
        float max = 10f;
        float[] all = scores.clone();
        CachedAttention.exps(all, max, all.length);
        for (int j = 0; j < all.length; j++) {
            double want = Math.exp(scores[j] - max);
            assertThat((double) all[j]).as("j=%d", j).isCloseTo(want, org.assertj.core.data.Offset.offset(want * 2e-6 + 1e-38));
        }
        for (int n : new int[]{1, l - 1, l, l + 1, 3 * l + 2}) {
            float[] part = scores.clone();
            CachedAttention.exps(part, max, n);
            for (int j = 0; j < n; j++) assertThat(part[j]).as("n=%d j=%d", n, j).isEqualTo(all[j]);
            for (int j = n; j < part.length; j++) assertThat(part[j]).as("untouched n=%d j=%d", n, j).isEqualTo(scores[j]);
        }
    }
}
