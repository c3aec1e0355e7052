package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

/**
 * The blocked GEMM driver behind all three products: splits C into per-thread column or row
 * ranges, walks each range in cache blocks ({@code MC × KC} of A, {@code KC × NC} of B), packs
 * them and runs the micro-kernel over every {@code MR × NR} tile.
 *
 * <p>Determinism: KC is a constant and k blocks are always visited in ascending order, each one
 * adding its tile sum to C, so every C element sees the same operations in the same order however
 * the output is split among threads.
 */
final class GemmDriver {
    /** k steps per packed block: the A micro-panel ({@code KC·MR} floats, 8 KiB) stays in L1. */
    static final int KC = 256;
    /** Columns per packed B block: {@code KC·NC} floats (~1 MiB) stay in the 2 MiB L2 while every A panel streams past. */
    static final int NC = 30 * NR;
    /** Rows per packed A block: bounds the A buffer; the B block is re-packed once per MC rows. */
    static final int MC = 128 * MR;
    /** Below this many flops per task, another thread costs more than it saves. */
    private static final double MIN_TASK_FLOPS = 4e6;

    /** Per-thread pack buffers, allocated once and reused by every call on that thread. */
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC];
        final float[] edge = new float[MR * NR];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private GemmDriver() {
    }

    /**
     * {@code C (+)= A·B} with {@code A(m,k) = a[aOff + m·ars + k·acs]}, {@code B(k,n) = b[bOff + k·brs + n·bcs]}
     * and C {@code (M, N)} row-major at {@code cOff}; sizes must be positive.
     */
    static void run(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                    float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        int mTiles = (M + MR - 1) / MR;
        int nTiles = (N + NR - 1) / NR;
        boolean byColumns = splitByColumns(M, N, mTiles, nTiles, Parallel.threads());
        int tiles = byColumns ? nTiles : mTiles;
        double flopsPerTile = 2.0 * M * N * K / tiles;
        int grain = (int) Math.max(1, Math.min(tiles, Math.ceil(MIN_TASK_FLOPS / flopsPerTile)));
        Parallel.forRange(tiles, grain, (t0, t1) -> {
            if (byColumns) {
                range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                        0, M, t0 * NR, Math.min(N, t1 * NR));
            } else {
                range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                        t0 * MR, Math.min(M, t1 * MR), 0, N);
            }
        });
    }

    /**
     * Whether threads share C by column ranges (else by row ranges). Each thread packs all of the
     * operand it does not split: by columns it repeats A's packing (M·K), by rows B's (N·K), so
     * split the longer side, unless that side has too few tiles to go round. Any choice gives the
     * same bits; this only decides speed.
     */
    static boolean splitByColumns(int M, int N, int mTiles, int nTiles, int threads) {
        if (M <= N) return nTiles >= threads || mTiles <= nTiles;
        return mTiles < threads && nTiles > mTiles;
    }

    /** One thread's share: rows {@code [m0, m1)} and columns {@code [n0, n1)} of C, all of K. */
    private static void range(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                              float[] c, int cOff, int N, int K, boolean accumulate,
                              int m0, int m1, int n0, int n1) {
        Buffers buf = BUFFERS.get();
        for (int ic = m0; ic < m1; ic += MC) {
            int mc = Math.min(MC, m1 - ic);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                boolean overwrite = pc == 0 && !accumulate;
                GemmPack.packA(a, aOff, ars, acs, ic, mc, pc, kc, buf.a);       // (mc, kc) as MR-row panels
                for (int jc = n0; jc < n1; jc += NC) {
                    int nc = Math.min(NC, n1 - jc);
                    GemmPack.packB(b, bOff, brs, bcs, jc, nc, pc, kc, buf.b);   // (kc, nc) as NR-column panels
                    block(buf, kc, mc, nc, c, cOff + ic * N + jc, N, overwrite);
                }
            }
        }
    }

    /** Runs the micro-kernel over the packed {@code (mc, kc)} × {@code (kc, nc)} block into C at {@code ci}. */
    private static void block(Buffers buf, int kc, int mc, int nc, float[] c, int ci, int ldc, boolean overwrite) {
        float[] ap = buf.a, bp = buf.b;
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir);
            int ai = ir * kc;                      // the A micro-panel (kc, MR), reused from L1 for every jr
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr);
                int bi = jr * kc;                  // the B micro-panel (kc, NR)
                int cij = ci + ir * ldc + jr;
                if (rows == MR && cols == NR) {
                    GemmKernel.tile(ap, ai, bp, bi, kc, c, cij, ldc, overwrite);
                } else {
                    // partial tile: compute the padded tile into a scratch and copy its valid part;
                    // each valid element gets the same operations as in a full tile
                    float[] e = buf.edge;
                    GemmKernel.tile(ap, ai, bp, bi, kc, e, 0, NR, true);
                    for (int i = 0; i < rows; i++) {
                        int row = cij + i * ldc;
                        for (int j = 0; j < cols; j++) {
                            c[row + j] = overwrite ? e[i * NR + j] : c[row + j] + e[i * NR + j];
                        }
                    }
                }
            }
        }
    }
}
