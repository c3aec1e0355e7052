package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import java.util.Arrays;

/**
 * Packing of A and B blocks into the contiguous, zero-padded micro-panels the micro-kernel reads
 * with unit stride. Operands are described by element strides, {@code A(m,k) = a[aOff + m·ars + k·acs]}
 * and {@code B(k,n) = b[bOff + k·brs + n·bcs]}, so one packer serves all three products.
 */
final class GemmPack {
    /** Steps of k handled together when transposing, so the written lines stay in L1. */
    private static final int KSTEP = 16;

    private GemmPack() {
    }

    /**
     * Packs {@code A[m0 .. m0+mc, pc .. pc+kc]} into {@code ceil(mc/MR)} panels, each {@code (kc, MR)}
     * and {@code kc·MR} floats long; rows past {@code mc} are zeros.
     */
    static void packA(float[] a, int aOff, int ars, int acs, int m0, int mc, int pc, int kc, float[] dst) {
        for (int r = 0, panel = 0; r < mc; r += MR, panel += kc * MR) {
            int rows = Math.min(MR, mc - r);
            if (rows < MR) Arrays.fill(dst, panel, panel + kc * MR, 0f);
            int src = aOff + (m0 + r) * ars + pc * acs;
            if (ars == 1) {
                // A is (K, M) (the TN product): MR consecutive floats per k, a plain copy
                for (int p = 0; p < kc; p++) System.arraycopy(a, src + p * acs, dst, panel + p * MR, rows);
            } else if (acs == 1) {
                // A is (M, K): each row is contiguous along k, so the panel is a transpose
                for (int i = 0; i < rows; i++) {
                    int s = src + i * ars;
                    int d = panel + i;
                    for (int p = 0; p < kc; p++) dst[d + p * MR] = a[s + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int i = 0; i < rows; i++) dst[panel + p * MR + i] = a[src + i * ars + p * acs];
                }
            }
        }
    }

    /**
     * Packs {@code B[pc .. pc+kc, n0 .. n0+nc]} into {@code ceil(nc/NR)} panels, each {@code (kc, NR)}
     * and {@code kc·NR} floats long; columns past {@code nc} are zeros.
     */
    static void packB(float[] b, int bOff, int brs, int bcs, int n0, int nc, int pc, int kc, float[] dst) {
        for (int j0 = 0, panel = 0; j0 < nc; j0 += NR, panel += kc * NR) {
            int cols = Math.min(NR, nc - j0);
            if (cols < NR) Arrays.fill(dst, panel, panel + kc * NR, 0f);
            int src = bOff + pc * brs + (n0 + j0) * bcs;
            if (bcs == 1) {
                // B is (K, N) (the NN and TN products): NR consecutive floats per k, a plain copy
                for (int p = 0; p < kc; p++) System.arraycopy(b, src + p * brs, dst, panel + p * NR, cols);
            } else if (brs == 1) {
                // B is (N, K) (the NT product): rows of B are columns of the panel, a transpose done
                // KSTEP values of k at a time so both the read and the written lines stay cached
                for (int p0 = 0; p0 < kc; p0 += KSTEP) {
                    int pe = Math.min(kc, p0 + KSTEP);
                    for (int j = 0; j < cols; j++) {
                        int s = src + j * bcs;
                        int d = panel + j;
                        for (int p = p0; p < pe; p++) dst[d + p * NR] = b[s + p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int j = 0; j < cols; j++) dst[panel + p * NR + j] = b[src + p * brs + j * bcs];
                }
            }
        }
    }
}
