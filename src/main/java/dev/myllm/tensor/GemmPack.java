package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.L;
import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing of A and B blocks into the contiguous, zero-padded micro-panels the micro-kernel reads
 * with unit stride. Operands are described by element strides, {@code A(m,k) = a[aOff + m·ars + k·acs]}
 * and {@code B(k,n) = b[bOff + k·brs + n·bcs]}, so one packer serves all three products.
 */
final class GemmPack {
    private static final VectorSpecies<Float> F = Simd.F;

    private GemmPack() {
    }

    /**
     * Packs {@code A[m0 .. m0+mc, pc .. pc+kc]} into {@code ceil(mc/MR)} panels from {@code dstOff}, each
     * {@code (kc, MR)} and {@code kc·MR} floats long; rows past {@code mc} are zeros.
     */
    static void packA(float[] a, int aOff, int ars, int acs, int m0, int mc, int pc, int kc, float[] dst, int dstOff) {
        // the gather offsets depend on the strides only: computed once per call, not per panel (profiled: ~4% of training)
        int[] idx = ars != 1 && L % MR == 0 ? idx(MR, ars, acs) : null;
        for (int r = 0, panel = dstOff; r < mc; r += MR, panel += kc * MR) {
            int rows = Math.min(MR, mc - r);
            if (rows < MR) Arrays.fill(dst, panel, panel + kc * MR, 0f);
            int src = aOff + (m0 + r) * ars + pc * acs;
            if (ars == 1) {
                // A is (K, M) (the TN product): MR consecutive floats per k, a plain copy
                for (int p = 0; p < kc; p++) System.arraycopy(a, src + p * acs, dst, panel + p * MR, rows);
            } else if (rows == MR && L % MR == 0) {
                // A is (M, K): the panel is a transpose. One gather fills L/MR consecutive k steps
                // of the panel: lane l reads A(r + l % MR, p + l / MR). Hardware gathers beat a
                // scalar transpose by several times here (the scalar loop stalls on its strided stores).
                int steps = L / MR, p = 0;
                for (; p + steps <= kc; p += steps) {
                    FloatVector.fromArray(F, a, src + p * acs, idx, 0).intoArray(dst, panel + p * MR);
                }
                for (; p < kc; p++) {
                    for (int i = 0; i < MR; i++) dst[panel + p * MR + i] = a[src + i * ars + p * acs];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int i = 0; i < rows; i++) dst[panel + p * MR + i] = a[src + i * ars + p * acs];
                }
            }
        }
    }

    /**
     * Packs {@code B[pc .. pc+kc, n0 .. n0+nc]} into {@code ceil(nc/NR)} panels from {@code dstOff}, each
     * {@code (kc, NR)} and {@code kc·NR} floats long; columns past {@code nc} are zeros.
     */
    static void packB(float[] b, int bOff, int brs, int bcs, int n0, int nc, int pc, int kc, float[] dst, int dstOff) {
        int[] idx = bcs != 1 && NR % L == 0 ? idx(NR, bcs, 0) : null;
        for (int j0 = 0, panel = dstOff; j0 < nc; j0 += NR, panel += kc * NR) {
            int cols = Math.min(NR, nc - j0);
            if (cols < NR) Arrays.fill(dst, panel, panel + kc * NR, 0f);
            int src = bOff + pc * brs + (n0 + j0) * bcs;
            if (bcs == 1 && cols == NR && NR % L == 0) {
                // B is (K, N) (the NN and TN products): NR consecutive floats per k, a plain copy
                // done with vectors (System.arraycopy's call costs more than copying 32 floats)
                for (int p = 0; p < kc; p++) {
                    int s0 = src + p * brs, d = panel + p * NR;
                    for (int v = 0; v < NR; v += L) FloatVector.fromArray(F, b, s0 + v).intoArray(dst, d + v);
                }
            } else if (bcs == 1) {
                for (int p = 0; p < kc; p++) System.arraycopy(b, src + p * brs, dst, panel + p * NR, cols);
            } else if (cols == NR && NR % L == 0) {
                // B is (N, K) (the NT product): rows of B are columns of the panel, a transpose done
                // with gathers: lane l of the v-th vector reads B(p, j0 + v·L + l)
                for (int p = 0; p < kc; p++) {
                    int s0 = src + p * brs, d = panel + p * NR;
                    for (int v = 0; v < NR; v += L) FloatVector.fromArray(F, b, s0, idx, v).intoArray(dst, d + v);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int j = 0; j < cols; j++) dst[panel + p * NR + j] = b[src + p * brs + j * bcs];
                }
            }
        }
    }

    /** Gather offsets {@code (l % width)·s1 + (l / width)·s2} for {@code max(width, L)} lanes. */
    private static int[] idx(int width, int s1, int s2) {
        int[] idx = IDX.get();
        int n = Math.max(width, L);
        for (int l = 0; l < n; l++) idx[l] = (l % width) * s1 + (l / width) * s2;
        return idx;
    }

    private static final ThreadLocal<int[]> IDX = ThreadLocal.withInitial(() -> new int[Math.max(NR, L) + MR]);
}
