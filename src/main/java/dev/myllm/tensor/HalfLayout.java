package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where the F16/BF16 weights of a {@link PackedMatrix} sit in its memory: row after row (a file's
 * layout, read where it is mapped: {@link PackedMatrix.Halves#MAPPED}), rows padded, tiles of
 * four rows read as one stream, or K-major panels of 48 rows on the heap.
 */
final class HalfLayout {
    private HalfLayout() {
    }

    /** How the F16/BF16 rows of a matrix are laid out in {@link PackedMatrix#bits}. */
    enum Layout {
        /** Row after row, {@code 2·cols} bytes apart: a file's layout (a mapped file read in place). */
        ROWS,
        /** Row after row, padded by {@link #halfStride}. */
        PADDED,
        /**
         * Each group of four rows (fewer in the last group) interleaved a tile of {@link #TILE}
         * columns (one vector load) at a time: row 0's tile, row 1's, 2's, 3's, then the next tile, so
         * that a group is one contiguous run and a thread's range of groups one sequential stream
         * (see {@link HalfKernels#product}). The last, narrower tile of a row (the columns past a
         * multiple of {@code TILE}) likewise, each row's part after the other's.
         */
        TILES,
        /**
         * {@link PanelLayout}'s panels of halves: weight {@code (n, k)} at {@code (n / 48)·K·48 + k·48
         * + n % 48} in a heap {@code short[]} from {@link PackedMatrix#panelBase} (a cache line's
         * start), the last panel zero-padded; products in {@link HalfPanelKernels}.
         */
        PANELS
    }

    /**
     * Whether matrices encoded into memory of our own take panels: by default when the JVM runs
     * with {@code -XX:PerMethodTrapLimit} of at least {@link #TRAP_LIMIT} (the launcher sets 10000),
     * {@code -Dmyllm.packed.halfPanels=true|false} to choose. With the JVM's default (100), C2 could
     * compile the 6- to 8-row chains late with every vector boxed, and {@code bench serve} at 8
     * streams ran 10x slower (the launcher's comment, {@link HalfPanelChains}, docs/performance.md);
     * tiles have no such risk.
     */
    static final boolean PANEL = panelsByDefault(System.getProperty("myllm.packed.halfPanels"), trapLimit());

    /** The least {@code PerMethodTrapLimit} with which half panels are the default. */
    static final long TRAP_LIMIT = 1000;

    /** Whether half panels are on: as {@code property} says when it is set, else when {@code trapLimit} is at least {@link #TRAP_LIMIT}. */
    static boolean panelsByDefault(String property, long trapLimit) {
        if (property != null) return Boolean.parseBoolean(property);
        return trapLimit >= TRAP_LIMIT;
    }

    /** This JVM's {@code PerMethodTrapLimit}, or -1 when it cannot be read (not HotSpot). */
    static long trapLimit() {
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Long.parseLong(bean.getVMOption("PerMethodTrapLimit").getValue());
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }

    /** The memory of a {@code (rows, cols)} matrix in panels: a heap array (zeros: the padding), as a segment. */
    static MemorySegment panels(int rows, int cols) {
        long size = 2L * Aligned.base() + PanelLayout.size(rows, cols);
        if (size > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("an F16/BF16 matrix in panels of " + size + " halves is too large (at most 2^31)");
        return MemorySegment.ofArray(new short[(int) size]);
    }

    /**
     * Whether F16/BF16 rows of our own memory in row-major layout are padded (default; {@code
     * -Dmyllm.packed.pad=false} to compare). The four-row kernels read four rows side by side; 2048
     * bytes apart (gpt2-medium's 1024 columns) they ran slower than 2112 bytes apart: gpt2-medium
     * f16 decoding 1.37-1.43x f32 unpadded against 1.47-1.56x padded in three old/new pairs on a
     * shared machine, gpt2-small unchanged. The bits of every product are the same either way.
     */
    static final boolean PAD = !"false".equals(System.getProperty("myllm.packed.pad"));

    /** Whether matrices encoded into memory of our own take tiles ({@code -Dmyllm.packed.tiles=false} to compare). */
    static final boolean TILES = !"false".equals(System.getProperty("myllm.packed.tiles"));

    /**
     * Fills {@code p} (just allocated, in its own layout) from {@code bytes}, its halves row after
     * row as a file holds them, and returns it: each thread copies a range of rows, a tile (32
     * bytes) as four longs, so a file is read in order once.
     */
    static PackedMatrix copy(MemorySegment bytes, PackedMatrix p) {
        int cols = p.cols(), whole = cols - cols % TILE;
        if (p.halfPanels != null) {
            // whole panels per thread (no cache line written by two), each row read in order and scattered into its panel
            int W = PanelLayout.W, rows = p.rows();
            Parallel.forRange(PanelLayout.panels(rows), 1, (p0, p1) -> {
                short[] row = new short[cols];
                for (int r = p0 * W; r < Math.min(rows, p1 * W); r++) {
                    MemorySegment.copy(bytes, PackedMatrix.LS, 2L * cols * r, row, 0, cols);
                    int o = p.panelBase + PanelLayout.at(r, 0, cols);
                    for (int k = 0; k < cols; k++) p.halfPanels[o + k * W] = row[k];
                }
            });
            return p;
        }
        Parallel.forRange(p.rows(), 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long src = 2L * cols * r;
                if (!p.tiled) {
                    MemorySegment.copy(bytes, src, p.bits, r * p.qRowBytes, 2L * cols);
                    continue;
                }
                for (int kb = 0; kb < whole; kb += TILE) {
                    long s = src + 2L * kb, d = tileAt(p, r, kb);
                    for (int b = 0; b < 2 * TILE; b += 8) p.bits.set(ValueLayout.JAVA_LONG_UNALIGNED, d + b, bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, s + b));
                }
                if (whole < cols) MemorySegment.copy(bytes, src + 2L * whole, p.bits, tileAt(p, r, whole), 2L * (cols - whole));
            }
        });
        return p;
    }

    /** The widest rows that take tiles (wider ones: padded rows, read as four streams). */
    static final int TILE_COLS = Integer.getInteger("myllm.packed.tileCols", 2048);

    /** The layout of a matrix of {@code cols} columns encoded into memory of our own. */
    static Layout layout(int cols) {
        if (PANEL) return Layout.PANELS;
        return TILES && cols <= TILE_COLS ? Layout.TILES : PAD ? Layout.PADDED : Layout.ROWS;
    }

    /**
     * Bytes from one F16/BF16 row to the next in a row-major layout: {@code 2·cols}, plus 64 with
     * {@code pad} when that is a multiple of 1024 (a mapped file's rows stay as they are).
     */
    static long halfStride(int cols, boolean pad) {
        long b = 2L * cols;
        return pad && b % 1024 == 0 ? b + 64 : b;
    }

    /** Lanes of a vector of the kernels (a tile is two). */
    static final int LANES = HalfKernels.LANES;

    /** Columns of a row a whole tile holds: one vector's. */
    static final int TILE = LANES;

    /** Rows a group of tiles interleaves. */
    static final int GROUP = 4;

    /** Rows in row {@code r}'s group of tiles. */
    static int groupRows(PackedMatrix p, int r) {
        return Math.min(GROUP, p.rows() - (r - r % GROUP));
    }

    /** Tiles: the byte where row {@code r}'s part of the tile from column {@code kb} (a multiple of TILE) starts. */
    static long tileAt(PackedMatrix p, int r, int kb) {
        int r0 = r - r % GROUP, w = Math.min(TILE, p.cols() - kb);
        return 2L * r0 * p.cols() + 2L * groupRows(p, r) * kb + 2L * w * (r - r0);
    }

    /** The byte in {@code p.bits} of weight {@code (r, k)}. */
    static long at(PackedMatrix p, int r, int k) {
        if (p.halfPanels != null) return 2L * (p.panelBase + PanelLayout.at(r, k, p.cols()));
        if (!p.tiled) return r * p.qRowBytes + 2L * k;
        int kb = k - k % TILE;
        return tileAt(p, r, kb) + 2L * (k - kb);
    }

    /** Encodes row {@code r} of an F16/BF16 matrix from {@code w[off ..]}. */
    static void encodeRow(PackedMatrix p, float[] w, int off, int r) {
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        int cols = p.cols();
        if (p.halfPanels != null) {
            int o = p.panelBase + PanelLayout.at(r, 0, cols);
            for (int k = 0; k < cols; k++) p.halfPanels[o + k * PanelLayout.W] = half(bf, w[off + k]);
            return;
        }
        if (!p.tiled) {
            long o = r * p.qRowBytes;
            for (int k = 0; k < cols; k++) p.bits.set(PackedMatrix.LS, o + 2L * k, half(bf, w[off + k]));
            return;
        }
        for (int kb = 0; kb < cols; kb += TILE) {
            long t = tileAt(p, r, kb);
            int wd = Math.min(TILE, cols - kb);
            for (int c = 0; c < wd; c++) p.bits.set(PackedMatrix.LS, t + 2L * c, half(bf, w[off + kb + c]));
        }
    }

    private static short half(boolean bf, float v) {
        return bf ? Quantize.bf16(v) : Float.floatToFloat16(v);
    }

    /** A half's value in float32 (BF16's bits are float32's top half). */
    static float widen(boolean bf, short h) {
        return bf ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
    }

    /** Row {@code r} widened to float32 into {@code dst[o ..]}: the values of {@link PackedMatrix#weight}. */
    static void widenRow(PackedMatrix p, int r, float[] dst, int o) {
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        int cols = p.cols();
        if (p.halfPanels != null) {
            int s = p.panelBase + PanelLayout.at(r, 0, cols);
            for (int k = 0; k < cols; k++) dst[o + k] = widen(bf, p.halfPanels[s + k * PanelLayout.W]);
            return;
        }
        for (int kb = 0; kb < cols; kb += TILE) {
            int wd = Math.min(TILE, cols - kb);
            long t = p.tiled ? tileAt(p, r, kb) : r * p.qRowBytes + 2L * kb;
            for (int c = 0; c < wd; c++) {
                short h = p.bits.get(PackedMatrix.LS, t + 2L * c);
                dst[o + kb + c] = widen(bf, h);
            }
        }
    }
}
