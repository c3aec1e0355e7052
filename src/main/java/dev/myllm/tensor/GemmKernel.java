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
    /** Rows of C per tile: each k broadcasts MR elements of A. */
    static final int MR = 8;
    /** Columns of C per tile: three vectors, so 8 × 3 = 24 accumulators + 3 B vectors + 1 broadcast fit in 32 registers. */
    static final int NR = 3 * L;

    private GemmKernel() {
    }

    /**
     * Computes the full tile {@code T = Ap · Bp} over {@code kc} steps and writes it to C at
     * {@code ci} with row stride {@code ldc}: {@code C = T} when {@code overwrite}, else {@code C += T}.
     * Ap is packed {@code (kc, MR)} from {@code ai}, Bp is packed {@code (kc, NR)} from {@code bi};
     * each C element is a fused multiply-add chain over k in order, starting from zero, so its value
     * does not depend on where the tile lies or which thread computes it.
     */
    static void tile(float[] ap, int ai, float[] bp, int bi, int kc, float[] c, int ci, int ldc, boolean overwrite) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
        FloatVector c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int p = 0; p < kc; p++) {
            int bo = bi + p * NR;
            int ao = ai + p * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bo);
            FloatVector b1 = FloatVector.fromArray(F, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bo + 2 * L);
            FloatVector a = FloatVector.broadcast(F, ap[ao]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01); c02 = b2.fma(a, c02);
            a = FloatVector.broadcast(F, ap[ao + 1]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11); c12 = b2.fma(a, c12);
            a = FloatVector.broadcast(F, ap[ao + 2]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21); c22 = b2.fma(a, c22);
            a = FloatVector.broadcast(F, ap[ao + 3]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31); c32 = b2.fma(a, c32);
            a = FloatVector.broadcast(F, ap[ao + 4]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41); c42 = b2.fma(a, c42);
            a = FloatVector.broadcast(F, ap[ao + 5]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51); c52 = b2.fma(a, c52);
            a = FloatVector.broadcast(F, ap[ao + 6]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61); c62 = b2.fma(a, c62);
            a = FloatVector.broadcast(F, ap[ao + 7]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71); c72 = b2.fma(a, c72);
        }
        row(c, ci, c00, c01, c02, overwrite);
        row(c, ci + ldc, c10, c11, c12, overwrite);
        row(c, ci + 2 * ldc, c20, c21, c22, overwrite);
        row(c, ci + 3 * ldc, c30, c31, c32, overwrite);
        row(c, ci + 4 * ldc, c40, c41, c42, overwrite);
        row(c, ci + 5 * ldc, c50, c51, c52, overwrite);
        row(c, ci + 6 * ldc, c60, c61, c62, overwrite);
        row(c, ci + 7 * ldc, c70, c71, c72, overwrite);
    }

    private static void row(float[] c, int ci, FloatVector v0, FloatVector v1, FloatVector v2, boolean overwrite) {
        if (!overwrite) {
            v0 = v0.add(FloatVector.fromArray(F, c, ci));
            v1 = v1.add(FloatVector.fromArray(F, c, ci + L));
            v2 = v2.add(FloatVector.fromArray(F, c, ci + 2 * L));
        }
        v0.intoArray(c, ci);
        v1.intoArray(c, ci + L);
        v2.intoArray(c, ci + 2 * L);
    }
}
