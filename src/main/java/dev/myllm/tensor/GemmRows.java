package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * NN and TN products with few rows of C (the input gradient and the weight gradient of a small
 * batch): B is read along its rows while strips of four vectors of C stay in registers.
 */
final class GemmRows {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private GemmRows() {
    }

    /**
     * NN and TN with few rows: {@code C[m,n] = Σ_k A(m,k)·B[k,n]}, {@code A(m,k) = a[aOff + m·ars + k·acs]},
     * B {@code (K, N)} row-major: strips of 4 vectors of C stay in registers while B is read along rows.
     */
    static void rowsTimesB(float[] a, int aOff, int ars, int acs, float[] b, int bOff, float[] c, int cOff,
                           int M, int N, int K, boolean accumulate) {
        int w = 4 * L;
        int strips = (N + w - 1) / w;
        Parallel.forRange(strips, GemmSmall.grain(strips, 2L * w * M * K), (s0, s1) -> {
            for (int s = s0; s < s1; s++) {
                int n = s * w;
                for (int m = 0; m < M; m++) {
                    strip(a, aOff + m * ars, acs, b, bOff, c, cOff + m * N, N, K, n, Math.min(N, n + w), accumulate);
                }
            }
        });
    }

    /** Columns {@code [n0, n1)} of one row of C; {@code A(m,k) = a[ar + k·acs]}. */
    private static void strip(float[] a, int ar, int acs, float[] b, int bOff, float[] c, int cr, int N, int K,
                              int n0, int n1, boolean accumulate) {
        int n = n0;
        if (n1 - n0 == 4 * L) {
            FloatVector z = FloatVector.zero(F);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (int k = 0; k < K; k++) {
                FloatVector x = FloatVector.broadcast(F, a[ar + k * acs]);
                int bi = bOff + k * N + n;
                s0 = FloatVector.fromArray(F, b, bi).fma(x, s0);
                s1 = FloatVector.fromArray(F, b, bi + L).fma(x, s1);
                s2 = FloatVector.fromArray(F, b, bi + 2 * L).fma(x, s2);
                s3 = FloatVector.fromArray(F, b, bi + 3 * L).fma(x, s3);
            }
            put(s0, c, cr + n, accumulate);
            put(s1, c, cr + n + L, accumulate);
            put(s2, c, cr + n + 2 * L, accumulate);
            put(s3, c, cr + n + 3 * L, accumulate);
            return;
        }
        for (; n <= n1 - L; n += L) {
            FloatVector s0 = FloatVector.zero(F);
            for (int k = 0; k < K; k++) {
                s0 = FloatVector.fromArray(F, b, bOff + k * N + n).fma(FloatVector.broadcast(F, a[ar + k * acs]), s0);
            }
            put(s0, c, cr + n, accumulate);
        }
        for (; n < n1; n++) {
            float s = 0f;
            for (int k = 0; k < K; k++) s = Math.fma(a[ar + k * acs], b[bOff + k * N + n], s);
            c[cr + n] = accumulate ? c[cr + n] + s : s;
        }
    }

    private static void put(FloatVector v, float[] c, int ci, boolean accumulate) {
        if (accumulate) v = v.add(FloatVector.fromArray(F, c, ci));
        v.intoArray(c, ci);
    }
}
