package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products with very few rows of C (M=1 decoding, small batches), where packing would cost
 * as much as the product: they stream B once, straight from the caller's array, with several
 * independent vector accumulators.
 */
final class GemmSmall {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Products with at most this many rows of C take these paths (the packed kernel pads to 8 rows). */
    static final int MAX_ROWS = 4;
    /** Below this many flops per task, another thread costs more than it saves (the pool spins, so that is little). */
    private static final double MIN_TASK_FLOPS = 2.5e5;

    /** Per-thread scratch for the lanes of twelve dot-product accumulators. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[12 * L]);

    private GemmSmall() {
    }

    private static int grain(int items, long flopsPerItem) {
        return (int) Math.max(1, Math.min(items, Math.ceil(MIN_TASK_FLOPS / Math.max(1, flopsPerItem))));
    }

    /**
     * NT with few rows: {@code C[m,n] = Σ_k A[m,k]·B[n,k]}, A {@code (M, K)}, B {@code (N, K)}: dot
     * products of rows, four rows of B at a time (they stay in L1 while every row of A passes,
     * three rows of A per pass, then two, then one).
     *
     * <p>Batch-invariant: every path gives each C element exactly {@link #dot4}'s operations in
     * its order (two vector accumulators over alternate blocks of L, a last odd block into the
     * first, the lanes summed left to right, a scalar tail), so a row's bits do not depend on M,
     * on which rows share a pass, or on the split over threads.
     */
    static void nt(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                   int M, int N, int K, boolean accumulate) {
        int groups = (N + 3) / 4;
        int block = Math.max(grain(groups, 8L * M * K), groups / (Parallel.threads() * BLOCKS_PER_THREAD));
        int blocks = (groups + block - 1) / block;
        if (blocks <= 1) {
            ntGroups(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, 0, groups);
            return;
        }
        // threads take blocks of groups as they come free, not a fixed share each: a thread that
        // another process (or the server's own I/O) holds up does not hold the product up
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(Parallel.threads(), blocks), 1, (t0, t1) -> {
            for (int i; (i = next.getAndIncrement()) < blocks; ) {
                ntGroups(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, i * block, Math.min(groups, (i + 1) * block));
            }
        });
    }

    /** Blocks of column groups per thread that {@link #nt} hands out: enough to even out a late start. */
    private static final int BLOCKS_PER_THREAD = 16;

    /** Column groups {@code [g0, g1)} (four rows of B each) of {@link #nt}. */
    private static void ntGroups(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate, int g0, int g1) {
        float[] lanes = LANES.get();
        for (int g = g0; g < g1; g++) {
            int n = g * 4;
            int rows = Math.min(4, N - n);
            int m = 0;
            if (rows == 4) {
                // three rows of A per pass over the four B rows (two and two when four are left,
                // two when two are): fewer passes over B, fewer B loads per multiply-add
                for (; M - m >= 3 && M - m != 4; m += 3) {
                    dot4x3(a, aOff + m * K, K, b, bOff + n * K, lanes, c, cOff + m * N + n, N, accumulate);
                }
                for (; m + 1 < M; m += 2) {
                    dot4x2(a, aOff + m * K, aOff + (m + 1) * K, b, bOff + n * K, K, lanes, c, cOff + m * N + n, N, accumulate);
                }
            }
            for (; m < M; m++) {
                int ar = aOff + m * K;
                int ci = cOff + m * N + n;
                if (rows == 4) {
                    dot4(a, ar, b, bOff + n * K, K, lanes, c, ci, accumulate);
                } else {
                    for (int r = 0; r < rows; r++) {
                        float s = dot1(a, ar, b, bOff + (n + r) * K, K, lanes);
                        c[ci + r] = accumulate ? c[ci + r] + s : s;
                    }
                }
            }
        }
    }

    /**
     * {@link #dot4} for three consecutive rows of A at {@code ar}, {@code ar+K}, {@code ar+2K}
     * (results at {@code ci}, {@code ci+N}, {@code ci+2N}): each B vector is loaded once for the
     * three rows, and all 24 accumulators ({@code s<row><B row><chain>}) stay in registers. Every C
     * element gets exactly the operations {@code dot4} gives it, in the same order.
     */
    private static void dot4x3(float[] a, int ar, int K, float[] b, int br, float[] lanes,
                               float[] c, int ci, int N, boolean accumulate) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s000 = z, s001 = z, s010 = z, s011 = z, s020 = z, s021 = z, s030 = z, s031 = z;
        FloatVector s100 = z, s101 = z, s110 = z, s111 = z, s120 = z, s121 = z, s130 = z, s131 = z;
        FloatVector s200 = z, s201 = z, s210 = z, s211 = z, s220 = z, s221 = z, s230 = z, s231 = z;
        int a1 = ar + K, a2 = ar + 2 * K, b1 = br + K, b2 = br + 2 * K, b3 = br + 3 * K;
        int k = 0;
        for (int ke = K - 2 * L; k <= ke; k += 2 * L) {
            {
                FloatVector x0 = FloatVector.fromArray(F, a, ar + k), x1 = FloatVector.fromArray(F, a, a1 + k);
                FloatVector x2 = FloatVector.fromArray(F, a, a2 + k);
                FloatVector v = FloatVector.fromArray(F, b, br + k);
                s000 = v.fma(x0, s000); s100 = v.fma(x1, s100); s200 = v.fma(x2, s200);
                v = FloatVector.fromArray(F, b, b1 + k);
                s010 = v.fma(x0, s010); s110 = v.fma(x1, s110); s210 = v.fma(x2, s210);
                v = FloatVector.fromArray(F, b, b2 + k);
                s020 = v.fma(x0, s020); s120 = v.fma(x1, s120); s220 = v.fma(x2, s220);
                v = FloatVector.fromArray(F, b, b3 + k);
                s030 = v.fma(x0, s030); s130 = v.fma(x1, s130); s230 = v.fma(x2, s230);
            }
            int k1 = k + L;
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k1), x1 = FloatVector.fromArray(F, a, a1 + k1);
            FloatVector x2 = FloatVector.fromArray(F, a, a2 + k1);
            FloatVector v = FloatVector.fromArray(F, b, br + k1);
            s001 = v.fma(x0, s001); s101 = v.fma(x1, s101); s201 = v.fma(x2, s201);
            v = FloatVector.fromArray(F, b, b1 + k1);
            s011 = v.fma(x0, s011); s111 = v.fma(x1, s111); s211 = v.fma(x2, s211);
            v = FloatVector.fromArray(F, b, b2 + k1);
            s021 = v.fma(x0, s021); s121 = v.fma(x1, s121); s221 = v.fma(x2, s221);
            v = FloatVector.fromArray(F, b, b3 + k1);
            s031 = v.fma(x0, s031); s131 = v.fma(x1, s131); s231 = v.fma(x2, s231);
        }
        if (k <= K - L) {
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k), x1 = FloatVector.fromArray(F, a, a1 + k);
            FloatVector x2 = FloatVector.fromArray(F, a, a2 + k);
            FloatVector v = FloatVector.fromArray(F, b, br + k);
            s000 = v.fma(x0, s000); s100 = v.fma(x1, s100); s200 = v.fma(x2, s200);
            v = FloatVector.fromArray(F, b, b1 + k);
            s010 = v.fma(x0, s010); s110 = v.fma(x1, s110); s210 = v.fma(x2, s210);
            v = FloatVector.fromArray(F, b, b2 + k);
            s020 = v.fma(x0, s020); s120 = v.fma(x1, s120); s220 = v.fma(x2, s220);
            v = FloatVector.fromArray(F, b, b3 + k);
            s030 = v.fma(x0, s030); s130 = v.fma(x1, s130); s230 = v.fma(x2, s230);
            k += L;
        }
        s000.add(s001).intoArray(lanes, 0 * L);
        s010.add(s011).intoArray(lanes, 1 * L);
        s020.add(s021).intoArray(lanes, 2 * L);
        s030.add(s031).intoArray(lanes, 3 * L);
        s100.add(s101).intoArray(lanes, 4 * L);
        s110.add(s111).intoArray(lanes, 5 * L);
        s120.add(s121).intoArray(lanes, 6 * L);
        s130.add(s131).intoArray(lanes, 7 * L);
        s200.add(s201).intoArray(lanes, 8 * L);
        s210.add(s211).intoArray(lanes, 9 * L);
        s220.add(s221).intoArray(lanes, 10 * L);
        s230.add(s231).intoArray(lanes, 11 * L);
        finish4(a, ar, b, br, K, k, lanes, 0, c, ci, accumulate);
        finish4(a, a1, b, br, K, k, lanes, 4 * L, c, ci + N, accumulate);
        finish4(a, a2, b, br, K, k, lanes, 8 * L, c, ci + 2 * N, accumulate);
    }

    /** Four dot products {@code A-row · B-row(r)} for rows r = 0..3 of B at {@code br}, {@code br+K}, ... */
    private static void dot4(float[] a, int ar, float[] b, int br, int K, float[] lanes,
                             float[] c, int ci, boolean accumulate) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        int b1 = br + K, b2 = br + 2 * K, b3 = br + 3 * K;
        int k = 0;
        // two accumulators per row: eight independent FMA chains hide the FMA latency
        for (int ke = K - 2 * L; k <= ke; k += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k);
            FloatVector x1 = FloatVector.fromArray(F, a, ar + k + L);
            s00 = FloatVector.fromArray(F, b, br + k).fma(x0, s00);
            s01 = FloatVector.fromArray(F, b, br + k + L).fma(x1, s01);
            s10 = FloatVector.fromArray(F, b, b1 + k).fma(x0, s10);
            s11 = FloatVector.fromArray(F, b, b1 + k + L).fma(x1, s11);
            s20 = FloatVector.fromArray(F, b, b2 + k).fma(x0, s20);
            s21 = FloatVector.fromArray(F, b, b2 + k + L).fma(x1, s21);
            s30 = FloatVector.fromArray(F, b, b3 + k).fma(x0, s30);
            s31 = FloatVector.fromArray(F, b, b3 + k + L).fma(x1, s31);
        }
        if (k <= K - L) {
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k);
            s00 = FloatVector.fromArray(F, b, br + k).fma(x0, s00);
            s10 = FloatVector.fromArray(F, b, b1 + k).fma(x0, s10);
            s20 = FloatVector.fromArray(F, b, b2 + k).fma(x0, s20);
            s30 = FloatVector.fromArray(F, b, b3 + k).fma(x0, s30);
            k += L;
        }
        s00.add(s01).intoArray(lanes, 0);
        s10.add(s11).intoArray(lanes, L);
        s20.add(s21).intoArray(lanes, 2 * L);
        s30.add(s31).intoArray(lanes, 3 * L);
        finish4(a, ar, b, br, K, k, lanes, 0, c, ci, accumulate);
    }

    /**
     * {@link #dot4} for two rows of A at once ({@code ar}, {@code ar2}; results at {@code ci} and
     * {@code ci + N}). Every C element gets exactly the operations {@code dot4} gives it, in the
     * same order, so a row's bits do not depend on whether it was paired.
     */
    private static void dot4x2(float[] a, int ar, int ar2, float[] b, int br, int K, float[] lanes,
                               float[] c, int ci, int N, boolean accumulate) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        FloatVector t00 = z, t01 = z, t10 = z, t11 = z, t20 = z, t21 = z, t30 = z, t31 = z;
        int b1 = br + K, b2 = br + 2 * K, b3 = br + 3 * K;
        int k = 0;
        for (int ke = K - 2 * L; k <= ke; k += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k);
            FloatVector x1 = FloatVector.fromArray(F, a, ar + k + L);
            FloatVector y0 = FloatVector.fromArray(F, a, ar2 + k);
            FloatVector y1 = FloatVector.fromArray(F, a, ar2 + k + L);
            FloatVector v = FloatVector.fromArray(F, b, br + k);
            s00 = v.fma(x0, s00); t00 = v.fma(y0, t00);
            v = FloatVector.fromArray(F, b, br + k + L);
            s01 = v.fma(x1, s01); t01 = v.fma(y1, t01);
            v = FloatVector.fromArray(F, b, b1 + k);
            s10 = v.fma(x0, s10); t10 = v.fma(y0, t10);
            v = FloatVector.fromArray(F, b, b1 + k + L);
            s11 = v.fma(x1, s11); t11 = v.fma(y1, t11);
            v = FloatVector.fromArray(F, b, b2 + k);
            s20 = v.fma(x0, s20); t20 = v.fma(y0, t20);
            v = FloatVector.fromArray(F, b, b2 + k + L);
            s21 = v.fma(x1, s21); t21 = v.fma(y1, t21);
            v = FloatVector.fromArray(F, b, b3 + k);
            s30 = v.fma(x0, s30); t30 = v.fma(y0, t30);
            v = FloatVector.fromArray(F, b, b3 + k + L);
            s31 = v.fma(x1, s31); t31 = v.fma(y1, t31);
        }
        if (k <= K - L) {
            FloatVector x0 = FloatVector.fromArray(F, a, ar + k);
            FloatVector y0 = FloatVector.fromArray(F, a, ar2 + k);
            FloatVector v = FloatVector.fromArray(F, b, br + k);
            s00 = v.fma(x0, s00); t00 = v.fma(y0, t00);
            v = FloatVector.fromArray(F, b, b1 + k);
            s10 = v.fma(x0, s10); t10 = v.fma(y0, t10);
            v = FloatVector.fromArray(F, b, b2 + k);
            s20 = v.fma(x0, s20); t20 = v.fma(y0, t20);
            v = FloatVector.fromArray(F, b, b3 + k);
            s30 = v.fma(x0, s30); t30 = v.fma(y0, t30);
            k += L;
        }
        s00.add(s01).intoArray(lanes, 0);
        s10.add(s11).intoArray(lanes, L);
        s20.add(s21).intoArray(lanes, 2 * L);
        s30.add(s31).intoArray(lanes, 3 * L);
        finish4(a, ar, b, br, K, k, lanes, 0, c, ci, accumulate);
        t00.add(t01).intoArray(lanes, 0);
        t10.add(t11).intoArray(lanes, L);
        t20.add(t21).intoArray(lanes, 2 * L);
        t30.add(t31).intoArray(lanes, 3 * L);
        finish4(a, ar2, b, br, K, k, lanes, 0, c, ci + N, accumulate);
    }

    /** The end of {@link #dot4}: four lane sums (from {@code lanes[lo..]}) in fixed order, the scalar tail from {@code k}, then store. */
    private static void finish4(float[] a, int ar, float[] b, int br, int K, int k, float[] lanes, int lo,
                                float[] c, int ci, boolean accumulate) {
        // the four lane sums side by side: each keeps sumLanes' left-to-right order, but the four
        // chains of dependent additions overlap instead of waiting on one another
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int i = lo; i < lo + L; i++) {
            s0 += lanes[i];
            s1 += lanes[i + L];
            s2 += lanes[i + 2 * L];
            s3 += lanes[i + 3 * L];
        }
        for (int kk = k; kk < K; kk++) {
            float x = a[ar + kk];
            s0 = Math.fma(x, b[br + kk], s0);
            s1 = Math.fma(x, b[br + K + kk], s1);
            s2 = Math.fma(x, b[br + 2 * K + kk], s2);
            s3 = Math.fma(x, b[br + 3 * K + kk], s3);
        }
        c[ci] = accumulate ? c[ci] + s0 : s0;
        c[ci + 1] = accumulate ? c[ci + 1] + s1 : s1;
        c[ci + 2] = accumulate ? c[ci + 2] + s2 : s2;
        c[ci + 3] = accumulate ? c[ci + 3] + s3 : s3;
    }

    /** One dot product of length K (the last rows of B when N is not a multiple of 4). */
    private static float dot1(float[] a, int ar, float[] b, int br, int K, float[] lanes) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int k = 0;
        for (int ke = K - 2 * L; k <= ke; k += 2 * L) {
            s0 = FloatVector.fromArray(F, b, br + k).fma(FloatVector.fromArray(F, a, ar + k), s0);
            s1 = FloatVector.fromArray(F, b, br + k + L).fma(FloatVector.fromArray(F, a, ar + k + L), s1);
        }
        if (k <= K - L) {
            s0 = FloatVector.fromArray(F, b, br + k).fma(FloatVector.fromArray(F, a, ar + k), s0);
            k += L;
        }
        s0.add(s1).intoArray(lanes, 0);
        float s = sumLanes(lanes, 0);
        for (; k < K; k++) s = Math.fma(a[ar + k], b[br + k], s);
        return s;
    }

    /**
     * Sums L lanes in a fixed order. {@code reduceLanes} is avoided on purpose: its association
     * differs between the interpreted and the compiled code, which would make results depend on
     * JIT timing.
     */
    private static float sumLanes(float[] x, int off) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += x[off + i];
        return s;
    }

    /**
     * NN and TN with few rows: {@code C[m,n] = Σ_k A(m,k)·B[k,n]}, {@code A(m,k) = a[aOff + m·ars + k·acs]},
     * B {@code (K, N)} row-major: strips of 4 vectors of C stay in registers while B is read along rows.
     */
    static void rowsTimesB(float[] a, int aOff, int ars, int acs, float[] b, int bOff, float[] c, int cOff,
                           int M, int N, int K, boolean accumulate) {
        int w = 4 * L;
        int strips = (N + w - 1) / w;
        Parallel.forRange(strips, grain(strips, 2L * w * M * K), (s0, s1) -> {
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
