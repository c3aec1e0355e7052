package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PanelKernels}' chains: each computes {@code PASS} (3 vectors) columns of one float32 panel,
 * or of two side by side, for one to eight input rows, from {@code w[o ..]} (a k's W floats, the
 * next k's W after), each output one chain of fused multiply-adds over k from 0, and stores the
 * results into {@code t[r·W + c ..]} ({@code t[r·2W + c ..]} for two panels). Called only from
 * {@link PanelKernels}' loops over panels, as {@link HalfPanelChains} are from theirs.
 */
final class PanelChains {
    private static final VectorSpecies<Float> F = PanelKernels.F;
    private static final int L = PanelKernels.L;
    private static final int W = PanelKernels.W;
    private static final int ROWS = PanelKernels.ROWS;

    private PanelChains() {
    }

    // ---- the kernels: PASS columns of a panel from w[o ..] (rows W floats apart), results into t[r·W + c ..] ----
    // (each stores its accumulators itself: a helper taking them as arguments left them boxed, and
    // eight-row products took 2.2x row-major's time)

    /**
     * One row, two panels side by side (o and o2): six chains, one broadcast; A[k] at {@code
     * a[ao + k·as]}. The two-panel kernels store row r's results at {@code t[r·2W ..]}, the second panel's W after.
     */
    static void two1(float[] a, int ao, int as, float[] w, int o, int o2, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z, d0 = z, d1 = z, d2 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W;
            FloatVector x = FloatVector.broadcast(F, a[ao + k * as]);
            c0 = x.fma(FloatVector.fromArray(F, w, q), c0);
            c1 = x.fma(FloatVector.fromArray(F, w, q + L), c1);
            c2 = x.fma(FloatVector.fromArray(F, w, q + 2 * L), c2);
            d0 = x.fma(FloatVector.fromArray(F, w, q2), d0);
            d1 = x.fma(FloatVector.fromArray(F, w, q2 + L), d1);
            d2 = x.fma(FloatVector.fromArray(F, w, q2 + 2 * L), d2);
        }
        c0.intoArray(t, c); c1.intoArray(t, c + L); c2.intoArray(t, c + 2 * L);
        d0.intoArray(t, W + c); d1.intoArray(t, W + c + L); d2.intoArray(t, W + c + 2 * L);
    }

    // two to four rows over two panels side by side: two1's loop with more rows

    static void two4(float[] a, int ab, float[] w, int o, int o2, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, d20 = z, d21 = z, d22 = z, c30 = z, c31 = z, c32 = z, d30 = z, d31 = z, d32 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector v0 = FloatVector.fromArray(F, w, q2), v1 = FloatVector.fromArray(F, w, q2 + L), v2 = FloatVector.fromArray(F, w, q2 + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); d20 = x.fma(v0, d20); d21 = x.fma(v1, d21); d22 = x.fma(v2, d22);
            x = FloatVector.broadcast(F, a[ak + 3]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); d30 = x.fma(v0, d30); d31 = x.fma(v1, d31); d32 = x.fma(v2, d32);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
        c20.intoArray(t, 4 * W + c); c21.intoArray(t, 4 * W + c + L); c22.intoArray(t, 4 * W + c + 2 * L);
        d20.intoArray(t, 5 * W + c); d21.intoArray(t, 5 * W + c + L); d22.intoArray(t, 5 * W + c + 2 * L);
        c30.intoArray(t, 6 * W + c); c31.intoArray(t, 6 * W + c + L); c32.intoArray(t, 6 * W + c + 2 * L);
        d30.intoArray(t, 7 * W + c); d31.intoArray(t, 7 * W + c + L); d32.intoArray(t, 7 * W + c + 2 * L);
    }

    static void two3(float[] a, int ab, float[] w, int o, int o2, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, d20 = z, d21 = z, d22 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector v0 = FloatVector.fromArray(F, w, q2), v1 = FloatVector.fromArray(F, w, q2 + L), v2 = FloatVector.fromArray(F, w, q2 + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); d20 = x.fma(v0, d20); d21 = x.fma(v1, d21); d22 = x.fma(v2, d22);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
        c20.intoArray(t, 4 * W + c); c21.intoArray(t, 4 * W + c + L); c22.intoArray(t, 4 * W + c + 2 * L);
        d20.intoArray(t, 5 * W + c); d21.intoArray(t, 5 * W + c + L); d22.intoArray(t, 5 * W + c + 2 * L);
    }

    static void two2(float[] a, int ab, float[] w, int o, int o2, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector v0 = FloatVector.fromArray(F, w, q2), v1 = FloatVector.fromArray(F, w, q2 + L), v2 = FloatVector.fromArray(F, w, q2 + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
    }

    /** One row, A[k] at {@code a[ao + k·as]} (as 1: the input itself; 8: a row of the transposed group). */
    static void rows1(float[] a, int ao, int as, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W;
            FloatVector x = FloatVector.broadcast(F, a[ao + k * as]);
            c0 = x.fma(FloatVector.fromArray(F, w, q), c0);
            c1 = x.fma(FloatVector.fromArray(F, w, q + L), c1);
            c2 = x.fma(FloatVector.fromArray(F, w, q + 2 * L), c2);
        }
        c0.intoArray(t, c); c1.intoArray(t, c + L); c2.intoArray(t, c + 2 * L);
    }

    /**
     * Eight rows: 24 accumulators; each k broadcasts a[ab + k·8 + r] against three weight vectors
     * loaded one k ahead (31 of the 32 vector registers), so that the loads of weights streaming in
     * from memory issue before the 24 multiply-adds that wait on them: 0.955x the time of loading them
     * in place (the 49 decode products of gpt2-small at 8 rows, one JVM, interleaved). Five to seven
     * rows do the same (6 rows: 0.98x; 5 rows: the same time). The two-panel kernels of one to three
     * rows stay as they are: the same change took 1.13x the time at one row and 1.06x at two and
     * three, whose loops wait on memory rather than on their multiply-adds; four have no registers left.
     */
    static void rows8(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L), w2 = FloatVector.fromArray(F, w, o + 2 * L);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = FloatVector.fromArray(F, w, q), n1 = FloatVector.fromArray(F, w, q + L), n2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[ak + 6]); c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            x = FloatVector.broadcast(F, a[ak + 7]); c70 = x.fma(w0, c70); c71 = x.fma(w1, c71); c72 = x.fma(w2, c72);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
        c60.intoArray(t, 6 * W + c); c61.intoArray(t, 6 * W + c + L); c62.intoArray(t, 6 * W + c + 2 * L);
        c70.intoArray(t, 7 * W + c); c71.intoArray(t, 7 * W + c + L); c72.intoArray(t, 7 * W + c + 2 * L);
    }

    // the leftover rows of a product (m not a multiple of 8): rows8's loop with fewer chains

    static void rows7(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z;
        FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L), w2 = FloatVector.fromArray(F, w, o + 2 * L);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = FloatVector.fromArray(F, w, q), n1 = FloatVector.fromArray(F, w, q + L), n2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[ak + 6]); c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
        c60.intoArray(t, 6 * W + c); c61.intoArray(t, 6 * W + c + L); c62.intoArray(t, 6 * W + c + 2 * L);
    }

    static void rows6(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
        FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L), w2 = FloatVector.fromArray(F, w, o + 2 * L);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = FloatVector.fromArray(F, w, q), n1 = FloatVector.fromArray(F, w, q + L), n2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
    }

    static void rows5(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z;
        FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L), w2 = FloatVector.fromArray(F, w, o + 2 * L);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = FloatVector.fromArray(F, w, q), n1 = FloatVector.fromArray(F, w, q + L), n2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
    }

    static void rows4(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
    }

    static void rows3(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
    }

    static void rows2(float[] a, int ab, float[] w, int o, int K, float[] t, int c) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = FloatVector.fromArray(F, w, q), w1 = FloatVector.fromArray(F, w, q + L), w2 = FloatVector.fromArray(F, w, q + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
    }
}
