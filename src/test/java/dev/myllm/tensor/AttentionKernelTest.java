package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionKernelTest {
    /** Naive double attention with the same counter-based dropout mask; returns {out, att}. */
    static double[][] reference(float[] q, float[] k, float[] v, int B, int H, int T, int D, float p, long seed) {
        double[] out = new double[B * H * T * D], att = new double[B * H * T * T];
        int thr = DropoutHash.threshold(p);
        for (int bh = 0; bh < B * H; bh++) {
            for (int i = 0; i < T; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < D; d++) s[j] += (double) q[(bh * T + i) * D + d] * k[(bh * T + j) * D + d];
                    s[j] /= Math.sqrt(D);
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j <= i; j++) z += Math.exp(s[j] - max);
                for (int j = 0; j <= i; j++) {
                    double a = Math.exp(s[j] - max) / z;
                    int idx = (bh * T + i) * T + j;
                    att[idx] = a;
                    double w = p > 0 ? (DropoutHash.keep(seed, idx, thr) ? a / (1 - p) : 0) : a;
                    for (int d = 0; d < D; d++) out[(bh * T + i) * D + d] += w * v[(bh * T + j) * D + d];
                }
            }
        }
        return new double[][]{out, att};
    }

    private static void checkForward(Random r, int B, int H, int T, int D, float p) {
        int n = B * H * T * D;
        float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f);
        double[][] ref = reference(q, k, v, B, H, T, D, p, 77L);
        float[] o1 = new float[n], a1 = new float[B * H * T * T], o2 = new float[n], a2 = new float[B * H * T * T];
        AttentionKernel.forwardSimd(o1, a1, q, k, v, B, H, T, D, p, 77L);
        AttentionKernel.forwardScalar(o2, a2, q, k, v, B, H, T, D, p, 77L);
        String what = " T=" + T + " D=" + D + " p=" + p;
        assertClose("out simd" + what, ref[0], o1, 1e-4, 2e-5);
        assertClose("out scalar" + what, ref[0], o2, 1e-4, 2e-5);
        assertClose("att simd" + what, ref[1], a1, 1e-4, 1e-6);
        assertClose("att scalar" + what, ref[1], a2, 1e-4, 1e-6);
        float[] o3 = new float[n];
        AttentionKernel.forward(o3, null, q, k, v, B, H, T, D, p, 77L); // no saved att
        assertArrayEquals(Simd.ENABLED ? o1 : o2, o3);
    }

    @Test
    void forwardMatchesReferenceForAwkwardSizes() {
        Random r = new Random(17);
        for (int D : SIZES) checkForward(r, 1, 2, 5, D, 0f);
        for (int T : new int[]{1, 3, 7, 17, 63, 129}) checkForward(r, 2, 1, T, 16, 0f);
        checkForward(r, 2, 3, 17, 8, 0.3f);
    }

    @Test
    void attentionRowsAreCausalProbabilities() {
        Random r = new Random(18);
        int B = 1, H = 2, T = 9, D = 4;
        float[] q = randn(r, B * H * T * D, 1f), att = new float[B * H * T * T], out = new float[B * H * T * D];
        AttentionKernel.forward(out, att, q, q.clone(), q.clone(), B, H, T, D, 0f, 0L);
        for (int row = 0; row < B * H * T; row++) {
            int i = row % T;
            double s = 0;
            for (int j = 0; j < T; j++) {
                if (j > i) assertEquals(0f, att[row * T + j]);
                s += att[row * T + j];
            }
            assertEquals(1.0, s, 1e-6);
        }
        // the first position can only attend to itself: out row 0 = v row 0
        for (int d = 0; d < D; d++) assertEquals(q[d], out[d], 1e-6f);
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(21);
        int B = 2, H = 3, T = 64, D = 32, n = B * H * T * D;
        float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f);
        for (float p : new float[]{0f, 0.1f}) {
            assertThreadIndependent(() -> {
                float[] out = new float[n], att = new float[B * H * T * T];
                AttentionKernel.forward(out, att, q, k, v, B, H, T, D, p, 3L);
                return new float[][]{out, att};
            });
        }
    }
}
