package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.myllm.tensor.FlashAttention.Layout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The tiled online-softmax attention against a double reference, its scalar twin, finite differences and other layouts. */
class FlashAttentionTest {
    private static DropoutMask mask(float p, long seed) {
        return p > 0 ? DropoutMask.hashed(p, seed) : null;
    }

    private static float[] forward(boolean simd, float[] q, float[] k, float[] v, float[] lse, int B, int H, int T, int D,
                                   float p, long seed) {
        Layout l = Layout.heads(H, T, D);
        float[] out = new float[B * H * T * D];
        FlashAttention.forward(simd, out, l, lse, q, l, k, l, v, l, B, H, T, D, mask(p, seed));
        return out;
    }

    /** dq, dk, dv concatenated. */
    private static float[] backward(boolean simd, float[] g, float[] q, float[] k, float[] v, int B, int H, int T, int D,
                                    float p, long seed, boolean wantQ, boolean wantK, boolean wantV) {
        int n = B * H * T * D;
        Layout l = Layout.heads(H, T, D);
        float[] lse = new float[B * H * T];
        float[] out = forward(simd, q, k, v, lse, B, H, T, D, p, seed);
        float[] dq = wantQ ? new float[n] : null, dk = wantK ? new float[n] : null, dv = wantV ? new float[n] : null;
        FlashAttention.backward(simd, dq, dk, dv, g, out, l, lse, q, l, k, l, v, l, B, H, T, D, mask(p, seed));
        float[] all = new float[3 * n];
        if (wantQ) System.arraycopy(dq, 0, all, 0, n);
        if (wantK) System.arraycopy(dk, 0, all, n, n);
        if (wantV) System.arraycopy(dv, 0, all, 2 * n, n);
        return all;
    }

    private static void checkForward(Random r, int B, int H, int T, int D, float p) {
        int n = B * H * T * D;
        float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f);
        double[][] ref = AttentionKernelTest.reference(q, k, v, B, H, T, D, p, 77L);
        String what = " B=" + B + " H=" + H + " T=" + T + " D=" + D + " p=" + p;
        for (boolean simd : new boolean[]{true, false}) {
            float[] lse = new float[B * H * T];
            float[] out = forward(simd, q, k, v, lse, B, H, T, D, p, 77L);
            assertClose("out " + (simd ? "simd" : "scalar") + what, ref[0], out, 1e-4, 2e-5);
            // lse of row i: log Σ_j e^(q_i·k_j/√D)
            double[] refLse = new double[B * H * T];
            for (int bh = 0; bh < B * H; bh++) {
                for (int i = 0; i < T; i++) {
                    double z = 0;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < D; d++) s += (double) q[(bh * T + i) * D + d] * k[(bh * T + j) * D + d];
                        z += Math.exp(s / Math.sqrt(D));
                    }
                    refLse[bh * T + i] = Math.log(z);
                }
            }
            assertClose("lse" + what, refLse, lse, 1e-5, 1e-5);
        }
    }

    @Test
    void forwardMatchesReferenceForAwkwardSizes() {
        Random r = new Random(31);
        for (int D : new int[]{1, 3, 7, 17, 33, 64, 129}) checkForward(r, 1, 2, 5, D, 0f);
        for (int T : new int[]{1, 3, 7, 8, 9, 17, 31, 32, 33, 63, 65, 100}) checkForward(r, 2, 1, T, 16, 0f);
        checkForward(r, 2, 3, 37, 8, 0.3f);
        checkForward(r, 1, 1, 70, 64, 0.1f);
    }

    @Test
    void tileAndScalarTwinGiveTheSameBits() {
        Random r = new Random(32);
        int nr = FlashAttention.NR;
        for (int kc : new int[]{0, 1, 5, 64, 67}) {
            float[] a = randn(r, 8 * 70 + 70, 1f), b = randn(r, 70 * 3 * nr, 1f), c0 = randn(r, 9 * 3 * nr, 1f);
            for (boolean acc : new boolean[]{false, true}) {
                float[] c1 = c0.clone(), c2 = c0.clone();
                FlashAttention.tile(a, 3, 70, 1, b, 5, 3 * nr, kc, c1, 2, 3 * nr, acc);
                FlashAttention.tileScalar(a, 3, 70, 1, b, 5, 3 * nr, kc, c2, 2, 3 * nr, acc);
                assertArrayEquals(c2, c1, "kc=" + kc + " accumulate=" + acc);
                // transposed A (stride 1 between rows)
                FlashAttention.tile(a, 1, 1, 8, b, 0, nr, kc, c1, 0, nr, acc);
                FlashAttention.tileScalar(a, 1, 1, 8, b, 0, nr, kc, c2, 0, nr, acc);
                assertArrayEquals(c2, c1, "transposed kc=" + kc + " accumulate=" + acc);
            }
        }
    }

    @Test
    void backwardSimdMatchesScalarAndFiniteDifferences() {
        Random r = new Random(33);
        for (float p : new float[]{0f, 0.3f}) {
            for (int[] td : new int[][]{{5, 3}, {5, 17}, {35, 4}, {70, 3}}) { // 70: two key blocks, three query blocks
                int B = 1, H = 2, T = td[0], D = td[1], n = B * H * T * D;
                float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f), g = randn(r, n, 1f);
                float[] simd = backward(true, g, q, k, v, B, H, T, D, p, 5L, true, true, true);
                float[] scalar = backward(false, g, q, k, v, B, H, T, D, p, 5L, true, true, true);
                String what = " p=" + p + " T=" + T + " D=" + D;
                assertClose("simd vs scalar" + what, scalar, simd, 1e-4, 1e-5);
                java.util.function.DoubleSupplier loss = () -> dotLoss(forward(false, q, k, v, new float[B * H * T], B, H, T, D, p, 5L), g);
                gradCheck("dq" + what, q, java.util.Arrays.copyOfRange(scalar, 0, n), 1e-2f, 3e-3, loss);
                gradCheck("dk" + what, k, java.util.Arrays.copyOfRange(scalar, n, 2 * n), 1e-2f, 3e-3, loss);
                gradCheck("dv" + what, v, java.util.Arrays.copyOfRange(scalar, 2 * n, 3 * n), 1e-2f, 3e-3, loss);
                // gradients not asked for are skipped; dv alone equals the dv of the full call
                float[] vOnly = backward(true, g, q, k, v, B, H, T, D, p, 5L, false, false, true);
                assertArrayEquals(java.util.Arrays.copyOfRange(simd, 2 * n, 3 * n), java.util.Arrays.copyOfRange(vOnly, 2 * n, 3 * n));
            }
        }
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(34);
        int B = 2, H = 3, T = 70, D = 32, n = B * H * T * D;
        float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f), g = randn(r, n, 1f);
        for (float p : new float[]{0f, 0.1f}) {
            assertThreadIndependent(() -> {
                float[] lse = new float[B * H * T];
                float[] out = forward(Simd.ENABLED, q, k, v, lse, B, H, T, D, p, 3L);
                return new float[][]{out, lse, backward(Simd.ENABLED, g, q, k, v, B, H, T, D, p, 3L, true, true, true)};
            });
        }
    }

    @Test
    void fusedQkvLayoutGivesTheSameBitsAsSeparateHeads() {
        Rng rng = new Rng(35);
        int B = 2, T = 37, H = 3, D = 20, C = H * D;
        Tensor qkv = Tensor.normal(rng, 0, 1, B, T, 3 * C).requiresGrad(true);
        Tensor g = Tensor.normal(rng, 0, 1, B, T, C);
        for (float p : new float[]{0f, 0.2f}) {
            float[] fused, fusedGrad, split, splitGrad;
            try (Arena a = Arena.open()) {
                qkv.clearGrad();
                Tensor y = Ops.causalSelfAttention(qkv, H, p, 11L);
                fused = y.toArray();
                y.mul(g).sum().backward();
                fusedGrad = qkv.grad().toArray();
            }
            try (Arena a = Arena.open()) {
                qkv.clearGrad();
                Tensor[] h = Heads.splitQkv(qkv, H);
                Tensor y = Heads.merge(Ops.causalAttention(h[0], h[1], h[2], p, 11L));
                split = y.toArray();
                y.mul(g).sum().backward();
                splitGrad = qkv.grad().toArray();
            }
            assertThat(fused).as("output p=%s", p).isEqualTo(split);
            assertThat(fusedGrad).as("gradient p=%s", p).isEqualTo(splitGrad);
        }
    }

    @Test
    void weightsOnRequestAreTheSoftmaxThatTheOutputUses() {
        Random r = new Random(36);
        int B = 1, H = 2, T = 9, D = 4, n = B * H * T * D;
        float[] q = randn(r, n, 1f), k = randn(r, n, 1f), v = randn(r, n, 1f);
        double[][] ref = AttentionKernelTest.reference(q, k, v, B, H, T, D, 0f, 0L);
        Tensor w = Ops.causalAttentionWeights(Tensor.of(q, B, H, T, D), Tensor.of(k, B, H, T, D));
        assertThat(w.shape()).containsExactly(B, H, T, T);
        assertClose("weights", ref[1], w.data(), 1e-5, 1e-6);
    }
}
