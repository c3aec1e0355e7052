package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix {@code (rows, cols)} kept for inference in 32, 16, 8 or 4 bits: F32, F16, BF16,
 * Q8_0 (llama.cpp's blocks of 32 int8 along a row with one f16 scale), Q4_0 or Q4_1 (blocks of 32
 * nibbles with a scale, and for Q4_1 a minimum). The bits live in a {@link MemorySegment}: F32
 * outside the heap, from a file in its layout itself, so a GGUF or safetensors tensor is
 * used where the file is memory-mapped, without a copy; F16 and BF16 in memory of our own on the
 * heap in {@link HalfLayout}'s panels ({@link HalfPanelKernels}: one chain of multiply-adds per
 * output, as F32_PANELS), or a file's halves read where it is mapped ({@link Halves}); the block types in Java arrays, the quantised values of
 * a block contiguous and the scales widened to float32 (what lets a vector take a whole block),
 * repacked once from the file's blocks (Q8_0 with each group of four rows' blocks and scales
 * interleaved, see {@link #codeAt}). Products read the packed weights directly
 * (activations stay float32; kernels in {@link PackedKernels} and {@link QuantKernels}). Row-split over threads, each
 * output summed in one fixed order (vector lanes too are added in a fixed order, not by
 * {@code reduceLanes}, whose order differs between the interpreter and compiled code), so results
 * do not depend on the number of threads or on how warm the JVM is. Inference only: there is no
 * gradient. F32_PANELS keeps float32 on the heap in {@link PanelKernels}' panels, for products of
 * any number of rows as one chain of multiply-adds per output.
 */
public final class PackedMatrix {
    /** How the weights are stored. */
    public enum Format {
        F16(1, 2), BF16(1, 2), Q8_0(32, 34), Q4_0(32, 18), Q4_1(32, 20),
        /** Float32 as in a file: a matrix that needs no conversion, used where it is memory-mapped. */
        F32(1, 4),
        /**
         * Float32 on the heap, K-major in panels of 48 output rows ({@link PanelKernels}): a few
         * input rows make each output one sequential chain of multiply-adds, with no lane sums.
         * Encoded (never used in place): its bits differ from {@link #F32}'s dot products.
         */
        F32_PANELS(1, 4);

        private final int block;
        private final int blockBytes;

        Format(int block, int blockBytes) {
            this.block = block;
            this.blockBytes = blockBytes;
        }

        /** Bytes of one row of {@code cols} weights (as in a file). */
        public long rowBytes(int cols) {
            return (long) cols / block * blockBytes;
        }

        /** Weights per block (1 for F16 and BF16): rows must be a multiple of it. */
        public int blockSize() {
            return block;
        }
    }

    static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LF = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Above this many input rows, tiles of the matrix are widened to float32 and multiplied by the packed GEMM. */
    private static final int SMALL_M = 8;

    private final Format format;
    private final int rows;
    private final int cols;
    final long rowBytes;          // bytes of a row in the file layout (what a product reads)
    final long qRowBytes;         // bytes of a row in `bits`: 2·cols (F16/BF16), cols (Q8_0) or cols/2 (Q4)
    final MemorySegment bits;     // F16/BF16: the halves, row after row; Q8_0: the int8; Q4: the nibble bytes
    final MemorySegment scales;   // block types: float32, one per block of 32, row after row; else null
    final MemorySegment mins;     // Q4_1: float32 minimum per block; else null
    // The block types keep their bytes and scales in Java arrays (bits and scales are views of them):
    // a kernel indexing an array with int offsets compiles to plain loads, where the segment's long
    // offsets and liveness checks left C2 rebuilding bounds checks inside the loop.
    final byte[] codes;           // the block types: the bytes of `bits`; else null
    final float[] scaleArray;     // the block types: the floats of `scales`; else null
    final float[] minArray;       // Q4_1: the floats of `mins`; else null

    final boolean tiled;          // F16/BF16: rows in HalfKernels' Layout.TILES (else row after row, qRowBytes apart)
    // F32_PANELS: the weights in PanelKernels' panels, from panels[panelBase] (a cache line's start
    // where the JVM fixes one, so a panel's rows of 48 floats are three whole lines); else null
    final float[] panels;
    // F16/BF16 in HalfLayout.Layout.PANELS: the halves in the same panels (bits is a view), from halfPanels[panelBase]; else null
    final short[] halfPanels;
    final int panelBase;

    private PackedMatrix(Format format, int rows, int cols, MemorySegment bits, MemorySegment scales, MemorySegment mins) {
        this(format, rows, cols, bits, scales, mins, switch (format) {
            case F16, BF16 -> 2L * cols;
            case F32, F32_PANELS -> 4L * cols;
            case Q8_0 -> cols;
            case Q4_0, Q4_1 -> cols / 2;
        }, false);
    }

    private PackedMatrix(Format format, int rows, int cols, MemorySegment bits, MemorySegment scales, MemorySegment mins, long qRowBytes, boolean tiled) {
        this.tiled = tiled;
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = format.rowBytes(cols);
        this.qRowBytes = qRowBytes;
        this.bits = bits;
        this.scales = scales;
        this.mins = mins;
        // (the block types' segments are always whole arrays of our own, see allocated)
        boolean blocks = format.block > 1;
        this.codes = blocks ? (byte[]) bits.heapBase().orElseThrow() : null;
        this.scaleArray = scales != null ? (float[]) scales.heapBase().orElseThrow() : null;
        this.minArray = mins != null ? (float[]) mins.heapBase().orElseThrow() : null;
        this.panels = format == Format.F32_PANELS ? (float[]) bits.heapBase().orElseThrow() : null;
        this.halfPanels = format.block == 1 && bits.heapBase().orElse(null) instanceof short[] h ? h : null;
        this.panelBase = format == Format.F32_PANELS ? Aligned.base() : halfPanels != null ? 2 * Aligned.base() : 0; // (a line's start: shorts)
    }

    private static void checkShape(Format format, int rows, int cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("a packed matrix needs rows and columns, got (" + rows + ", " + cols + ")");
        if (cols % format.block != 0) throw new IllegalArgumentException(format + " needs rows of a multiple of 32 weights, got " + cols);
    }

    /** Off-heap memory freed when the matrix is no longer reachable (64-byte aligned for the vector loads). */
    private static MemorySegment allocate(long bytes) {
        return java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, bytes), 64);
    }

    private static MemorySegment bytes(long n) {
        if (n > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("a block-type matrix of " + n + " bytes is too large (at most 2^31)");
        return MemorySegment.ofArray(new byte[(int) n]);
    }

    private static MemorySegment floats(long n) {
        return MemorySegment.ofArray(new float[(int) n]);
    }

    private static PackedMatrix allocated(Format format, int rows, int cols) {
        return allocated(format, rows, cols, HalfLayout.layout(cols));
    }

    private static PackedMatrix allocated(Format format, int rows, int cols, HalfLayout.Layout layout) {
        checkShape(format, rows, cols);
        long n = (long) rows * cols;
        return switch (format) {
            case F16, BF16 -> {
                if (layout == HalfLayout.Layout.PANELS) yield new PackedMatrix(format, rows, cols, HalfLayout.panels(rows, cols), null, null, 2L * cols, false);
                long stride = HalfLayout.halfStride(cols, layout == HalfLayout.Layout.PADDED);
                yield new PackedMatrix(format, rows, cols, allocate(stride * rows), null, null, stride, layout == HalfLayout.Layout.TILES);
            }
            case F32 -> new PackedMatrix(format, rows, cols, allocate(4 * n), null, null);
            case F32_PANELS -> {
                long size = Aligned.base() + PanelLayout.size(rows, cols);
                if (size > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("an F32_PANELS matrix of " + size + " floats is too large (at most 2^31)");
                yield new PackedMatrix(format, rows, cols, floats(size), null, null); // (zeros: the last panel's padding)
            }
            case Q8_0 -> new PackedMatrix(format, rows, cols, bytes(n / 32 * Q8_BLOCK), null, null); // (scales among the codes)
            case Q4_0 -> new PackedMatrix(format, rows, cols, bytes(n / 2), floats(n / 32), null);
            case Q4_1 -> new PackedMatrix(format, rows, cols, bytes(n / 2), floats(n / 32), floats(n / 32));
        };
    }

    /**
     * What becomes of F16/BF16 matrices that a file stores as they are used: read where the file is
     * mapped, or copied into panels of our own. Mapped starts at once and holds no memory of its own;
     * a file's row-major halves decode slower than a copy, though (figures from tiles, the copy before panels) (gpt2-medium F16: 1.38-1.46x the
     * f32 tokens/s against 1.78-1.95x copied), and the copy costs seconds at load on this machine
     * (gpt2-medium 3.1-3.4 s against 0.3; docs/performance.md).
     */
    public enum Halves {
        /** Read where the file is mapped, row after row. */
        MAPPED,
        /** Copied into {@link HalfLayout}'s panels on the heap, and the file's pages released. */
        COPIED
    }

    /**
     * Whether {@link #wrap} reads a matrix of {@code format} from the bytes it is given, so a
     * loader must keep a file mapped as long as the matrix is used: F32 always; F16 and BF16 when
     * {@code halves} says {@link Halves#MAPPED}.
     */
    public static boolean inPlace(Format format, Halves halves) {
        return format == Format.F32 || ((format == Format.F16 || format == Format.BF16) && halves == Halves.MAPPED);
    }

    /**
     * A matrix over bytes in the format's file layout (e.g. a GGUF tensor, memory-mapped): F32 uses
     * the bytes in place (they must stay valid as long as the matrix is used), and so do F16 and
     * BF16 when {@code halves} is {@link Halves#MAPPED} ({@link #inPlace}); otherwise F16 and BF16
     * are copied into {@link HalfLayout}'s panels in memory of our own (on the heap), and the block
     * types repacked, and a mapped file's pages are then released.
     */
    public static PackedMatrix wrap(Format format, int rows, int cols, MemorySegment bytes, Halves halves) {
        checkShape(format, rows, cols);
        long need = format.rowBytes(cols) * rows;
        if (bytes.byteSize() != need) {
            throw new IllegalArgumentException(format + " matrix (" + rows + ", " + cols + ") needs " + need + " bytes, got " + bytes.byteSize());
        }
        if (inPlace(format, halves)) return new PackedMatrix(format, rows, cols, bytes, null, null);
        if (format == Format.F32_PANELS) return PanelLayout.fromFile(bytes, allocated(format, rows, cols));
        if (format == Format.F16 || format == Format.BF16) {
            PackedMatrix p = HalfLayout.copy(bytes, allocated(format, rows, cols));
            if (bytes.isMapped()) bytes.unload(); // (as below)
            return p;
        }
        PackedMatrix p = QuantKernels.repack(bytes, allocated(format, rows, cols), format.blockBytes);
        if (bytes.isMapped()) bytes.unload(); // the file's pages are not read again: do not keep them resident
        return p;
    }

    private short half(int r, int k) {
        return bits.get(LS, HalfLayout.at(this, r, k));
    }

    /** Rows whose blocks Q8_0 interleaves: the four-row kernel's group. */
    static final int GROUP = 4;

    /** Bytes a Q8_0 block takes in memory: 32 int8 and a float32 scale. */
    static final int Q8_BLOCK = 36;

    /** Q4: where row {@code r}'s block {@code b} is stored, as an index among all the blocks (row after row): its scale (and minimum) at this index. */
    long block(int r, int b) {
        return (long) r * (cols / 32) + b;
    }

    /**
     * The byte in {@link #bits} where row {@code r}'s block {@code b} starts. Q4: 16 bytes a block,
     * row after row. Q8_0: each group of {@link #GROUP} rows (n, fewer in the last group) stores
     * block b of its rows side by side, their n·32 codes and then their n float32 scales ({@link
     * #scaleAt}), 36·n bytes a block: the four-row kernel reads one sequential stream instead of
     * four rows' and a scale stream (memory prefetches few streams better, and the addresses are
     * one base plus constants).
     */
    long codeAt(int r, int b) {
        if (format != Format.Q8_0) return 16 * block(r, b);
        int r0 = r - r % GROUP, n = Math.min(GROUP, rows - r0);
        return (long) r0 * (cols / 32) * Q8_BLOCK + (long) b * n * Q8_BLOCK + 32L * (r - r0);
    }

    /** Q8_0: the byte in {@link #bits} of row {@code r}'s block {@code b}'s scale (float32, little-endian). */
    long scaleAt(int r, int b) {
        int r0 = r - r % GROUP, n = Math.min(GROUP, rows - r0);
        return codeAt(r, b) + 32L * (n - (r - r0)) + 4L * (r - r0);
    }

    int quant(int r, int k) {
        return switch (format) {
            case Q8_0 -> bits.get(ValueLayout.JAVA_BYTE, codeAt(r, k / 32) + k % 32);
            case Q4_0, Q4_1 -> {
                int b = bits.get(ValueLayout.JAVA_BYTE, r * qRowBytes + 16L * (k / 32) + (k % 16)) & 0xFF;
                yield ((k % 32) < 16 ? b & 0xF : b >>> 4) - (format == Format.Q4_0 ? 8 : 0);
            }
            default -> throw new IllegalStateException(format.name());
        };
    }

    float scale(int r, int b) {
        return format == Format.Q8_0 ? bits.get(LF, scaleAt(r, b)) : scales.get(LF, 4 * block(r, b));
    }

    float min(int r, int b) {
        return mins == null ? 0f : mins.get(LF, 4 * block(r, b));
    }

    /** Weight {@code (r, k)} widened to float32. */
    float weight(int r, int k) {
        return switch (format) {
            case F16, BF16 -> HalfLayout.widen(format == Format.BF16, half(r, k));
            case F32 -> bits.get(LF, r * qRowBytes + 4L * k);
            case F32_PANELS -> panels[panelBase + PanelLayout.at(r, k, cols)];
            case Q8_0, Q4_0 -> quant(r, k) * scale(r, k / 32);
            case Q4_1 -> quant(r, k) * scale(r, k / 32) + min(r, k / 32);
        };
    }

    /** Encodes a float32 row-major {@code (rows, cols)} matrix (the block types as ggml's reference quantisers do). */
    public static PackedMatrix encode(Format format, float[] w, int rows, int cols) {
        return encode(format, w, rows, cols, HalfLayout.layout(cols));
    }

    /** As above, F16/BF16 rows in the given layout; for tests. */
    static PackedMatrix encode(Format format, float[] w, int rows, int cols, HalfLayout.Layout layout) {
        PackedMatrix p = allocated(format, rows, cols, layout);
        if (w.length < (long) rows * cols) throw new IllegalArgumentException("(" + rows + ", " + cols + ") weights need " + (long) rows * cols + " values, got " + w.length);
        if (format == Format.F32_PANELS) return PanelLayout.encode(p, w);
        int unit = p.halfPanels != null ? PanelLayout.W : 1; // (half panels: whole panels per thread, no line written by two)
        Parallel.forRange((rows + unit - 1) / unit, Math.max(1, 16 / unit), (u0, u1) -> {
            for (int r = u0 * unit; r < Math.min(rows, u1 * unit); r++) p.encodeRow(w, r * cols, r);
        });
        return p;
    }

    /**
     * A matrix whose rows {@link #encodeRows} fills next: a loader streams a file's rows through a
     * small float32 buffer instead of widening a whole matrix first.
     */
    public static PackedMatrix empty(Format format, int rows, int cols) {
        return allocated(format, rows, cols);
    }

    /** Encodes rows {@code [r0, r0 + n)} from {@code w[off ..]} (row-major, {@code cols} a row), as {@link #encode} would. */
    public void encodeRows(float[] w, int off, int r0, int n) {
        if (r0 < 0 || n < 0 || r0 + n > rows || off < 0 || off + (long) n * cols > w.length) {
            throw new IllegalArgumentException("rows [" + r0 + ", " + (r0 + n) + ") from offset " + off + " do not fit (" + rows + ", " + cols + ") and " + w.length + " values");
        }
        if (format == Format.F32_PANELS) PanelLayout.scatterRows(panels, panelBase, cols, w, off, r0, n);
        else for (int i = 0; i < n; i++) encodeRow(w, off + i * cols, r0 + i);
    }

    private void encodeRow(float[] w, int off, int r) {
        switch (format) {
            case F16, BF16 -> HalfLayout.encodeRow(this, w, off, r);
            case F32 -> MemorySegment.copy(w, off, bits, LF, r * qRowBytes, cols);
            case F32_PANELS -> PanelLayout.scatterRows(panels, panelBase, cols, w, off, r, 1);
            case Q8_0, Q4_0, Q4_1 -> {
                byte[] q = new byte[Quantize.BLOCK];
                int codeBytes = format == Format.Q8_0 ? Quantize.BLOCK : Quantize.BLOCK / 2;
                for (int b = 0; b < cols / Quantize.BLOCK; b++) {
                    int s = off + Quantize.BLOCK * b;
                    float d = switch (format) {
                        case Q8_0 -> Quantize.q8_0(w, s, q);
                        case Q4_0 -> Quantize.q4_0(w, s, q);
                        default -> Quantize.q4_1(w, s, q);
                    };
                    setScale(r, b, d);
                    if (format == Format.Q4_1) mins.set(LF, 4 * block(r, b), Float.float16ToFloat(Float.floatToFloat16(Quantize.min(w, s))));
                    MemorySegment.copy(q, 0, bits, ValueLayout.JAVA_BYTE, codeAt(r, b), codeBytes);
                }
            }
        }
    }

    /** A block's scale, stored as f16 as in the file (widened to float32). */
    void setScale(int r, int b, float d) {
        float v = Float.float16ToFloat(Float.floatToFloat16(d));
        if (format == Format.Q8_0) bits.set(LF, scaleAt(r, b), v);
        else scales.set(LF, 4 * block(r, b), v);
    }

    public Format format() {
        return format;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes the weights take in the file layout. */
    public long byteSize() {
        return rowBytes * rows;
    }

    /**
     * Bytes a matrix-vector product reads: the file layout's for F32, F16 and BF16; for the block
     * types their layout in memory (Q8_0's 36-byte blocks carry a float32 scale where the file's 34
     * carry an f16; Q4's codes, scales and minimums side by side).
     */
    public long readBytes() {
        if (panels != null || halfPanels != null) return (panels != null ? 4L : 2L) * PanelLayout.size(rows, cols); // (with the last panel's padding)
        if (codes == null) return rowBytes * rows;
        return codes.length + 4L * ((scaleArray == null ? 0 : scaleArray.length) + (minArray == null ? 0 : minArray.length));
    }

    /** Row {@code r} widened to float32 into {@code dst[off ..]} (an embedding lookup). */
    public void row(int r, float[] dst, int off) {
        rowsToFloat(r, 1, dst, off);
    }

    void rowsToFloat(int r0, int n, float[] dst, int off) {
        if (format == Format.F32) {
            MemorySegment.copy(bits, LF, r0 * qRowBytes, dst, off, n * cols);
            return;
        }
        if (format == Format.F32_PANELS) {
            PanelLayout.gatherRows(panels, panelBase, cols, r0, n, dst, off);
            return;
        }
        for (int r = r0; r < r0 + n; r++) {
            int o = off + (r - r0) * cols;
            if (codes != null) QuantKernels.widenRow(this, r, dst, o); // (the block types a block at a time)
            else HalfLayout.widenRow(this, r, dst, o);
        }
    }

    /**
     * {@code y (m, rows) = x (m, cols) · Wᵀ}, x and y row-major at the given offsets. Few input rows
     * (decoding) read each group of packed rows once for all of them; many (a prompt, scoring)
     * widen tiles of W to float32 and use the GEMM.
     */
    public void matmulNT(float[] x, int xOff, int m, float[] y, int yOff) {
        long t0 = StepProfile.begin();
        PackedPaths.product(this, x, xOff, m, y, yOff, SMALL_M);
        timed(t0, m);
    }

    /** Ends the profile of a product of {@code m} rows begun at {@code t0} (no label built when the profile is off). */
    private void timed(long t0, int m) {
        if (t0 != 0) StepProfile.end(t0, "packed " + format + " " + m + "×" + rows + "×" + cols, 2.0 * m * rows * cols);
    }

    /** {@code x (.., cols) → (.., rows)}: {@code x·Wᵀ + bias} (bias may be null), no gradient. */
    public Tensor linear(Tensor x, Tensor bias) {
        return linear(x, bias, false);
    }

    /**
     * {@code GELU(x · Wᵀ + bias)}: the feed-forward network's expansion at inference. From panels
     * (float32, F16, BF16) the products add the bias and apply GELU as they store their tiles, the
     * decode kernels and the GEMM alike; otherwise {@link #linear} and then {@link Ops#gelu}.
     */
    public Tensor linearGelu(Tensor x, Tensor bias) {
        return linear(x, bias, true);
    }

    private Tensor linear(Tensor x, Tensor bias, boolean gelu) {
        if (GradMode.isEnabled() && x.requiresGrad()) throw new IllegalStateException("packed weights are for inference only (no gradient)");
        if (x.dim(-1) != cols) throw Shape.mismatch("packed linear (input vs weight)", x.shape(), new int[]{rows, cols});
        int m = x.size() / cols;
        int[] shape = x.shape();
        shape[shape.length - 1] = rows;
        float[] y = Arena.uninitialized(m * rows);
        if ((panels != null || halfPanels != null) && Simd.ENABLED) {
            // the bias and GELU as the tiles are stored, by the decode kernels and the GEMM alike
            long t0 = StepProfile.begin();
            float[] b = bias == null ? null : bias.data();
            if (halfPanels == null) {
                PanelKernels.product(this, x.data(), 0, m, y, 0, b, gelu); // (any number of rows: PackedPaths#panels)
            } else if (!PackedPaths.fewRows(ProductMode.current(), m, SMALL_M)) {
                PackedPaths.panelsGemm(this, x.data(), 0, m, y, 0, b == null && !gelu ? null : new GemmDriver.Epilogue(b, gelu));
            } else {
                HalfPanelKernels.product(this, x.data(), 0, m, y, 0, b, gelu);
            }
            timed(t0, m);
            return Tensor.of(y, shape);
        }
        matmulNT(x.data(), 0, m, y, 0);
        // the same additions as a scalar loop, but in vectors and on all threads: a 512-row prompt's
        // biases took a tenth of its prefill one by one
        if (bias != null) Elementwise.addToRows(Simd.ENABLED, y, 0, bias.data(), m, rows);
        Tensor out = Tensor.of(y, shape);
        return gelu ? Ops.gelu(out) : out;
    }

    /** Rows for {@code ids} of shape {@code idShape}: {@code (idShape.., cols)}. */
    public Tensor embedding(int[] ids, int... idShape) {
        int[] shape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
        shape[idShape.length] = cols;
        float[] out = Arena.uninitialized(ids.length * cols);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= rows) throw new IllegalArgumentException("id " + ids[i] + " out of range for an embedding of " + rows + " rows");
            row(ids[i], out, i * cols);
        }
        return Tensor.of(out, shape);
    }
}
