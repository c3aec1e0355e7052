package dev.myllm.tensor;

/**
 * The paths of a {@link PackedMatrix} product other than the few-row kernels: F32 along {@link
 * Gemm}'s paths, and many input rows (a prompt, scoring) on tiles of the matrix widened to float32
 * for the GEMM.
 */
final class PackedPaths {
    private static final int TILE_ROWS = 128;

    private PackedPaths() {
    }

    /**
     * F32 takes the path {@link Gemm#matmulNT} takes for the same shape and mode, with the same
     * operations in the same order (a few rows: {@code GemmSmall}'s; many: the GEMM on tiles; tiny
     * or without SIMD: the plain loops), so a mapped matrix gives exactly the bits of the float32
     * array it replaces and {@code generate} the same tokens.
     */
    static void f32(PackedMatrix p, ProductMode mode, float[] x, int xOff, int m, float[] y, int yOff) {
        int rows = p.rows(), cols = p.cols();
        if (!Simd.ENABLED) {
            // Gemm's scalar twin: one chain of fused multiply-adds per output, k from 0 (the tiny
            // products below round each product first, as Gemm's tiny loop does with SIMD on)
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < m; i++) {
                    float s = 0f;
                    for (int k = 0; k < cols; k++) s = Math.fma(x[xOff + i * cols + k], p.weight(r, k), s);
                    y[yOff + i * rows + r] = s;
                }
            }
        } else if (mode == ProductMode.SHAPE && Gemm.tiny(m, rows, cols)) {
            float[] acc = new float[m];
            for (int r = 0; r < rows; r++) {
                dotRowScalar(p, r, x, xOff, m, acc);
                for (int i = 0; i < m; i++) y[yOff + i * rows + r] = acc[i];
            }
        } else if (mode == ProductMode.ROWS || (mode == ProductMode.SHAPE && m <= GemmSmall.MAX_ROWS)) {
            // GemmSmall.nt's groups of weight rows, each read once for all m input rows
            int g = m == 1 ? GemmSmall.GROUP_ONE : GemmSmall.GROUP, groups = (rows + g - 1) / g;
            Parallel.forRange(groups, Math.max(1, (1 << 16) / cols / g),
                    (g0, g1) -> PackedKernels.dotF32Groups(p, g, g0, g1, x, xOff, m, y, yOff, GemmSmall.lanes()));
        } else {
            // the packed GEMM, also on a last tile so small that Gemm would take another path for it
            try (ProductMode.Scope s = ProductMode.use(ProductMode.PACKED)) {
                tiled(p, x, xOff, m, y, yOff);
            }
        }
    }

    /**
     * {@code y (m, rows) = x (m, cols) · Wᵀ} by the path that p's format and the current {@link
     * ProductMode} pick: a fixed mode picks it whatever m is, so each row's bits do not depend on m.
     */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff, int smallM) {
        ProductMode mode = ProductMode.current();
        PackedMatrix.Format format = p.format();
        int rows = p.rows(), cols = p.cols();
        if (format == PackedMatrix.Format.F32) {
            f32(p, mode, x, xOff, m, y, yOff);
            return;
        }
        if (format == PackedMatrix.Format.F32_PANELS || p.halfPanels != null) {
            panels(p, mode, x, xOff, m, y, yOff, smallM);
            return;
        }
        if (mode == ProductMode.PACKED || (mode == ProductMode.SHAPE && m > smallM)) {
            tiled(p, x, xOff, m, y, yOff);
            return;
        }
        float[] sums = format == PackedMatrix.Format.Q4_1 ? blockSums(cols, x, xOff, m) : null;
        if (!Simd.ENABLED || !PackedKernels.OK) {
            Parallel.forRange(rows, Math.max(1, (1 << 16) / cols), (r0, r1) -> {
                float[] acc = new float[m];
                for (int r = r0; r < r1; r++) {
                    dotRowScalar(p, r, x, xOff, m, acc);
                    for (int i = 0; i < m; i++) y[yOff + i * rows + r] = acc[i];
                }
            });
            return;
        }
        if (format == PackedMatrix.Format.F16 || format == PackedMatrix.Format.BF16) {
            HalfKernels.product(p, x, xOff, m, y, yOff);
            return;
        }
        int g = PackedKernels.GROUP, groups = (rows + g - 1) / g;
        // whole groups per thread: one fork/join per product, each thread streaming through its rows
        Parallel.forRange(groups, Math.max(1, (1 << 16) / cols / g), (g0, g1) -> {
            float[] lanes = GemmSmall.lanes(); // (8 accumulators' lanes fit)
            for (int gi = g0; gi < g1; gi++) {
                int r = gi * g, n = Math.min(g, rows - r);
                // one input row at a time: the group's packed rows (a few KB) stay in L1 for the next ones
                for (int i = 0; i < m; i++) PackedKernels.dot(p, r, n, x, xOff + i * cols, y, yOff + i * rows + r, sums, i * (cols / 32), lanes);
            }
        });
    }

    /** Q4_1: each block's sum of x, per input row (the minimum's share of the product). */
    static float[] blockSums(int cols, float[] x, int xOff, int m) {
        int blocks = cols / 32;
        float[] s = new float[m * blocks];
        for (int i = 0; i < m; i++) {
            for (int b = 0; b < blocks; b++) {
                float t = 0;
                for (int j = 0; j < 32; j++) t += x[xOff + i * cols + 32 * b + j];
                s[i * blocks + b] = t;
            }
        }
        return s;
    }

    /** Whether {@code m} rows take the few-row kernels under {@code mode} (else the GEMM). */
    static boolean fewRows(ProductMode mode, int m, int smallM) {
        return mode == ProductMode.ROWS || (mode == ProductMode.SHAPE && m <= smallM);
    }

    /**
     * F32_PANELS: any number of input rows, in every mode, on the panels' chains ({@link
     * PanelKernels}), which read each panel from memory once for all rows and then from L2, one
     * chain per output, so a row's bits never depend on the mode, the row count or the threads
     * (in a scratch harness a prompt's products took 0.75-0.99x the time of the packed GEMM, which
     * also packs the panels and reads and writes C once per 256 k, at 16 to 1024 rows of gpt2-small's
     * and gpt2-medium's shapes; bench generate's prefill: docs/performance.md).
     * F16/BF16 in {@link HalfLayout.Layout#PANELS}: a few rows ({@link ProductMode#ROWS} for any
     * number, {@link ProductMode#SHAPE} up to {@code smallM}) on the chains ({@link
     * HalfPanelKernels}); more by the packed GEMM widening straight from the panels, which gives
     * exactly the bits of {@link Gemm#matmulNT} in PACKED mode on the widened float32 array (without
     * SIMD: row-major tiles).
     */
    static void panels(PackedMatrix p, ProductMode mode, float[] x, int xOff, int m, float[] y, int yOff, int smallM) {
        if (p.halfPanels == null || fewRows(mode, m, smallM)) {
            if (p.halfPanels != null) HalfPanelKernels.product(p, x, xOff, m, y, yOff);
            else PanelKernels.product(p, x, xOff, m, y, yOff);
            return;
        }
        if (!Simd.ENABLED) {
            // (PACKED on every tile, as F32 above: a last tile so small that Gemm would take another path)
            try (ProductMode.Scope s = ProductMode.use(ProductMode.PACKED)) {
                tiled(p, x, xOff, m, y, yOff);
            }
            return;
        }
        // B(k, n) = weight (n, k), read from the panels as the GEMM packs them: each 16 halves of a
        // panel's row widen to the same 16 floats of a packed B row, so the packed operand, and so
        // every bit, is what Gemm#matmulNT gives on the widened array in PACKED mode (GemmDriver
        // splits by shape alone)
        panelsGemm(p, x, xOff, m, y, yOff, null);
    }

    /** Panels of halves by the packed GEMM (SIMD only; see {@link #panels}), each tile of y then through {@code epilogue} (or null). */
    static void panelsGemm(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff, GemmDriver.Epilogue epilogue) {
        int k = p.cols();
        int marker = p.format() == PackedMatrix.Format.BF16 ? GemmPack.BF16_PANELS : GemmPack.F16_PANELS;
        GemmDriver.run(x, xOff, k, 1, p.halfPanels, p.panelBase, k, marker, y, yOff, m, p.rows(), k, false, epilogue);
    }

    /** Many input rows: tiles of W widened to float32 and multiplied by the GEMM. */
    static void tiled(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        int rows = p.rows(), cols = p.cols();
        // F32 tiles are a plain copy, so larger ones (about 4 MB) cost nothing and let the GEMM run longer
        // (F32_PANELS too: a tile is a transpose of whole panels read in order, about as cheap)
        boolean f32 = p.format() == PackedMatrix.Format.F32 || p.format() == PackedMatrix.Format.F32_PANELS;
        int tr = Math.min(rows, f32 ? Math.max(TILE_ROWS, (1 << 20) / cols) : TILE_ROWS);
        // scratch from the arena, given back at once: a prompt's products take the same two buffers
        // again instead of megabytes of new arrays each
        float[] tile = Arena.uninitialized(tr * cols);
        float[] out = Arena.uninitialized(m * tr);
        for (int r0 = 0; r0 < rows; r0 += tr) {
            int n = Math.min(tr, rows - r0);
            int start = r0;
            Parallel.forRange(n, 8, (a, b) -> p.rowsToFloat(start + a, b - a, tile, a * cols));
            Gemm.matmulNT(x, xOff, tile, 0, out, 0, m, n, cols, false);
            for (int i = 0; i < m; i++) System.arraycopy(out, i * n, y, yOff + i * rows + r0, n);
        }
        Arena.release(out);
        Arena.release(tile);
    }

    /** The scalar twin of the row kernels (the path without SIMD): {@code acc[i] = Σ_k x[i, k] · W[r, k]}, blocks summed one by one and then scaled. */
    static void dotRowScalar(PackedMatrix p, int r, float[] x, int xOff, int m, float[] acc) {
        for (int i = 0; i < m; i++) {
            int xo = xOff + i * p.cols();
            float s = 0, ms = 0;
            if (p.panels != null || p.halfPanels != null) {
                for (int k = 0; k < p.cols(); k++) s = Math.fma(x[xo + k], p.weight(r, k), s); // (the panel kernels' chain)
            } else if (p.format() == PackedMatrix.Format.F16 || p.format() == PackedMatrix.Format.BF16) {
                s = HalfKernels.dotScalar(p, r, x, xo); // (the vector kernels' order of additions)
            } else if (p.format() == PackedMatrix.Format.F32) {
                for (int k = 0; k < p.cols(); k++) s += p.weight(r, k) * x[xo + k]; // (Gemm's tiny loop; without SIMD f32 takes Gemm's twin)
            } else {
                for (int b = 0; b < p.cols() / 32; b++) {
                    float bs = 0, xs = 0;
                    for (int j = 0; j < 32; j++) {
                        bs += p.quant(r, 32 * b + j) * x[xo + 32 * b + j];
                        xs += x[xo + 32 * b + j];
                    }
                    s += p.scale(r, b) * bs;
                    ms += p.min(r, b) * xs;
                }
            }
            acc[i] = s + ms;
        }
    }

    /** The Vector API kernel for row {@code r} alone (for tests: the twin of {@link #dotRowScalar}). */
    static void dotRowSimd(PackedMatrix p, int r, float[] x, int xOff, int m, float[] acc) {
        if (p.format() == PackedMatrix.Format.F32_PANELS) {
            for (int i = 0; i < m; i++) PanelKernels.outputs(p, x, xOff + i * p.cols(), r, 1, acc, i);
            return;
        }
        if (p.halfPanels != null) {
            for (int i = 0; i < m; i++) HalfPanelKernels.outputs(p, x, xOff + i * p.cols(), r, 1, acc, i);
            return;
        }
        float[] sums = p.format() == PackedMatrix.Format.Q4_1 ? blockSums(p.cols(), x, xOff, m) : null;
        for (int i = 0; i < m; i++) PackedKernels.dot(p, r, 1, x, xOff + i * p.cols(), acc, i, sums, i * (p.cols() / 32));
    }

    /** The Vector API kernel for rows {@code r .. r+n} together, into {@code y[0 .. n)} (for tests). */
    static void dotGroupSimd(PackedMatrix p, int r, int n, float[] x, int xOff, float[] y) {
        if (p.format() == PackedMatrix.Format.F32_PANELS || p.halfPanels != null) {
            if (p.halfPanels != null) HalfPanelKernels.outputs(p, x, xOff, r, n, y, 0);
            else PanelKernels.outputs(p, x, xOff, r, n, y, 0);
            return;
        }
        float[] sums = p.format() == PackedMatrix.Format.Q4_1 ? blockSums(p.cols(), x, xOff, 1) : null;
        PackedKernels.dot(p, r, n, x, xOff, y, 0, sums, 0);
    }
}
