package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DropoutKernelTest {
    @Test
    void keptFractionIsOneMinusPAndKeptValuesAreScaled() {
        int n = 200_000;
        float[] x = new float[n], out = new float[n];
        java.util.Arrays.fill(x, 1f);
        for (float p : new float[]{0.1f, 0.5f, 0.9f}) {
            DropoutKernel.forward(out, x, n, p, 42L);
            int kept = 0;
            for (float v : out) {
                if (v != 0f) {
                    kept++;
                    assertEquals(1f / (1f - p), v, 1e-6f);
                }
            }
            double frac = kept / (double) n;
            assertEquals(1 - p, frac, 4 * Math.sqrt(p * (1 - p) / n), "p=" + p);
        }
    }

    @Test
    void zeroAndOne() {
        float[] x = {1f, -2f, 3f}, out = new float[3];
        DropoutKernel.forward(out, x, 3, 0f, 7L);
        assertArrayEquals(x, out);
        DropoutKernel.forward(out, x, 3, 1f, 7L);
        assertArrayEquals(new float[3], out);
        assertThrows(IllegalArgumentException.class, () -> DropoutKernel.forward(out, x, 3, 1.5f, 7L));
    }

    @Test
    void backwardUsesTheForwardMaskAndSeedsDiffer() {
        Random r = new Random(15);
        for (int n : SIZES) {
            float[] x = randn(r, n, 1f), dout = randn(r, n, 1f), init = randn(r, n, 1f);
            float[] y = new float[n], ys = new float[n], dx = init.clone(), dxs = init.clone();
            DropoutKernel.forwardSimd(y, x, n, 0.3f, 99L);
            DropoutKernel.forwardScalar(ys, x, n, 0.3f, 99L);
            assertArrayEquals(ys, y, "simd vs scalar n=" + n);
            DropoutKernel.backwardSimd(dx, dout, n, 0.3f, 99L);
            DropoutKernel.backwardScalar(dxs, dout, n, 0.3f, 99L);
            assertArrayEquals(dxs, dx);
            for (int i = 0; i < n; i++) {
                boolean kept = y[i] != 0f || x[i] == 0f;
                float expect = init[i] + (kept ? dout[i] / 0.7f : 0f);
                assertEquals(expect, dx[i], 1e-5f, "index " + i);
            }
        }
        int n = 1000, same = 0;
        for (int i = 0; i < n; i++) {
            if (DropoutHash.keep(1L, i, DropoutHash.threshold(0.5f)) == DropoutHash.keep(2L, i, DropoutHash.threshold(0.5f))) same++;
        }
        assertTrue(same > 400 && same < 600, "masks of different seeds look independent: " + same);
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(16);
        int n = 100_003;
        float[] x = randn(r, n, 1f), dout = randn(r, n, 1f);
        assertThreadIndependent(() -> {
            float[] y = new float[n], dx = new float[n];
            DropoutKernel.forward(y, x, n, 0.2f, 5L);
            DropoutKernel.backward(dx, dout, n, 0.2f, 5L);
            return new float[][]{y, dx};
        });
    }

    @Test
    void vectorizedMaskEqualsScalarHash() {
        int thr = DropoutHash.threshold(0.37f);
        for (int count : SIZES) {
            for (long start : new long[]{0L, 5L, (1L << 33) + 3}) {
                boolean[] a = new boolean[count + 2], b = new boolean[count + 2];
                DropoutHash.keepMaskSimd(123L, start, count, thr, a, 1);
                DropoutHash.keepMaskScalar(123L, start, count, thr, b, 1);
                assertArrayEquals(b, a, "count " + count + " start " + start);
                for (int l = 0; l < count; l++) assertEquals(DropoutHash.keep(123L, start + l, thr), a[l + 1]);
            }
        }
    }
}
