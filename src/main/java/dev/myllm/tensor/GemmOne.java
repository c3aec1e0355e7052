package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GemmSmall#nt} with one row of A (decoding one sequence), in methods of its own: each group
 * of four rows of B is read once and multiplied with the row, as {@link GemmSmall} did in the
 * methods it shares among all row counts, operation for operation (the same bits).
 *
 * <p>Why apart: in a JVM that had served batches, {@code generate} ran 15-25% slower than before
 * serving. Once the several-row passes had run, the JIT recompiled the shared methods (an
 * uncommon trap on the one-row branch) with all the passes in them, and in that bigger method left
 * the one-row pass's {@code finish} out of line ("already compiled into a big method",
 * {@code -XX:CompileCommand=PrintInlining}), where before it had been inlined. Here the one-row
 * code keeps its own profile and inlining whatever else ran (tools/OneAfterBatch).
 */
final class GemmOne {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    private static final int G = GemmSmall.GROUP_ONE;

    private GemmOne() {
    }

    /** {@code c[n] = Σ_k a[k]·B[n,k]} (or {@code +=} with {@code accumulate}), B {@code (N, K)}; blocks of groups to the threads as they come free. */
    static void nt(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int N, int K, boolean accumulate) {
        int groups = (N + G - 1) / G;
        int block = Math.max(GemmSmall.grain(groups, 2L * G * K), groups / (Parallel.threads() * GemmSmall.BLOCKS_PER_THREAD));
        int blocks = (groups + block - 1) / block;
        if (blocks <= 1) {
            groups(a, aOff, b, bOff, c, cOff, N, K, accumulate, 0, groups);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(Parallel.threads(), blocks), 1, (t0, t1) -> {
            for (int i; (i = next.getAndIncrement()) < blocks; ) {
                groups(a, aOff, b, bOff, c, cOff, N, K, accumulate, i * block, Math.min(groups, (i + 1) * block));
            }
        });
    }

    /** Column groups {@code [gr0, gr1)} (four rows of B each). */
    private static void groups(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                               int N, int K, boolean accumulate, int gr0, int gr1) {
        float[] lanes = GemmSmall.lanes();
        for (int gi = gr0; gi < gr1; gi++) {
            int n = gi * G, br = bOff + n * K;
            if (N - n < G) {
                // the last rows of B when N is not a multiple of the group
                for (int r = n; r < N; r++) {
                    GemmSmall.rows1x1(a, aOff, K, b, bOff + r * K, lanes);
                    finish(lanes, 1, a, aOff, K, b, bOff + r * K, c, cOff + r, accumulate);
                }
                continue;
            }
            rows1x4(a, aOff, K, b, br, lanes);
            finish(lanes, G, a, aOff, K, b, br, c, cOff + n, accumulate);
        }
    }

    /** GemmSmall's {@code finish} for one row ({@code gr} columns): the same operations. */
    private static void finish(float[] lanes, int gr, float[] a, int ar, int K, float[] b, int br, float[] c, int ci,
                               boolean accumulate) {
        int whole = K - K % L;
        if (whole == K && !accumulate) { // (every decode product: just the stores)
            for (int j = 0; j < gr; j++) c[ci + j] = lanes[GemmSmall.SUMS + GemmSmall.SUM_AT[j]];
            return;
        }
        for (int j = 0; j < gr; j++) {
            float s = GemmSmall.passSum(lanes, j);
            int bj = br + j * K;
            for (int k = whole; k < K; k++) s = Math.fma(a[ar + k], b[bj + k], s);
            c[ci + j] = accumulate ? c[ci + j] + s : s;
        }
    }

    /** One row of A by four rows of B: four accumulators, their lane sums left for {@link #finish}. */
    private static void rows1x4(float[] a, int ar, int K, float[] b, int br, float[] lanes) {
        int b0 = br, b1 = br + K, b2 = br + 2 * K, b3 = br + 3 * K;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            FloatVector w0 = FloatVector.fromArray(F, b, b0 + k);
            FloatVector w1 = FloatVector.fromArray(F, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(F, b, b2 + k);
            FloatVector w3 = FloatVector.fromArray(F, b, b3 + k);
            FloatVector x = FloatVector.fromArray(F, a, ar + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02); s03 = w3.fma(x, s03);
        }
        s00.intoArray(lanes, 0); s01.intoArray(lanes, L); s02.intoArray(lanes, 2 * L); s03.intoArray(lanes, 3 * L);
        GemmSmall.sumPass(lanes, 4);
    }
}
