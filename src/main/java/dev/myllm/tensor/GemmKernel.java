package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked micro-kernel: an {@code MR × NR} tile of C from a packed A micro-panel and
 * a packed B micro-panel, with all {@code MR·NR/L} accumulators held in vector registers.
 */
final class GemmKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    /** Lanes per vector (16 with AVX-512). */
    static final int L = F.length();
    /** Rows of C per tile: each k step broadcasts MR elements of A. */
    static final int MR = 8;
    /**
     * Columns of C per tile: two vectors, so 8 × 2 = 16 accumulators + 2 B vectors + 1 broadcast.
     * Measured on AVX-512 (one core, shared machine): 8×2 ≈ 150–175 GFLOP/s; 12×2 and 6×4 similar
     * but less steady; 8×3 ≈ 135, and ~1 GFLOP/s when its stores went through a helper method:
     * the larger body exhausts C2's inlining node budget, Vector API calls stop being inlined and
     * every vector gets boxed. With 8-lane AVX2 the 19 live vectors exceed its 16 registers.
     */
    static final int NR = 2 * L;

    private GemmKernel() {
    }

    /**
     * Computes the full tile {@code T = Ap · Bp} over {@code kc} steps and writes it to C at
     * {@code ci} with row stride {@code ldc}: {@code C = T} when {@code overwrite}, else {@code C += T}.
     * Ap is packed {@code (kc, MR)} from {@code ai}, Bp is packed {@code (kc, NR)} from {@code bi};
     * each C element is a fused multiply-add chain over k in order, starting from zero, so its value
     * does not depend on where the tile lies or which thread computes it.
     * Everything is written out in this one method on purpose: a helper taking vectors as arguments
     * would not be inlined in a method this large and its vector arguments would be boxed.
     */
    static void tile(float[] ap, int ai, float[] bp, int bi, int kc, float[] c, int ci, int ldc, boolean overwrite) {
        if (L == 8) { // AVX2: 16 registers, too few for 16 accumulators
            rows4(ap, ai, 0, bp, bi, kc, c, ci, ldc, overwrite);
            rows4(ap, ai, 4, bp, bi, kc, c, ci + 4 * ldc, ldc, overwrite);
            return;
        }
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int bo = bi + p * NR;
            int ao = ai + p * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bo);
            FloatVector b1 = FloatVector.fromArray(F, bp, bo + L);
            FloatVector a = FloatVector.broadcast(F, ap[ao]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, ap[ao + 1]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(F, ap[ao + 2]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(F, ap[ao + 3]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(F, ap[ao + 4]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(F, ap[ao + 5]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(F, ap[ao + 6]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(F, ap[ao + 7]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
        }
        if (!overwrite) {
            int r = ci;
            c00 = c00.add(FloatVector.fromArray(F, c, r)); c01 = c01.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c10 = c10.add(FloatVector.fromArray(F, c, r)); c11 = c11.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c20 = c20.add(FloatVector.fromArray(F, c, r)); c21 = c21.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c30 = c30.add(FloatVector.fromArray(F, c, r)); c31 = c31.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c40 = c40.add(FloatVector.fromArray(F, c, r)); c41 = c41.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c50 = c50.add(FloatVector.fromArray(F, c, r)); c51 = c51.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c60 = c60.add(FloatVector.fromArray(F, c, r)); c61 = c61.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c70 = c70.add(FloatVector.fromArray(F, c, r)); c71 = c71.add(FloatVector.fromArray(F, c, r + L));
        }
        int r = ci;
        c00.intoArray(c, r); c01.intoArray(c, r + L); r += ldc;
        c10.intoArray(c, r); c11.intoArray(c, r + L); r += ldc;
        c20.intoArray(c, r); c21.intoArray(c, r + L); r += ldc;
        c30.intoArray(c, r); c31.intoArray(c, r + L); r += ldc;
        c40.intoArray(c, r); c41.intoArray(c, r + L); r += ldc;
        c50.intoArray(c, r); c51.intoArray(c, r + L); r += ldc;
        c60.intoArray(c, r); c61.intoArray(c, r + L); r += ldc;
        c70.intoArray(c, r); c71.intoArray(c, r + L);
    }

    /**
     * Rows {@code m0 .. m0+3} of {@link #tile}'s tile, for 8-lane vectors: 8 accumulators + 2 B
     * vectors + 1 broadcast fit AVX2's 16 registers (the whole tile's 19 spilled: 117 GFLOP/s
     * against OpenBLAS's 183 with its Haswell kernel). The B panel is read twice, from L1. Each
     * element is the same chain of multiply-adds, so the bits are the tile's.
     */
    private static void rows4(float[] ap, int ai, int m0, float[] bp, int bi, int kc, float[] c, int ci, int ldc, boolean overwrite) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int p = 0; p < kc; p++) {
            int bo = bi + p * NR;
            int ao = ai + p * MR + m0;
            FloatVector b0 = FloatVector.fromArray(F, bp, bo);
            FloatVector b1 = FloatVector.fromArray(F, bp, bo + L);
            FloatVector a = FloatVector.broadcast(F, ap[ao]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, ap[ao + 1]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(F, ap[ao + 2]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(F, ap[ao + 3]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
        }
        if (!overwrite) {
            int r = ci;
            c00 = c00.add(FloatVector.fromArray(F, c, r)); c01 = c01.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c10 = c10.add(FloatVector.fromArray(F, c, r)); c11 = c11.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c20 = c20.add(FloatVector.fromArray(F, c, r)); c21 = c21.add(FloatVector.fromArray(F, c, r + L)); r += ldc;
            c30 = c30.add(FloatVector.fromArray(F, c, r)); c31 = c31.add(FloatVector.fromArray(F, c, r + L));
        }
        int r = ci;
        c00.intoArray(c, r); c01.intoArray(c, r + L); r += ldc;
        c10.intoArray(c, r); c11.intoArray(c, r + L); r += ldc;
        c20.intoArray(c, r); c21.intoArray(c, r + L); r += ldc;
        c30.intoArray(c, r); c31.intoArray(c, r + L);
    }

    /**
     * Scalar twin of {@link #tile}: the same fused multiply-add chain per element, from zero, then
     * stored or added to C, so both give the same bits.
     */
    static void tileScalar(float[] ap, int ai, float[] bp, int bi, int kc, float[] c, int ci, int ldc, boolean overwrite) {
        for (int m = 0; m < MR; m++) {
            for (int n = 0; n < NR; n++) {
                float t = 0f;
                for (int p = 0; p < kc; p++) t = Math.fma(ap[ai + p * MR + m], bp[bi + p * NR + n], t);
                int o = ci + m * ldc + n;
                c[o] = overwrite ? t : t + c[o];
            }
        }
    }
}
