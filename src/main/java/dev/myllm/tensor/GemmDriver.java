package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The blocked GEMM driver behind all three products: splits C into column or row ranges, walks
 * each range in cache blocks ({@code MC × KC} of A, {@code KC × NC} of B), packs them and runs the
 * micro-kernel over every {@code MR × NR} tile.
 *
 * <p>Threads: when the operand that every range needs whole (A for column ranges, B for row
 * ranges) is small enough, it is packed once and shared, and the ranges are handed out in small
 * chunks from a counter, so a core slowed by other work on the machine takes fewer chunks.
 * Otherwise each thread gets one fixed range and packs what it needs itself.
 *
 * <p>Determinism: KC is a constant and k blocks are always visited in ascending order, each one
 * adding its tile sum to C, so every C element sees the same operations in the same order however
 * the output is split among threads or chunks.
 */
final class GemmDriver {
    /** k steps per packed block: the A micro-panel ({@code KC·MR} floats, 8 KiB) stays in L1. */
    static final int KC = 256;
    /**
     * Columns per packed B block: {@code KC·NC} floats (~1 MiB), chosen for a 2 MiB L2 that holds
     * them while every A panel streams past. On a 1 MiB L2 (Zen 5) blocks of 15 or 10 tiles timed
     * the same ({@code bench matmul --rows 512}), so it stays.
     */
    static final int NC = 30 * NR;
    /** Rows per packed A block: bounds the A buffer; the B block is re-packed once per MC rows. */
    static final int MC = 128 * MR;
    /** Rows of an A block small enough to stay in L2 (256 KiB at KC): such blocks run B-panel-major, see {@link #block}. */
    static final int MB = 32 * MR;
    /** Largest operand (in floats, 16 MiB) packed once and shared by all threads: a (768, 3072) weight is 9 MiB, and packing it once per thread (its gathers, for the NT product) cost more than its reuse from L3 saves. */
    static final int SHARED_MAX = 1 << 22;
    /** Below this many flops per task, another thread costs more than it saves. */
    private static final double MIN_TASK_FLOPS = 4e6;

    /**
     * Per-thread pack buffers, allocated once and reused by every call on that thread. Packed
     * panels start at {@link Aligned#base()}, on a cache line where the JVM fixes one: the
     * micro-kernel's vector loads of B then never straddle two lines (the four products of a
     * 512-row prefill layer 0.974 of the time).
     */
    private static final class Buffers {
        final float[] a = new float[PAD + MC * KC];
        final float[] b = new float[PAD + KC * NC];
        final float[] edge = new float[MR * NR];
        /** One B micro-panel packed just before use (see {@link #range}). */
        final float[] panel = new float[PAD + KC * NR];
        /** The shared pre-packed operand when this thread is the caller; grows to the largest need. */
        float[] shared = new float[0];
    }

    /** Room before the packed panels in every buffer: a cache line's floats. */
    private static final int PAD = Aligned.LINE / Float.BYTES;

    /** Where packed panels start in their buffers (below {@link #PAD}): {@link Aligned#base()}; tests move it to compare. */
    static volatile int packBase = Aligned.base();

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private GemmDriver() {
    }

    /**
     * What a product's tiles go through as their last k block is stored, while they are in L1: plus
     * {@code bias} (one per column of C, or null), then GELU when {@code gelu} ({@link PanelKernels#store},
     * the decode kernels' epilogue, so prefill and decoding add and apply them alike). It replaces a
     * pass over C for each (a 512-row prompt's biases and GELU were a twentieth of its prefill).
     */
    record Epilogue(float[] bias, boolean gelu) {
        /** Row {@code i}'s {@code n} columns from {@code col} of C, stored at {@code c[at ..]}. */
        void apply(float[] c, int at, int n, int col) {
            PanelKernels.store(c, at, c, at, n, bias, col, gelu);
        }
    }

    /**
     * {@code C (+)= A·B} with {@code A(m,k) = a[aOff + m·ars + k·acs]}, {@code B(k,n) = b[bOff + k·brs + n·bcs]}
     * and C {@code (M, N)} row-major at {@code cOff}; sizes must be positive. {@code b} is a
     * {@code float[]}, or with a panels marker as {@code bcs} a matrix's panels ({@link GemmPack#packB}).
     */
    static void run(float[] a, int aOff, int ars, int acs, Object b, int bOff, int brs, int bcs,
                    float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        run(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, M, N, K, accumulate, null);
    }

    /** {@link #run}, each tile of C then through {@code epilogue} (null: none; not with {@code accumulate}). */
    static void run(float[] a, int aOff, int ars, int acs, Object b, int bOff, int brs, int bcs,
                    float[] c, int cOff, int M, int N, int K, boolean accumulate, Epilogue epilogue) {
        if (accumulate && epilogue != null) throw new IllegalArgumentException("an epilogue needs the whole product: not with accumulate");
        int mTiles = (M + MR - 1) / MR;
        int nTiles = (N + NR - 1) / NR;
        int threads = Parallel.threads();
        boolean byColumns = splitByColumns(M, N, mTiles, nTiles, threads);
        int tiles = byColumns ? nTiles : mTiles;
        double flopsPerTile = 2.0 * M * N * K / tiles;
        int grain = (int) Math.max(1, Math.min(tiles, Math.ceil(MIN_TASK_FLOPS / flopsPerTile)));
        int tasks = Math.min(threads, tiles / grain);
        if (tasks <= 1) {
            range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate, 0, M, 0, N, null, null, packBase, epilogue);
            return;
        }
        long sharedSize = byColumns ? (long) mTiles * MR * K : (long) nTiles * NR * K;
        boolean share = byColumns ? M <= MC : N <= NC;
        if (!share || sharedSize > SHARED_MAX) {
            Parallel.forRange(tiles, grain, (t0, t1) -> {
                if (byColumns) {
                    range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                            0, M, t0 * NR, Math.min(N, t1 * NR), null, null, packBase, epilogue);
                } else {
                    range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                            t0 * MR, Math.min(M, t1 * MR), 0, N, null, null, packBase, epilogue);
                }
            });
            return;
        }
        Buffers own = BUFFERS.get();
        if (own.shared.length < PAD + sharedSize) own.shared = new float[(int) (PAD + sharedSize)];
        int base = packBase;
        float[] shared = own.shared;
        // pack the shared operand whole: k block q lands at pc·(padded rows or columns), k blocks in parallel
        int kBlocks = (K + KC - 1) / KC;
        Parallel.forRange(kBlocks, 1, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int pc = q * KC, kc = Math.min(KC, K - pc);
                if (byColumns) GemmPack.packA(a, aOff, ars, acs, 0, M, pc, kc, shared, base + pc * mTiles * MR);
                else GemmPack.packB(b, bOff, brs, bcs, 0, N, pc, kc, shared, base + pc * nTiles * NR);
            }
        });
        // a few chunks per thread, taken in any order: each chunk's results do not depend on who runs it.
        // Column chunks stay wider (2 per thread): every A micro-panel is reused across a chunk's
        // columns only, and narrow chunks measurably lose that reuse; row chunks lose nothing.
        int perThread = byColumns ? 2 : 4;
        int chunk = Math.max(1, Math.min(byColumns ? NC / NR : MC / MR, ceilDiv(tiles, perThread * tasks)));
        int chunks = (tiles + chunk - 1) / chunk;
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(tasks, 1, (w0, w1) -> {
            for (int q; (q = next.getAndIncrement()) < chunks; ) {
                int t0 = q * chunk, t1 = Math.min(tiles, t0 + chunk);
                if (byColumns) {
                    range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                            0, M, t0 * NR, Math.min(N, t1 * NR), shared, null, base, epilogue);
                } else {
                    range(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, N, K, accumulate,
                            t0 * MR, Math.min(M, t1 * MR), 0, N, null, shared, base, epilogue);
                }
            }
        });
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * Whether threads share C by column ranges (else by row ranges). Each range needs all of the
     * operand that is not split: by columns all of A (M·K), by rows all of B (N·K), so split the
     * longer side, unless that side has too few tiles to go round. Any choice gives the same bits;
     * this only decides speed.
     */
    static boolean splitByColumns(int M, int N, int mTiles, int nTiles, int threads) {
        if (M <= N) return nTiles >= threads || mTiles <= nTiles;
        return mTiles < threads && nTiles > mTiles;
    }

    /**
     * One share: rows {@code [m0, m1)} and columns {@code [n0, n1)} of C, all of K. {@code preA}
     * (all of A, when {@code m0 = 0}, {@code m1 = M <= MC}) or {@code preB} (all of B, when
     * {@code n0 = 0}, {@code n1 = N <= NC}) is the operand already packed by {@link #run}, or null.
     */
    private static void range(float[] a, int aOff, int ars, int acs, Object b, int bOff, int brs, int bcs,
                              float[] c, int cOff, int N, int K, boolean accumulate,
                              int m0, int m1, int n0, int n1, float[] preA, float[] preB, int base, Epilogue epilogue) {
        Buffers buf = BUFFERS.get();
        for (int ic = m0; ic < m1; ic += MC) {
            int mc = Math.min(MC, m1 - ic);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                boolean overwrite = pc == 0 && !accumulate;
                Epilogue last = pc + kc == K ? epilogue : null; // C's tiles are whole after the last k block
                float[] ap = preA != null ? preA : buf.a;
                int ai = base + (preA != null ? pc * ((mc + MR - 1) / MR * MR) : 0);
                if (preA == null) GemmPack.packA(a, aOff, ars, acs, ic, mc, pc, kc, ap, base);     // (mc, kc) as MR-row panels
                if (preB == null && mc <= MB) {
                    // the A block stays in L2: pack each B micro-panel just before its tiles use it, so it is
                    // written into L1 and read from there by every A micro-panel, never going through L2
                    for (int jr = n0; jr < n1; jr += NR) {
                        int cols = Math.min(NR, n1 - jr);
                        GemmPack.packB(b, bOff, brs, bcs, jr, cols, pc, kc, buf.panel, base);
                        block(ap, ai, buf.panel, base, buf.edge, kc, mc, cols, c, cOff + ic * N + jr, N, overwrite, last, jr);
                    }
                    continue;
                }
                for (int jc = n0; jc < n1; jc += NC) {
                    int nc = Math.min(NC, n1 - jc);
                    float[] bp = preB != null ? preB : buf.b;
                    int bi = base + (preB != null ? pc * ((nc + NR - 1) / NR * NR) : 0);
                    if (preB == null) GemmPack.packB(b, bOff, brs, bcs, jc, nc, pc, kc, bp, base); // (kc, nc) as NR-column panels
                    block(ap, ai, bp, bi, buf.edge, kc, mc, nc, c, cOff + ic * N + jc, N, overwrite, last, jc);
                }
            }
        }
    }

    /**
     * Runs the micro-kernel over the packed {@code (mc, kc)} block of A at {@code ap[a0]} and
     * {@code (kc, nc)} block of B at {@code bp[b0]}, into C at {@code ci} with row stride {@code ldc}.
     * A block of at most {@link #MB} rows fits in L2: then each B micro-panel (kc·NR floats) is held
     * in L1 while the A micro-panels (kc·MR floats each) stream past from L2, a quarter of the L2
     * traffic of the other order (measured on one core, L2-resident blocks: 209 against 196 GFLOP/s).
     * A larger A block would not stay in L2, so there the A micro-panel is held and B streams.
     * Every tile's sums are the same in either order.
     */
    private static void block(float[] ap, int a0, float[] bp, int b0, float[] edge, int kc, int mc, int nc,
                              float[] c, int ci, int ldc, boolean overwrite, Epilogue epilogue, int col0) {
        if (mc <= MB) {
            for (int jr = 0; jr < nc; jr += NR) {
                for (int ir = 0; ir < mc; ir += MR) tile(ap, a0, bp, b0, edge, kc, mc, nc, ir, jr, c, ci, ldc, overwrite, epilogue, col0);
            }
        } else {
            for (int ir = 0; ir < mc; ir += MR) {
                for (int jr = 0; jr < nc; jr += NR) tile(ap, a0, bp, b0, edge, kc, mc, nc, ir, jr, c, ci, ldc, overwrite, epilogue, col0);
            }
        }
    }

    /**
     * Tile (ir, jr) of a block: the A micro-panel (kc, MR) at row ir times the B micro-panel (kc, NR) at column jr;
     * then its rows through {@code epilogue} when not null (the block's first column is C's {@code col0}).
     */
    private static void tile(float[] ap, int a0, float[] bp, int b0, float[] edge, int kc, int mc, int nc, int ir, int jr,
                             float[] c, int ci, int ldc, boolean overwrite, Epilogue epilogue, int col0) {
        int rows = Math.min(MR, mc - ir), cols = Math.min(NR, nc - jr);
        int ai = a0 + ir * kc, bi = b0 + jr * kc, cij = ci + ir * ldc + jr;
        if (rows == MR && cols == NR) {
            GemmKernel.tile(ap, ai, bp, bi, kc, c, cij, ldc, overwrite);
        } else {
            // partial tile: compute the padded tile into a scratch and copy its valid part;
            // each valid element gets the same operations as in a full tile
            GemmKernel.tile(ap, ai, bp, bi, kc, edge, 0, NR, true);
            for (int i = 0; i < rows; i++) {
                int row = cij + i * ldc;
                for (int j = 0; j < cols; j++) {
                    c[row + j] = overwrite ? edge[i * NR + j] : c[row + j] + edge[i * NR + j];
                }
            }
        }
        if (epilogue != null) for (int i = 0; i < rows; i++) epilogue.apply(c, cij + i * ldc, cols, col0 + jr);
    }
}
