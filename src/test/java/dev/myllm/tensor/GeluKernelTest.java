package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GeluKernelTest {
    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Test
    void knownValues() {
        float[] x = {0f, 1f, -1f, 3f, -3f, 20f, -20f}, out = new float[7];
        GeluKernel.forward(out, x, 7);
        assertEquals(0f, out[0]);
        assertEquals(0.8411920f, out[1], 1e-6f); // torch.nn.functional.gelu(1, approximate='tanh')
        assertEquals(-0.1588080f, out[2], 1e-6f);
        assertEquals(2.9963627f, out[3], 1e-6f);
        assertEquals(-0.0036373f, out[4], 1e-6f);
        assertEquals(20f, out[5]);
        assertEquals(0f, out[6], 1e-30f);
    }

    @Test
    void simdMatchesScalarAndReference() {
        Random r = new Random(5);
        for (int n : SIZES) {
            float[] x = uniform(r, n, -8f, 8f), dout = randn(r, n, 1f), init = randn(r, n, 1f);
            float[] a = new float[n], b = new float[n];
            GeluKernel.forwardSimd(a, x, n);
            GeluKernel.forwardScalar(b, x, n);
            double[] ref = new double[n];
            for (int i = 0; i < n; i++) ref[i] = gelu(x[i]);
            assertClose("scalar n=" + n, ref, b, 1e-7, 1e-12);
            assertClose("simd n=" + n, ref, a, 2e-6, 1e-12);
            float[] da = init.clone(), db = init.clone();
            GeluKernel.backwardSimd(da, x, dout, n);
            GeluKernel.backwardScalar(db, x, dout, n);
            assertClose("backward n=" + n, db, da, 2e-6, 4e-6); // gelu' = s + x·s(1-s)·u' cancels near x = -0.75
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random r = new Random(6);
        int n = 37;
        float[] x = uniform(r, n, -4f, 4f), g = randn(r, n, 1f), out = new float[n];
        for (boolean simd : new boolean[]{true, false}) {
            java.util.function.DoubleSupplier loss = () -> {
                if (simd) GeluKernel.forwardSimd(out, x, n);
                else GeluKernel.forwardScalar(out, x, n);
                return dotLoss(out, g);
            };
            float[] dx = new float[n];
            if (simd) GeluKernel.backwardSimd(dx, x, g, n);
            else GeluKernel.backwardScalar(dx, x, g, n);
            gradCheck("gelu simd=" + simd, x, dx, 1e-2f, 1e-3, loss);
        }
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(7);
        int n = 50_001;
        float[] x = randn(r, n, 2f), dout = randn(r, n, 1f);
        assertThreadIndependent(() -> {
            float[] out = new float[n], dx = new float[n];
            GeluKernel.forward(out, x, n);
            GeluKernel.backward(dx, x, dout, n);
            return new float[][]{out, dx};
        });
    }

    @Test
    void backwardRecomputeIsBitwiseBackwardThenForward() {
        Random r = new Random(8);
        for (int n : new int[]{1, 3, 7, 17, 63, 129, 1000, 20011}) {
            float[] x = uniform(r, n, -8f, 8f), dout = randn(r, n, 1f), init = randn(r, n, 1f);
            for (boolean simd : new boolean[]{true, false}) {
                float[] dxRef = init.clone(), act = new float[n];
                if (simd) {
                    GeluKernel.backwardSimd(dxRef, x, dout, n);
                    GeluKernel.forwardSimd(act, x, n);
                } else {
                    GeluKernel.backwardScalar(dxRef, x, dout, n);
                    GeluKernel.forwardScalar(act, x, n);
                }
                float[] dx = init.clone(), g = dout.clone();
                if (simd) GeluKernel.backwardRecomputeSimd(dx, x, g, n);
                else GeluKernel.backwardRecomputeScalar(dx, x, g, n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(dxRef, dx, "dx simd=" + simd + " n=" + n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(act, g, "activations simd=" + simd + " n=" + n);
            }
        }
    }

    /**
     * forwardBlock (the products' stores' GELU, with VecMath.exp written out in it) gives each
     * element of its columns forwardSimd's bits, across exp's clamps (below -87 and above 88, at
     * x beyond about ±8.6), zeros, infinities and NaN, and leaves the other columns as they were.
     */
    @Test
    void forwardBlockIsForwardSimdBitForBit() {
        Random r = new Random(9);
        int L = Simd.F.length(), rows = 3, N = 4 * L + 5, n0 = L, n1 = N - 3;
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-20f, -1e-20f, 8.5f, -8.5f, 8.7f, -8.7f, 9f, -9f,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        float[] c = uniform(r, rows * N, -100f, 100f);
        System.arraycopy(special, 0, c, n0, special.length);
        float[] d = uniform(r, rows * N, -10f, 10f);
        for (float[] block : new float[][]{c, d}) {
            // forwardSimd over whole vectors only (a length that is a multiple of L): every element by the vector formula
            int padded = (block.length + L - 1) / L * L;
            float[] want = new float[padded];
            GeluKernel.forwardSimd(want, java.util.Arrays.copyOf(block, padded), padded);
            float[] got = block.clone();
            GeluKernel.forwardBlock(got, 0, N, rows, n0, n1);
            for (int i = 0; i < block.length; i++) {
                int col = i % N;
                float w = col >= n0 && col < n1 ? want[i] : block[i];
                assertEquals(Float.floatToIntBits(w), Float.floatToIntBits(got[i]), "row " + i / N + " column " + col + " x " + block[i]);
            }
        }
    }
}
