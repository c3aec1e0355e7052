package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PanelKernels}' float32 panel kernels for 8-lane vectors (AVX2, 16 registers): each
 * k's 48 weights of a panel (six vectors) read in one go, one or two input rows at a time. The
 * 16-lane kernels' passes of three vectors read each k's 192 bytes in two halves, one pass after
 * the other, and their eight-row kernel's 24 accumulators spilled. Each output is the same chain
 * of fused multiply-adds over k as in every other kernel, so the bits are the same.
 */
final class WidePanelKernels {
    private static final VectorSpecies<Float> F = PanelKernels.F;
    private static final int W = PanelKernels.W;
    /**
     * Whether the panel products take these kernels: 8 lanes, where a panel's 48 columns are six
     * vectors (and twelve chains still fit AVX2's 16 registers).
     */
    static final boolean ON = PanelKernels.L == 8 && W == 6 * PanelKernels.L;

    private WidePanelKernels() {
    }

    /** {@code PanelChains.two1} over whole panels with 8 lanes: twelve chains, one broadcast, the same chain per column. */
    static void two(float[] x, int xo, float[] w, int o, int o2, int K, float[] t) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, d0 = z, d1 = z, d2 = z, d3 = z, d4 = z, d5 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W;
            FloatVector a = FloatVector.broadcast(F, x[xo + k]);
            c0 = a.fma(FloatVector.fromArray(F, w, q), c0);
            c1 = a.fma(FloatVector.fromArray(F, w, q + 8), c1);
            c2 = a.fma(FloatVector.fromArray(F, w, q + 16), c2);
            c3 = a.fma(FloatVector.fromArray(F, w, q + 24), c3);
            c4 = a.fma(FloatVector.fromArray(F, w, q + 32), c4);
            c5 = a.fma(FloatVector.fromArray(F, w, q + 40), c5);
            d0 = a.fma(FloatVector.fromArray(F, w, q2), d0);
            d1 = a.fma(FloatVector.fromArray(F, w, q2 + 8), d1);
            d2 = a.fma(FloatVector.fromArray(F, w, q2 + 16), d2);
            d3 = a.fma(FloatVector.fromArray(F, w, q2 + 24), d3);
            d4 = a.fma(FloatVector.fromArray(F, w, q2 + 32), d4);
            d5 = a.fma(FloatVector.fromArray(F, w, q2 + 40), d5);
        }
        c0.intoArray(t, 0); c1.intoArray(t, 8); c2.intoArray(t, 16); c3.intoArray(t, 24); c4.intoArray(t, 32); c5.intoArray(t, 40);
        d0.intoArray(t, W); d1.intoArray(t, W + 8); d2.intoArray(t, W + 16); d3.intoArray(t, W + 24); d4.intoArray(t, W + 32); d5.intoArray(t, W + 40);
    }

    /** {@code PanelChains.rows1} over a whole panel with 8 lanes: six chains; A[k] at {@code x[xo + k·xs]}, results at {@code t[tc ..]}. */
    static void one(float[] x, int xo, int xs, float[] w, int o, int K, float[] t, int tc) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W;
            FloatVector a = FloatVector.broadcast(F, x[xo + k * xs]);
            c0 = a.fma(FloatVector.fromArray(F, w, q), c0);
            c1 = a.fma(FloatVector.fromArray(F, w, q + 8), c1);
            c2 = a.fma(FloatVector.fromArray(F, w, q + 16), c2);
            c3 = a.fma(FloatVector.fromArray(F, w, q + 24), c3);
            c4 = a.fma(FloatVector.fromArray(F, w, q + 32), c4);
            c5 = a.fma(FloatVector.fromArray(F, w, q + 40), c5);
        }
        c0.intoArray(t, tc); c1.intoArray(t, tc + 8); c2.intoArray(t, tc + 16); c3.intoArray(t, tc + 24); c4.intoArray(t, tc + 32); c5.intoArray(t, tc + 40);
    }

    /** Two rows of a transposed group (A[k] at {@code a[ab + k·8]} and the next) over a whole panel with 8 lanes: twelve chains, results at {@code t[tc ..]} and a row after. */
    static void rows2(float[] a, int ab, float[] w, int o, int K, float[] t, int tc) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, d0 = z, d1 = z, d2 = z, d3 = z, d4 = z, d5 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * PanelKernels.ROWS;
            FloatVector x0 = FloatVector.broadcast(F, a[ak]), x1 = FloatVector.broadcast(F, a[ak + 1]);
            FloatVector v = FloatVector.fromArray(F, w, q);
            c0 = x0.fma(v, c0); d0 = x1.fma(v, d0);
            v = FloatVector.fromArray(F, w, q + 8);
            c1 = x0.fma(v, c1); d1 = x1.fma(v, d1);
            v = FloatVector.fromArray(F, w, q + 16);
            c2 = x0.fma(v, c2); d2 = x1.fma(v, d2);
            v = FloatVector.fromArray(F, w, q + 24);
            c3 = x0.fma(v, c3); d3 = x1.fma(v, d3);
            v = FloatVector.fromArray(F, w, q + 32);
            c4 = x0.fma(v, c4); d4 = x1.fma(v, d4);
            v = FloatVector.fromArray(F, w, q + 40);
            c5 = x0.fma(v, c5); d5 = x1.fma(v, d5);
        }
        c0.intoArray(t, tc); c1.intoArray(t, tc + 8); c2.intoArray(t, tc + 16); c3.intoArray(t, tc + 24); c4.intoArray(t, tc + 32); c5.intoArray(t, tc + 40);
        int u = tc + W;
        d0.intoArray(t, u); d1.intoArray(t, u + 8); d2.intoArray(t, u + 16); d3.intoArray(t, u + 24); d4.intoArray(t, u + 32); d5.intoArray(t, u + 40);
    }
}
