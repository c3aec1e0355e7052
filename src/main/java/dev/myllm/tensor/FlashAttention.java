package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled dot-product attention, tiled with an online softmax as in FlashAttention: the
 * forward pass visits keys a block at a time, keeping per query row only a running maximum, a
 * running sum and the output accumulator, and saves one log-sum-exp per row; the backward pass
 * recomputes each block of weights from it. No {@code (B, H, T, T)} array is ever made, so the
 * memory of attention grows with T, not T².
 *
 * <p>Both passes work transposed, a key per row and a query per vector lane ({@link FlashForward},
 * {@link FlashBackward}): the block products are packed {@link GemmKernel} tiles, the online
 * softmax's maxima and sums are lanewise, and only the key gradients go through {@link #tile},
 * the same {@code 8 × 2L} tile reading its A operand with strides. q, k, v and the output can be
 * laid out as {@code (B, H, T, D)} or as parts of {@code (B, T, ·)} rows (a fused QKV
 * projection), see {@link Layout}.
 *
 * <p>Determinism: the forward pass splits work over (head, query block) pairs and the backward
 * pass over heads, each with a fixed visiting order, so results are bitwise the same for any
 * number of threads. The dropout mask of weight (b, h, i, j) is element {@code ((b·H + h)·T + i)·T + j}
 * of a {@link DropoutMask}, as in {@link AttentionKernel}.
 */
public final class FlashAttention {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Rows of a tile. */
    static final int MR = 8;
    /** Columns of a tile: two vectors. */
    static final int NR = 2 * L;

    private FlashAttention() {
    }

    /** Where element (b, h, t, 0) of a logical {@code (B, H, T, D)} tensor lives: {@code off + b·sB + h·sH + t·sT}. */
    public record Layout(int off, int sB, int sH, int sT) {
        /** A contiguous {@code (B, H, T, D)} tensor. */
        public static Layout heads(int h, int t, int d) {
            return new Layout(0, h * t * d, t * d, d);
        }

        /** Heads side by side in {@code (B, T, width)} rows, head 0 starting at column {@code col}. */
        public static Layout rows(int col, int t, int d, int width) {
            return new Layout(col, t * width, d, width);
        }

        int at(int b, int h, int t) {
            return off + b * sB + h * sH + t * sT;
        }
    }

    // ------------------------------------------------------------------ forward

    /**
     * Causal attention forward.
     *
     * @param out (B, H, T, D) in layout {@code lo}, written
     * @param lse (B·H·T) written: log Σ_j e^(score_ij) of every query row, for backward
     * @param mask which attention weights dropout keeps (null: no dropout); backward needs the same one
     */
    public static void forward(float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk,
                               float[] v, Layout lv, int B, int H, int T, int D, DropoutMask mask) {
        long t0 = StepProfile.begin();
        forward(Simd.ENABLED, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
        StepProfile.end(t0, "attention forward T=" + T, 2.0 * B * H * T * (T + 1) * D); // q·kᵀ and w·v over the causal half
    }

    static void forward(boolean simd, float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk,
                        float[] v, Layout lv, int B, int H, int T, int D, DropoutMask mask) {
        FlashForward.forward(simd, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
    }

    // ------------------------------------------------------------------ backward

    /**
     * Causal attention backward, accumulating into dq, dk, dv (any may be null; each in the layout
     * of its input, so a fused QKV gradient can be one array). Recomputes each block of weights from
     * q, k and {@code lse}; {@code out} is the forward output (for Σ_j w_ij·dw_ij = dout_i·out_i).
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] out, Layout lo, float[] lse,
                                float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                                int B, int H, int T, int D, DropoutMask mask) {
        long t0 = StepProfile.begin();
        backward(Simd.ENABLED, dq, dk, dv, dout, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
        StepProfile.end(t0, "attention backward T=" + T, 5.0 * B * H * T * (T + 1) * D); // q·kᵀ again, dout·vᵀ, dq, dk, dv
    }

    static void backward(boolean simd, float[] dq, float[] dk, float[] dv, float[] dout, float[] out, Layout lo,
                         float[] lse, float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                         int B, int H, int T, int D, DropoutMask mask) {
        FlashBackward.backward(simd, dq, dk, dv, dout, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
    }

    /**
     * One {@code 8 × 2L} tile: each C element is one fused multiply-add chain over k in order,
     * from 0 or (accumulating) from its old value, so {@link #tileScalar} gives the same bits.
     * Written out in one method, as {@code GemmKernel.tile}, so every vector stays in a register.
     */
    static void tile(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, int kc, float[] c, int co, int ldc,
                     boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate) {
            int r = co;
            c00 = FloatVector.fromArray(F, c, r); c01 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c10 = FloatVector.fromArray(F, c, r); c11 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c20 = FloatVector.fromArray(F, c, r); c21 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c30 = FloatVector.fromArray(F, c, r); c31 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c40 = FloatVector.fromArray(F, c, r); c41 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c50 = FloatVector.fromArray(F, c, r); c51 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c60 = FloatVector.fromArray(F, c, r); c61 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c70 = FloatVector.fromArray(F, c, r); c71 = FloatVector.fromArray(F, c, r + L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        }
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * brs, ak = ao + k * acs;
            FloatVector b0 = FloatVector.fromArray(F, b, bk);
            FloatVector b1 = FloatVector.fromArray(F, b, bk + L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[ak + ars]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[ak + 2 * ars]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[ak + 3 * ars]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[ak + 4 * ars]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[ak + 5 * ars]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(F, a[ak + 6 * ars]);
            c60 = b0.fma(x, c60); c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(F, a[ak + 7 * ars]);
            c70 = b0.fma(x, c70); c71 = b1.fma(x, c71);
        }
        int r = co;
        c00.intoArray(c, r); c01.intoArray(c, r + L); r += ldc;
        c10.intoArray(c, r); c11.intoArray(c, r + L); r += ldc;
        c20.intoArray(c, r); c21.intoArray(c, r + L); r += ldc;
        c30.intoArray(c, r); c31.intoArray(c, r + L); r += ldc;
        c40.intoArray(c, r); c41.intoArray(c, r + L); r += ldc;
        c50.intoArray(c, r); c51.intoArray(c, r + L); r += ldc;
        c60.intoArray(c, r); c61.intoArray(c, r + L); r += ldc;
        c70.intoArray(c, r); c71.intoArray(c, r + L);
    }

    /** Scalar twin of {@link #tile}: the same chains, element by element. */
    static void tileScalar(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, int kc, float[] c, int co,
                           int ldc, boolean accumulate) {
        for (int m = 0; m < MR; m++) {
            for (int n = 0; n < NR; n++) {
                float acc = accumulate ? c[co + m * ldc + n] : 0f;
                for (int k = 0; k < kc; k++) acc = Math.fma(a[ao + m * ars + k * acs], b[bo + k * brs + n], acc);
                c[co + m * ldc + n] = acc;
            }
        }
    }
}
