package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link GemmPack#copyRuns} (runs of 8 floats into consecutive ones, two a 16-lane vector through
 * masked loads and a blend, an odd one masked) and the value panels of {@link FlashForward} (a TN
 * operand's panels, {@link GemmPack#packA}): the same floats as element by element (copyRuns with
 * the vectors and with the scalar twin; the panels with whichever {@code -Dmyllm.simd} chooses),
 * nothing written outside them, and sources that start at 0 or end at the end of their array.
 */
class PackRunsTest {
    @Test
    void copiesTheRunsAndWritesNothingElse() {
        SplittableRandom r = new SplittableRandom(11);
        for (int n = 0; n <= 6; n++) {
            for (int stride : new int[]{8, 9, 37}) {
                for (int s0 : new int[]{0, 3}) {
                    // the last run ends at the end of the array (a whole vector from there would not fit)
                    float[] a = GemmTest.random(r, s0 + (n == 0 ? 0 : (n - 1) * stride + 8));
                    for (boolean simd : new boolean[]{true, false}) check(a, s0, stride, n, simd);
                }
            }
        }
    }

    private static void check(float[] a, int s0, int stride, int n, boolean simd) {
        float[] dst = new float[5 + 8 * n + 40];
        java.util.Arrays.fill(dst, Float.NaN);
        GemmPack.copyRuns(simd, a, s0, stride, n, dst, 5);
        for (int i = 0; i < dst.length; i++) {
            int p = (i - 5) / 8, j = (i - 5) % 8;
            float want = i >= 5 && p < n ? a[s0 + p * stride + j] : Float.NaN;
            assertThat(Float.floatToRawIntBits(dst[i])).as("simd=%s n=%d stride=%d from %d at %d", simd, n, stride, s0, i)
                    .isEqualTo(Float.floatToRawIntBits(want));
        }
    }

    @Test
    void valuePanelsHoldEightDimensionsOfEveryKey() {
        // whole pairs of panels in packA's tiles (an odd last key alone), a last full panel as runs, a partial one zero-padded
        SplittableRandom r = new SplittableRandom(5);
        for (int[] s : new int[][]{{1, 8}, {3, 64}, {7, 20}, {13, 5}, {70, 24}, {9, 200}}) {
            int T = s[0], D = s[1], sT = 3 * D + 1, off = 2, dp = (D + 7) / 8 * 8;
            float[] v = GemmTest.random(r, off + (T - 1) * sT + D); // the last key's row ends the array
            float[] vpan = new float[dp * T + 16];
            java.util.Arrays.fill(vpan, Float.NaN);
            FlashForward.packValues(v, off, sT, T, D, vpan);
            for (int d = 0; d < dp; d++) {
                for (int j = 0; j < T; j++) {
                    float want = d < D ? v[off + j * sT + d] : 0f;
                    assertThat(Float.floatToRawIntBits(vpan[d / 8 * 8 * T + j * 8 + d % 8])).as("T=%d D=%d key %d dim %d", T, D, j, d)
                            .isEqualTo(Float.floatToRawIntBits(want));
                }
            }
            for (int i = dp * T; i < vpan.length; i++) assertThat(vpan[i]).as("past the panels, T=%d D=%d", T, D).isNaN();
        }
    }
}
