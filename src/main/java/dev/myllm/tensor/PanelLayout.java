package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Where the weights of an {@link PackedMatrix.Format#F32_PANELS} matrix sit: K-major panels of
 * {@link #W} output rows, {@code [ceil(N/W)][K][W]}, weight {@code (n, k)} at {@code (n / W)·K·W +
 * k·W + n % W} from the panels' base, the last panel's missing rows zero; and the copies between
 * that and row-major float32 (encoding, a file's rows, the tiles prompts widen for the GEMM).
 */
final class PanelLayout {
    /** Output rows per panel: three 16-lane vectors of the kernels ({@link PanelKernels}). */
    static final int W = 48;

    private PanelLayout() {
    }

    /** Panels of a matrix of {@code rows} outputs (the last one zero-padded). */
    static int panels(int rows) {
        return (rows + W - 1) / W;
    }

    /** Floats the panels of a {@code (rows, cols)} matrix take. */
    static long size(int rows, int cols) {
        return (long) panels(rows) * cols * W;
    }

    /** Where weight {@code (r, k)} sits among the panels (from the first panel's start). */
    static int at(int r, int k, int cols) {
        return (r / W) * cols * W + k * W + r % W;
    }

    /** Fills {@code p} (just allocated) from the row-major {@code w}, whole panels per thread, and returns it. */
    static PackedMatrix encode(PackedMatrix p, float[] w) {
        int rows = p.rows(), cols = p.cols();
        Parallel.forRange(panels(rows), 4, (p0, p1) -> {
            int r0 = p0 * W, r1 = Math.min(rows, p1 * W);
            scatterRows(p.panels, p.panelBase, cols, w, r0 * cols, r0, r1 - r0);
        });
        return p;
    }

    /**
     * Rows {@code [r0, r0 + n)} from row-major {@code w[off ..]} into their panels: each panel
     * written in order (its rows of W floats), gathered from up to W rows read side by side.
     */
    static void scatterRows(float[] panels, int base, int cols, float[] w, int off, int r0, int n) {
        for (int r = r0; r < r0 + n; ) {
            int p = r / W, j0 = r % W, j1 = Math.min(W, j0 + (r0 + n - r)); // this panel's columns [j0, j1)
            int pb = base + p * cols * W;
            for (int k = 0; k < cols; k++) {
                int d = pb + k * W;
                for (int j = j0; j < j1; j++) panels[d + j] = w[off + (r - r0 + j - j0) * cols + k];
            }
            r += j1 - j0;
        }
    }

    /**
     * Rows {@code [r0, r0 + n)} as row-major float32 into {@code dst[off ..]}: each panel read in
     * order (its rows of W floats), its columns scattered to their rows.
     */
    static void gatherRows(float[] panels, int base, int cols, int r0, int n, float[] dst, int off) {
        for (int r = r0; r < r0 + n; ) {
            int p = r / W, j0 = r % W, j1 = Math.min(W, j0 + (r0 + n - r)); // this panel's columns [j0, j1)
            int pb = base + p * cols * W;
            for (int k = 0; k < cols; k++) {
                int s = pb + k * W;
                for (int j = j0; j < j1; j++) dst[off + (r - r0 + j - j0) * cols + k] = panels[s + j];
            }
            r += j1 - j0;
        }
    }

    /** Fills {@code p} (just allocated) from a file's float32 rows, each scattered into its panel, and returns it. */
    static PackedMatrix fromFile(MemorySegment bytes, PackedMatrix p) {
        int cols = p.cols();
        Parallel.forRange(p.rows(), 16, (r0, r1) -> {
            float[] row = new float[cols];
            for (int r = r0; r < r1; r++) {
                MemorySegment.copy(bytes, PackedMatrix.LF, (long) r * 4 * cols, row, 0, cols);
                p.encodeRows(row, 0, r, 1);
            }
        });
        if (bytes.isMapped()) bytes.unload(); // (not read again: do not keep the pages resident)
        return p;
    }
}
