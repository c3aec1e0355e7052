package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The products of {@link PackedMatrix.Format#F32_PANELS} (a decode step's few rows and a prompt's many): float32 weights stored K-major
 * in panels of {@link #W} output columns ({@link PanelLayout}), each output one sequential chain of fused multiply-adds over k
 * from 0: {@code acc = fma(A[r][k], W[n][k], acc)}, vectorised across the panel's columns with
 * A[r][k] broadcast. No lane sums and no warming pass: a thread reads its panels as one stream
 * straight from memory. gpt2-small's 49 decode products (tools/PanelsAB, cold, 2 threads, 40-60
 * steps, three runs): 1 row 0.85-0.89x, 2 rows 0.87x, 4 rows 0.74x and 8 rows 0.81-0.87x the time
 * of {@code GemmSmall.nt}'s dot products on row-major float32 (1 row: 9.4-9.7 against 10.8-11.0 ms
 * a step; 8 rows: 14.5-15.2 against 17.4-18.2); one thread, 1 and 8 rows: 0.84x and 0.78x.
 *
 * <p>Every output is its own chain, computed whole by one thread, so any grouping of rows
 * (eight over a panel, the leftover 1 to 7, or 1 to 4 over two panels) and any split of panels over threads
 * give the same bits: products are batch-invariant and thread-invariant. The scalar twin
 * ({@link #productScalar}) runs the same chains with {@link Math#fma}, bit for bit the vector
 * path's (a vector FMA is a per-lane {@code Math.fma}).
 */
final class PanelKernels {
    /**
     * Output columns per panel ({@link PanelLayout#W}): three 16-lane vectors (two passes of three
     * 8-lane ones on AVX2; 8 and 4 lanes checked bit for bit against the twin with
     * -XX:MaxVectorSize=32 and 16).
     */
    static final int W = PanelLayout.W;
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();
    /** Columns one kernel pass covers: three vectors; W is a multiple of it for every float species (2 to 16 lanes). */
    private static final int PASS = 3 * L;
    /** Input rows of the widest kernel (24 accumulators: 8 rows × 3 vectors); the GEMM's A panels are as tall. */
    static final int ROWS = GemmKernel.MR;

    /** Each thread's store tile: a kernel's [8][W] (or two panels' [2][W]) results, before the valid columns are copied out. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[ROWS * W]);
    /** The calling thread's transposed input: [group of 8 rows][K][8]. */
    private static final ThreadLocal<float[]> AT = ThreadLocal.withInitial(() -> new float[0]);

    private PanelKernels() {
    }

    /** Outputs {@code [r, r + n)} of one input row by the vector kernels, into {@code out[o ..]} (for tests). */
    static void outputs(PackedMatrix p, float[] x, int xo, int r, int n, float[] out, int o) {
        float[] all = new float[p.rows()];
        product(p, x, xo, 1, all, 0); // (one input row: the two-panel kernel)
        System.arraycopy(all, r, out, o, n);
    }

    /** {@code y (m, rows) = x (m, cols) · Wᵀ} on the panels: the vector kernels, or the scalar twin without SIMD. */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        if (!Simd.ENABLED) {
            productScalar(p, x, xOff, m, y, yOff);
            return;
        }
        product(p, x, xOff, m, y, yOff, null, false);
    }

    /**
     * The vector kernels' product with a layer's epilogue applied as each tile is stored: plus
     * {@code bias} (n) when not null, then GELU when {@code gelu} ({@link GeluKernel#forwardBlock}).
     * Each element gets the additions and the GELU the separate passes would give it (the same
     * float add; GELU's vector formula, which is the pass's on rows of a whole number of vectors),
     * without another pass over the output and its fork and join. SIMD only.
     */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff, float[] bias, boolean gelu) {
        int K = p.cols(), N = p.rows(), np = PanelLayout.panels(N);
        float[] w = p.panels;
        int wb = p.panelBase;
        int grain = Math.max(1, (1 << 16) / (K * W)); // (a panel of gpt2-small's is 48 × 768: one is enough work)
        if (m == 1) {
            forPanels(np, grain, (p0, p1) -> onePanels(w, wb, K, N, x, xOff, y, yOff, p0, p1, bias, gelu));
            return;
        }
        // A transposed once, [group][K][8]: a k's eight broadcasts are contiguous. A decode step's
        // few rows use this thread's own buffer (no allocation a token); a prompt's many rows a
        // buffer of the arena, transposed by all threads
        int groups = (m + ROWS - 1) / ROWS;
        boolean few = groups <= FEW_GROUPS;
        float[] a = few ? AT.get() : Arena.uninitialized(groups * K * ROWS);
        if (few && a.length < groups * K * ROWS) {
            a = new float[FEW_GROUPS * K * ROWS];
            AT.set(a);
        }
        float[] at = a;
        if (few) transpose(x, xOff, m, K, at, 0, groups);
        else Parallel.forRange(groups, Math.max(1, (1 << 14) / (K * ROWS)), (g0, g1) -> transpose(x, xOff, m, K, at, g0, g1));
        forPanels(np, grain, (p0, p1) -> rowPanels(at, m, w, wb, K, N, y, yOff, p0, p1, bias, gelu));
        if (!few) Arena.release(at);
    }

    /** Groups of eight rows that take the calling thread's own transposed buffer (decode steps); more take the arena's. */
    private static final int FEW_GROUPS = 2;

    /**
     * Groups {@code [g0, g1)} of the {@code m} rows of x into {@code at}, {@code [group][K][8]}: whole
     * groups as the GEMM's A panels ({@link GemmPack#packA}, 8 × 16 blocks through registers: a
     * 512 × 3072 input's product over one panel took 0.96-1.18 ms against 1.42-1.46 with an
     * element-by-element loop, a scratch harness, old and new builds in turn); a last group of 1 to 7
     * rows element by element, its missing rows left as they are (its kernel reads only its rows; a
     * decode step of 3 rows would otherwise clear a group's 8 × K floats per product).
     */
    private static void transpose(float[] x, int xOff, int m, int K, float[] at, int g0, int g1) {
        int whole = Math.min(g1, m / ROWS);
        if (whole > g0) GemmPack.packA(x, xOff, K, 1, g0 * ROWS, (whole - g0) * ROWS, 0, K, at, g0 * K * ROWS);
        for (int i = Math.max(g0, whole) * ROWS; i < Math.min(m, g1 * ROWS); i++) {
            int gb = (i / ROWS) * K * ROWS + i % ROWS, xi = xOff + i * K;
            for (int k = 0; k < K; k++) at[gb + k * ROWS] = x[xi + k];
        }
    }

    /** Rows per group at most that take two panels at once (up to 24 accumulators); more take one panel at a time. */
    private static final int TWO_ROWS = 4;

    /**
     * The {@code m} transposed input rows over panels {@code [p0, p1)}, a pair of panels at a time:
     * groups of up to {@link #TWO_ROWS} rows run over both panels side by side (two streams; one
     * panel at a time, 2 to 5 rows took about as long as 8), larger groups over each panel of the
     * pair in turn, while the pair is in L2 for the next group. (Two panels against one, same
     * harness: 2 rows 0.86x, 3 rows 0.92x, 4 rows 0.97x the time. Five to eight rows as passes of
     * four over the pair instead: 1.12x and 1.06x the time of rows5 and rows8.)
     */
    private static void rowPanels(float[] a, int m, float[] w, int wb, int K, int N, float[] y, int yo, int p0, int p1,
                                  float[] bias, boolean gelu) {
        float[] t = TILE.get();
        int groups = (m + ROWS - 1) / ROWS;
        for (int pi = p0; pi < p1; ) {
            int n = pi + 1 < p1 ? 2 : 1, pb = wb + pi * K * W;
            for (int g = 0; g < groups; g++) {
                int rows = Math.min(ROWS, m - g * ROWS), ab = g * K * ROWS, ro = yo + g * ROWS * N;
                if (WidePanelKernels.ON) { // two rows at a time over each whole panel of the pair
                    for (int q = 0; q < n; q++) {
                        int qb = pb + q * K * W, valid = Math.min(W, N - (pi + q) * W);
                        for (int r0 = 0; r0 < rows; r0 += 2) {
                            if (r0 + 1 < rows) WidePanelKernels.rows2(a, ab + r0, w, qb, K, t, r0 * W);
                            else WidePanelKernels.one(a, ab + r0, ROWS, w, qb, K, t, r0 * W);
                        }
                        for (int r = 0; r < rows; r++) store(t, r * W, y, ro + r * N + (pi + q) * W, valid, bias, (pi + q) * W, gelu);
                    }
                    continue;
                }
                if (n == 2 && rows <= TWO_ROWS) {
                    int pb2 = pb + K * W, cols = Math.min(2 * W, N - pi * W); // (the second panel may be the ragged last one)
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 4 -> PanelChains.two4(a, ab, w, pb + c, pb2 + c, K, t, c);
                            case 3 -> PanelChains.two3(a, ab, w, pb + c, pb2 + c, K, t, c);
                            case 2 -> PanelChains.two2(a, ab, w, pb + c, pb2 + c, K, t, c);
                            default -> PanelChains.two1(a, ab, ROWS, w, pb + c, pb2 + c, K, t, c);
                        }
                    }
                    for (int r = 0; r < rows; r++) store(t, r * 2 * W, y, ro + r * N + pi * W, cols, bias, pi * W, gelu);
                    continue;
                }
                for (int q = 0; q < n; q++) {
                    int qb = pb + q * K * W, valid = Math.min(W, N - (pi + q) * W);
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 8 -> PanelChains.rows8(a, ab, w, qb + c, K, t, c);
                            case 7 -> PanelChains.rows7(a, ab, w, qb + c, K, t, c);
                            case 6 -> PanelChains.rows6(a, ab, w, qb + c, K, t, c);
                            case 5 -> PanelChains.rows5(a, ab, w, qb + c, K, t, c);
                            case 4 -> PanelChains.rows4(a, ab, w, qb + c, K, t, c);
                            case 3 -> PanelChains.rows3(a, ab, w, qb + c, K, t, c);
                            case 2 -> PanelChains.rows2(a, ab, w, qb + c, K, t, c);
                            default -> PanelChains.rows1(a, ab, ROWS, w, qb + c, K, t, c);
                        }
                    }
                    for (int r = 0; r < rows; r++) store(t, r * W, y, ro + r * N + (pi + q) * W, valid, bias, (pi + q) * W, gelu);
                }
            }
            pi += n;
        }
    }

    /**
     * Threads claim runs of panels as they come free, each half of what is left per thread (at
     * least two panels, an even number: the one-row kernel's pairs), as {@code GemmSmall.nt} does
     * (0.94x and 0.95x the time of one fixed share each, 1 and 8 rows). Each panel is computed
     * whole by one thread, so the bits do not depend on who takes it.
     */
    static void forPanels(int np, int grain, Parallel.RangeBody body) {
        int threads = Math.min(Parallel.threads(), Math.max(1, np / grain));
        if (threads <= 1) {
            Parallel.forRange(np, grain, body);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int s; (s = next.get()) < np; ) {
                int size = Math.max(2, ((np - s) / (2 * threads) + 1) & ~1);
                if (next.compareAndSet(s, s + size)) body.run(s, Math.min(np, s + size));
            }
        });
    }

    /** One input row over panels {@code [p0, p1)}: two panels at a time (six chains), a last odd one alone. */
    private static void onePanels(float[] w, int wb, int K, int N, float[] x, int xo, float[] y, int yo, int p0, int p1,
                                  float[] bias, boolean gelu) {
        float[] t = TILE.get();
        int pi = p0;
        for (; pi + 1 < p1; pi += 2) {
            int pb = wb + pi * K * W;
            if (WidePanelKernels.ON) WidePanelKernels.two(x, xo, w, pb, pb + K * W, K, t);
            else for (int c = 0; c < W; c += PASS) PanelChains.two1(x, xo, 1, w, pb + c, pb + K * W + c, K, t, c);
            // (the second panel may be the ragged last one)
            store(t, 0, y, yo + pi * W, W + Math.min(W, N - (pi + 1) * W), bias, pi * W, gelu);
        }
        if (pi < p1) {
            int pb = wb + pi * K * W;
            if (WidePanelKernels.ON) WidePanelKernels.one(x, xo, 1, w, pb, K, t, 0);
            else for (int c = 0; c < W; c += PASS) PanelChains.rows1(x, xo, 1, w, pb + c, K, t, c);
            store(t, 0, y, yo + pi * W, Math.min(W, N - pi * W), bias, pi * W, gelu);
        }
    }

    /**
     * {@code n} results of a tile row from {@code t[to ..]} to {@code y[yo ..]}, output columns
     * {@code col ..}: copied, or plus the bias and then through GELU while in cache (the half
     * panels' stores too; {@code t} may be {@code y} itself, the same place).
     */
    static void store(float[] t, int to, float[] y, int yo, int n, float[] bias, int col, boolean gelu) {
        if (bias == null) {
            System.arraycopy(t, to, y, yo, n);
        } else {
            for (int j = 0; j < n; j += L) {
                var mask = F.indexInRange(j, n);
                FloatVector.fromArray(F, t, to + j, mask).add(FloatVector.fromArray(F, bias, col + j, mask)).intoArray(y, yo + j, mask);
            }
        }
        if (gelu) GeluKernel.forwardBlock(y, yo, n, 1, 0, n);
    }

    /**
     * The scalar twin: every output {@code y[i][n]} the chain {@code s = fma(x[i][k], W[n][k], s)}
     * over k in order from 0, the vector kernels' operations one lane at a time.
     */
    static void productScalar(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        int K = p.cols(), N = p.rows();
        float[] w = p.panels;
        int wb = p.panelBase;
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * K;
            for (int n = 0; n < N; n++) {
                int o = wb + PanelLayout.at(n, 0, K);
                float s = 0f;
                for (int k = 0; k < K; k++) s = Math.fma(x[xi + k], w[o + k * W], s);
                y[yOff + i * N + n] = s;
            }
        }
    }
}
