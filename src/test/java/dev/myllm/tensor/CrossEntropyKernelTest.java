package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CrossEntropyKernelTest {
    private static final int IGN = CrossEntropyKernel.IGNORE_INDEX;

    private static double reference(float[] logits, int[] t, int N, int V) {
        double total = 0;
        int count = 0;
        for (int n = 0; n < N; n++) {
            if (t[n] == IGN) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
            double s = 0;
            for (int v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - max);
            total += max + Math.log(s) - logits[n * V + t[n]];
            count++;
        }
        return total / count;
    }

    private static int[] targets(Random r, int N, int V, boolean withIgnored) {
        int[] t = new int[N];
        for (int n = 0; n < N; n++) t[n] = withIgnored && n % 3 == 1 ? IGN : r.nextInt(V);
        return t;
    }

    @Test
    void uniformLogitsGiveLogV() {
        int V = 50257;
        float[] logits = new float[2 * V];
        float loss = CrossEntropyKernel.forward(logits, new int[]{0, 50256}, 2, V, IGN, null);
        assertEquals(Math.log(V), loss, 1e-5);
    }

    @Test
    void forwardMatchesReferenceSimdAndScalar() {
        Random r = new Random(12);
        int N = 5;
        for (int V : new int[]{1, 3, 7, 17, 63, 129, 1000, 50304}) {
            float[] logits = randn(r, N * V, 3f);
            int[] t = targets(r, N, V, true);
            double ref = reference(logits, t, N, V);
            float[] l1 = new float[N], l2 = new float[N];
            float a = CrossEntropyKernel.forwardSimd(logits, t, N, V, IGN, l1);
            float b = CrossEntropyKernel.forwardScalar(logits, t, N, V, IGN, l2);
            assertEquals(ref, a, 1e-5 * Math.max(1, Math.abs(ref)), "simd V=" + V);
            assertEquals(ref, b, 1e-6 * Math.max(1, Math.abs(ref)), "scalar V=" + V);
            assertClose("lse V=" + V, l2, l1, 1e-6, 1e-6);
            assertEquals(0f, l1[1]); // ignored row
        }
    }

    @Test
    void allIgnoredIsNaNAndBadTargetThrows() {
        float[] logits = new float[6];
        assertTrue(Float.isNaN(CrossEntropyKernel.forward(logits, new int[]{IGN, IGN}, 2, 3, IGN, null)));
        float[] d = new float[6];
        CrossEntropyKernel.backward(d, logits, new int[]{IGN, IGN}, new float[2], 2, 3, IGN, 1f);
        assertArrayEquals(new float[6], d);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropyKernel.forward(logits, new int[]{0, 3}, 2, 3, IGN, null));
        assertTrue(ex.getMessage().contains("target 3 at row 1"), ex.getMessage());
    }

    @Test
    void backwardMatchesSoftmaxMinusOneHotAndFiniteDifferences() {
        Random r = new Random(13);
        int N = 4;
        for (int V : new int[]{7, 33}) {
            float[] logits = randn(r, N * V, 1f);
            int[] t = targets(r, N, V, true);
            float[] lse = new float[N];
            CrossEntropyKernel.forward(logits, t, N, V, IGN, lse);
            float[] init = randn(r, N * V, 1f);
            float[] a = init.clone(), b = init.clone();
            CrossEntropyKernel.backwardSimd(a, logits, t, lse, N, V, IGN, 2f);
            CrossEntropyKernel.backwardScalar(b, logits, t, lse, N, V, IGN, 2f);
            assertClose("simd vs scalar V=" + V, b, a, 1e-6, 1e-7);
            int count = CrossEntropyKernel.countValid(t, N, IGN);
            double[] expected = new double[N * V];
            for (int n = 0; n < N; n++) {
                double max = Double.NEGATIVE_INFINITY, s = 0;
                for (int v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
                for (int v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - max);
                for (int v = 0; v < V; v++) {
                    double g = t[n] == IGN ? 0 : (Math.exp(logits[n * V + v] - max) / s - (v == t[n] ? 1 : 0)) * 2.0 / count;
                    expected[n * V + v] = init[n * V + v] + g;
                }
            }
            assertClose("vs reference V=" + V, expected, a, 1e-5, 1e-6);
            for (boolean simd : new boolean[]{true, false}) {
                float[] d = new float[N * V];
                if (simd) CrossEntropyKernel.backwardSimd(d, logits, t, lse, N, V, IGN, 1f);
                else CrossEntropyKernel.backwardScalar(d, logits, t, lse, N, V, IGN, 1f);
                gradCheck("ce simd=" + simd, logits, d, 1e-2f, 2e-3, () -> simd
                        ? CrossEntropyKernel.forwardSimd(logits, t, N, V, IGN, null)
                        : CrossEntropyKernel.forwardScalar(logits, t, N, V, IGN, null));
            }
        }
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(14);
        int N = 8, V = 50304;
        float[] logits = randn(r, N * V, 2f);
        int[] t = targets(r, N, V, true);
        assertThreadIndependent(() -> {
            float[] lse = new float[N];
            float loss = CrossEntropyKernel.forward(logits, t, N, V, IGN, lse);
            float[] d = new float[N * V];
            CrossEntropyKernel.backward(d, logits, t, lse, N, V, IGN, 1f);
            return new float[][]{{loss}, lse, d};
        });
    }
}
