package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link GemmPack#copyRuns} (runs of 8 floats into consecutive ones, two a 16-lane vector through
 * masked loads and a blend, an odd one masked): the same floats as element by element, with the
 * vectors and with the scalar twin, nothing written outside the runs, and sources that start at 0
 * or end at the end of their array.
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
}
