package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix {@code (rows, cols)} kept in 16 or 8 bits for inference: F16, BF16, or Q8_0
 * (llama.cpp's blocks of 32 int8 along a row with one f16 scale). The bits live outside the Java
 * heap in a {@link MemorySegment}: F16 and BF16 in the file layout itself, so a GGUF or
 * safetensors tensor is used where the file is memory-mapped, without a copy; Q8_0 with the
 * int8 of a row contiguous and the scales apart as float32 (what lets a 512-bit vector take two
 * blocks at once), repacked once from the file's 34-byte blocks. Products read the packed
 * weights directly (activations stay float32): decoding is bound by memory bandwidth, so fewer
 * bytes per weight is more tokens per second. Row-split over threads, each output summed in one
 * fixed order (vector lanes too are added in a fixed order, not by {@code reduceLanes}, whose
 * order differs between the interpreter and compiled code), so results do not depend on the
 * number of threads or on how warm the JVM is. Inference only: there is no gradient.
 */
public final class PackedMatrix {
    /** How the weights are stored. */
    public enum Format {
        F16(2), BF16(2), Q8_0(34);

        private final int unitBytes;

        Format(int unitBytes) {
            this.unitBytes = unitBytes;
        }

        /** Bytes of one row of {@code cols} weights (as in a file). */
        public long rowBytes(int cols) {
            return this == Q8_0 ? (long) cols / 32 * unitBytes : (long) cols * unitBytes;
        }
    }

    private static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LI = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LF = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int LANES = F.length();
    /** Above this many input rows, tiles of the matrix are widened to float32 and multiplied by the packed GEMM. */
    private static final int SMALL_M = 8;
    private static final int TILE_ROWS = 128;

    private final Format format;
    private final int rows;
    private final int cols;
    private final long rowBytes;  // bytes of a row in the file layout (what a product reads)
    private final long qRowBytes; // bytes of a row in `bits`: 2·cols (F16/BF16) or cols (Q8_0's int8)
    private final MemorySegment bits;   // F16/BF16: the halves, row after row; Q8_0: the int8, row after row
    private final MemorySegment scales; // Q8_0: float32, one per block of 32, row after row; else null

    private PackedMatrix(Format format, int rows, int cols, MemorySegment bits, MemorySegment scales) {
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = format.rowBytes(cols);
        this.qRowBytes = format == Format.Q8_0 ? cols : 2L * cols;
        this.bits = bits;
        this.scales = scales;
    }

    private static void checkShape(Format format, int rows, int cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("a packed matrix needs rows and columns, got (" + rows + ", " + cols + ")");
        if (format == Format.Q8_0 && cols % 32 != 0) throw new IllegalArgumentException("Q8_0 needs rows of a multiple of 32 weights, got " + cols);
    }

    /** Off-heap memory freed when the matrix is no longer reachable (64-byte aligned for the vector loads). */
    private static MemorySegment allocate(long bytes) {
        return java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, bytes), 64);
    }

    private static PackedMatrix allocated(Format format, int rows, int cols) {
        checkShape(format, rows, cols);
        long n = (long) rows * cols;
        return format == Format.Q8_0
                ? new PackedMatrix(format, rows, cols, allocate(n), allocate(4 * (n / 32)))
                : new PackedMatrix(format, rows, cols, allocate(2 * n), null);
    }

    /**
     * A matrix over bytes in the format's file layout (e.g. a GGUF tensor, memory-mapped): F16 and
     * BF16 use the bytes in place (they must stay valid as long as the matrix is used); Q8_0 is
     * repacked into memory of its own.
     */
    public static PackedMatrix wrap(Format format, int rows, int cols, MemorySegment bytes) {
        checkShape(format, rows, cols);
        long need = format.rowBytes(cols) * rows;
        if (bytes.byteSize() != need) {
            throw new IllegalArgumentException(format + " matrix (" + rows + ", " + cols + ") needs " + need + " bytes, got " + bytes.byteSize());
        }
        if (format != Format.Q8_0) return new PackedMatrix(format, rows, cols, bytes, null);
        PackedMatrix p = allocated(format, rows, cols);
        int blocks = cols / 32;
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int b = 0; b < blocks; b++) {
                    long q = r * p.rowBytes + 34L * b;
                    long i = (long) r * blocks + b;
                    p.scales.set(LF, 4 * i, Float.float16ToFloat(bytes.get(LS, q)));
                    MemorySegment.copy(bytes, q + 2, p.bits, 32 * i, 32);
                }
            }
        });
        return p;
    }

    private void setHalf(int r, int k, short h) {
        bits.set(LS, r * qRowBytes + 2L * k, h);
    }

    private short half(int r, int k) {
        return bits.get(LS, r * qRowBytes + 2L * k);
    }

    private byte q8(int r, int k) {
        return bits.get(ValueLayout.JAVA_BYTE, r * qRowBytes + k);
    }

    private float scale(int r, int b) {
        return scales.get(LF, 4 * ((long) r * (cols / 32) + b));
    }

    /** Encodes a float32 row-major {@code (rows, cols)} matrix (Q8_0 as ggml's reference quantiser does). */
    public static PackedMatrix encode(Format format, float[] w, int rows, int cols) {
        PackedMatrix p = allocated(format, rows, cols);
        if (w.length < (long) rows * cols) throw new IllegalArgumentException("(" + rows + ", " + cols + ") weights need " + (long) rows * cols + " values, got " + w.length);
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) p.encodeRow(w, r);
        });
        return p;
    }

    private void encodeRow(float[] w, int r) {
        int off = r * cols;
        switch (format) {
            case F16 -> { for (int i = 0; i < cols; i++) setHalf(r, i, Float.floatToFloat16(w[off + i])); }
            case BF16 -> { for (int i = 0; i < cols; i++) setHalf(r, i, toBf16(w[off + i])); }
            case Q8_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    int s = off + 32 * b;
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[s + j]));
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    // stored as f16, as in the file
                    scales.set(LF, 4 * ((long) r * (cols / 32) + b), Float.float16ToFloat(Float.floatToFloat16(d)));
                    for (int j = 0; j < 32; j++) {
                        float x = w[s + j] * id;
                        bits.set(ValueLayout.JAVA_BYTE, r * qRowBytes + 32 * b + j, (byte) (x < 0 ? -Math.round(-x) : Math.round(x)));
                    }
                }
            }
        }
    }

    /** float32 to bfloat16, round to nearest even (NaN stays NaN). */
    static short toBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
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

    /** Bytes the weights take (read once per matrix-vector product). */
    public long byteSize() {
        return rowBytes * rows;
    }

    /** Row {@code r} widened to float32 into {@code dst[off ..]} (an embedding lookup). */
    public void row(int r, float[] dst, int off) {
        rowsToFloat(r, 1, dst, off);
    }

    private void rowsToFloat(int r0, int n, float[] dst, int off) {
        for (int r = r0; r < r0 + n; r++) {
            int o = off + (r - r0) * cols;
            switch (format) {
                case F16 -> { for (int i = 0; i < cols; i++) dst[o + i] = Float.float16ToFloat(half(r, i)); }
                case BF16 -> { for (int i = 0; i < cols; i++) dst[o + i] = Float.intBitsToFloat(half(r, i) << 16); }
                case Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        float d = scale(r, b);
                        for (int j = 0; j < 32; j++) dst[o + 32 * b + j] = q8(r, 32 * b + j) * d;
                    }
                }
            }
        }
    }

    /**
     * {@code y (m, rows) = x (m, cols) · Wᵀ}, x and y row-major at the given offsets. Few input rows
     * (decoding) read each packed row once for all of them; many (a prompt, scoring) widen tiles of
     * W to float32 and use the GEMM.
     */
    public void matmulNT(float[] x, int xOff, int m, float[] y, int yOff) {
        // a fixed ProductMode picks the path whatever m is, so each row's bits do not depend on m
        ProductMode mode = ProductMode.current();
        if (mode == ProductMode.PACKED || (mode == ProductMode.SHAPE && m > SMALL_M)) {
            matmulTiled(x, xOff, m, y, yOff);
            return;
        }
        int grain = Math.max(1, (1 << 16) / Math.max(1, cols));
        float[] xp = Simd.ENABLED && VECTOR_OK ? permute(x, xOff, m) : null;
        Parallel.forRange(rows, grain, (r0, r1) -> {
            float[] acc = new float[m];
            int r = r0;
            for (; r < r1; r++) {
                if (xp != null) dotRowPermuted(r, xp, m, acc);
                else dotRowScalar(r, x, xOff, m, acc);
                for (int i = 0; i < m; i++) y[yOff + i * rows + r] = acc[i];
            }
        });
    }

    private void matmulTiled(float[] x, int xOff, int m, float[] y, int yOff) {
        float[] tile = new float[TILE_ROWS * cols];
        float[] out = new float[m * TILE_ROWS];
        for (int r0 = 0; r0 < rows; r0 += TILE_ROWS) {
            int n = Math.min(TILE_ROWS, rows - r0);
            int start = r0;
            Parallel.forRange(n, 8, (a, b) -> rowsToFloat(start + a, b - a, tile, a * cols));
            Gemm.matmulNT(x, xOff, tile, 0, out, 0, m, n, cols, false);
            for (int i = 0; i < m; i++) System.arraycopy(out, i * n, y, yOff + i * rows + r0, n);
        }
    }

    /** The scalar twin: {@code acc[i] = Σ_k x[i, k] · W[r, k]}, in the same per-element order as ever. */
    void dotRowScalar(int r, float[] x, int xOff, int m, float[] acc) {
        for (int i = 0; i < m; i++) {
            int xo = xOff + i * cols;
            float s = 0;
            switch (format) {
                case F16 -> { for (int k = 0; k < cols; k++) s += Float.float16ToFloat(half(r, k)) * x[xo + k]; }
                case BF16 -> { for (int k = 0; k < cols; k++) s += Float.intBitsToFloat(half(r, k) << 16) * x[xo + k]; }
                case Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        float bs = 0;
                        for (int j = 0; j < 32; j++) bs += q8(r, 32 * b + j) * x[xo + 32 * b + j];
                        s += scale(r, b) * bs;
                    }
                }
            }
            acc[i] = s;
        }
    }

    /**
     * Vector API twin of {@link #dotRowScalar} (for tests: permutes {@code x} itself). The kernels load
     * ints, not shorts or bytes, and split them with shifts, because widening conversions between
     * vector shapes are slow in the Vector API; the input is permuted once per product to match.
     */
    void dotRowSimd(int r, float[] x, int xOff, int m, float[] acc) {
        dotRowPermuted(r, permute(x, xOff, m), m, acc);
    }

    /** Whether this CPU's vectors suit the kernels (8 or more float lanes); else the scalar twin runs. */
    private static final boolean VECTOR_OK = LANES >= 8;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    /** With 16 float lanes (AVX-512) Q8_0 takes two blocks per vector. */
    private static final boolean WIDE_Q8 = LANES >= 16;
    private static final VectorSpecies<Float> F16L = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16L = IntVector.SPECIES_512;
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F16L, 0xFF00L);

    /**
     * {@code m} rows of x reordered as the kernels read the weights: for F16/BF16, each chunk of
     * 2·lanes becomes its even elements then its odd ones; for Q8_0, each block of 32 becomes
     * the elements 0, 4, 8.. then 1, 5, 9.. then 2, 6.. then 3, 7...
     */
    float[] permute(float[] x, int xOff, int m) {
        float[] xp = new float[m * cols];
        for (int i = 0; i < m; i++) {
            int src = xOff + i * cols, dst = i * cols;
            if (format == Format.Q8_0) {
                int pairs = WIDE_Q8 ? cols / 64 : 0;
                for (int q = 0; q < pairs; q++) {
                    // two blocks per 16-lane vector: group g holds elements g, g+4, .. of the first block, then of the second
                    for (int g = 0; g < 4; g++) {
                        for (int h = 0; h < 2; h++) {
                            for (int j = 0; j < 8; j++) xp[dst + 64 * q + 16 * g + 8 * h + j] = x[src + 64 * q + 32 * h + 4 * j + g];
                        }
                    }
                }
                for (int b = 64 * pairs; b < cols; b += 32) {
                    for (int g = 0; g < 4; g++) {
                        for (int j = 0; j < 8; j++) xp[dst + b + 8 * g + j] = x[src + b + 4 * j + g];
                    }
                }
            } else {
                int chunk = 2 * LANES, whole = cols / chunk * chunk;
                for (int c = 0; c < whole; c += chunk) {
                    for (int j = 0; j < LANES; j++) {
                        xp[dst + c + j] = x[src + c + 2 * j];
                        xp[dst + c + LANES + j] = x[src + c + 2 * j + 1];
                    }
                }
                System.arraycopy(x, src + whole, xp, dst + whole, cols - whole);
            }
        }
        return xp;
    }

    private void dotRowPermuted(int r, float[] xp, int m, float[] acc) {
        // one input row at a time: the packed row (a few KB) stays in L1 for the next ones
        for (int i = 0; i < m; i++) acc[i] = format == Format.Q8_0 ? dotQ8(r, xp, i * cols) : dot16(r, xp, i * cols);
    }

    /**
     * The lanes of {@code v} added pairwise in a fixed order (upper half onto lower half, until one
     * lane is left). Not {@code reduceLanes}: its order of additions is the JIT's choice and
     * differs from the interpreter's, so the same product gave different bits in a cold and a warm JVM.
     */
    static float sumLanes(FloatVector v) {
        // lane i + lane (i ^ w): lane 0 gets exactly the halving order above, by one permute per step
        if (v.length() == 16) {
            v = v.add(v.rearrange(X16[0]));
            v = v.add(v.rearrange(X16[1]));
            v = v.add(v.rearrange(X16[2]));
            return v.add(v.rearrange(X16[3])).lane(0);
        }
        if (v.length() == 8) {
            v = v.add(v.rearrange(X8[0]));
            v = v.add(v.rearrange(X8[1]));
            return v.add(v.rearrange(X8[2])).lane(0);
        }
        for (int w = v.length() / 2; w >= 1; w /= 2) v = v.add(v.slice(w));
        return v.lane(0);
    }

    private static VectorShuffle<Float>[] xorShuffles(VectorSpecies<Float> sp) {
        @SuppressWarnings("unchecked")
        VectorShuffle<Float>[] out = new VectorShuffle[Integer.numberOfTrailingZeros(sp.length())];
        for (int j = 0, w = sp.length() / 2; w >= 1; j++, w /= 2) {
            int x = w;
            out[j] = VectorShuffle.fromOp(sp, i -> i ^ x);
        }
        return out;
    }

    private static final VectorShuffle<Float>[] X16 = xorShuffles(FloatVector.SPECIES_512);
    private static final VectorShuffle<Float>[] X8 = xorShuffles(FloatVector.SPECIES_256);

    /** Half-precision bits, already shifted into float position (exponent and mantissa) and sign, to float. */
    private static FloatVector halfToFloat(IntVector mag13, IntVector sign) {
        // rescaling by 2^112 is exact, also for subnormal halves; weights are finite, so Inf/NaN need no care
        return mag13.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    private float dot16(int r, float[] xp, int xo) {
        FloatVector a = FloatVector.zero(F);
        int chunk = 2 * LANES, whole = cols / chunk * chunk;
        long base = r * qRowBytes;
        if (format == Format.BF16) {
            for (int k = 0; k < whole; k += chunk) {
                IntVector v = IntVector.fromMemorySegment(I, bits, base + 2L * k, LE);
                FloatVector we = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector wo = v.and(0xFFFF0000).reinterpretAsFloats();
                a = wo.fma(FloatVector.fromArray(F, xp, xo + k + LANES), we.fma(FloatVector.fromArray(F, xp, xo + k), a));
            }
        } else {
            for (int k = 0; k < whole; k += chunk) {
                IntVector v = IntVector.fromMemorySegment(I, bits, base + 2L * k, LE);
                FloatVector we = halfToFloat(v.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000), v.lanewise(VectorOperators.LSHL, 16).and(0x80000000));
                FloatVector wo = halfToFloat(v.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000), v.and(0x80000000));
                a = wo.fma(FloatVector.fromArray(F, xp, xo + k + LANES), we.fma(FloatVector.fromArray(F, xp, xo + k), a));
            }
        }
        float s = sumLanes(a);
        for (int k = whole; k < cols; k++) {
            short h = half(r, k);
            s += (format == Format.BF16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h)) * xp[xo + k]; // the tail is not permuted
        }
        return s;
    }

    private float dotQ8(int r, float[] xp, int xo) {
        int blocks = cols / 32;
        long base = r * qRowBytes, sb = 4L * r * blocks;
        int pairs = WIDE_Q8 ? blocks / 2 : 0;
        float wide = 0;
        if (pairs > 0) {
            FloatVector a = FloatVector.zero(F16L);
            for (int q = 0; q < pairs; q++) {
                IntVector v = IntVector.fromMemorySegment(I16L, bits, base + 64L * q, LE); // two blocks' 64 int8
                FloatVector w0 = (FloatVector) v.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
                FloatVector w1 = (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
                FloatVector w2 = (FloatVector) v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
                FloatVector w3 = (FloatVector) v.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
                int k = xo + 64 * q;
                FloatVector blk = w0.mul(FloatVector.fromArray(F16L, xp, k));
                blk = w1.fma(FloatVector.fromArray(F16L, xp, k + 16), blk);
                blk = w2.fma(FloatVector.fromArray(F16L, xp, k + 32), blk);
                blk = w3.fma(FloatVector.fromArray(F16L, xp, k + 48), blk);
                FloatVector d = FloatVector.broadcast(F16L, scales.get(LF, sb + 8L * q)).blend(scales.get(LF, sb + 8L * q + 4), UPPER);
                a = blk.fma(d, a);
            }
            wide = sumLanes(a);
        }
        FloatVector a = FloatVector.zero(F8);
        for (int b = 2 * pairs; b < blocks; b++) {
            IntVector v = IntVector.fromMemorySegment(I8, bits, base + 32L * b, LE); // the block's 32 int8
            // byte g of each int, sign-extended: elements g, g+4, g+8, ... of the block
            FloatVector w0 = (FloatVector) v.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
            FloatVector w1 = (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
            FloatVector w2 = (FloatVector) v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
            FloatVector w3 = (FloatVector) v.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
            int k = xo + 32 * b;
            FloatVector blk = w0.mul(FloatVector.fromArray(F8, xp, k));
            blk = w1.fma(FloatVector.fromArray(F8, xp, k + 8), blk);
            blk = w2.fma(FloatVector.fromArray(F8, xp, k + 16), blk);
            blk = w3.fma(FloatVector.fromArray(F8, xp, k + 24), blk);
            a = blk.fma(FloatVector.broadcast(F8, scales.get(LF, sb + 4L * b)), a);
        }
        return blocks > 2 * pairs ? wide + sumLanes(a) : wide;
    }

    /** {@code x (.., cols) → (.., rows)}: {@code x·Wᵀ + bias} (bias may be null), no gradient. */
    public Tensor linear(Tensor x, Tensor bias) {
        if (GradMode.isEnabled() && x.requiresGrad()) throw new IllegalStateException("packed weights are for inference only (no gradient)");
        if (x.dim(-1) != cols) throw Shape.mismatch("packed linear (input vs weight)", x.shape(), new int[]{rows, cols});
        int m = x.size() / cols;
        int[] shape = x.shape();
        shape[shape.length - 1] = rows;
        float[] y = Arena.uninitialized(m * rows);
        matmulNT(x.data(), 0, m, y, 0);
        if (bias != null) {
            float[] b = bias.data();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < rows; j++) y[i * rows + j] += b[j];
            }
        }
        return Tensor.of(y, shape);
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
