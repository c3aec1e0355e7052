package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix {@code (rows, cols)} kept in 16 or 8 bits for inference: F16, BF16, or Q8_0
 * (llama.cpp's blocks of 32 int8 along a row with one f16 scale, 34 bytes). Bytes live in a
 * {@link MemorySegment}, on the heap or mapped from a file. Products read the packed bytes
 * directly (activations stay float32): decoding is bound by memory bandwidth, so fewer bytes per
 * weight is more tokens per second. Row-split over threads, each output summed in one fixed order,
 * so results do not depend on the number of threads. Inference only: there is no gradient.
 */
public final class PackedMatrix {
    /** How the weights are stored. */
    public enum Format {
        F16(2), BF16(2), Q8_0(34);

        private final int unitBytes;

        Format(int unitBytes) {
            this.unitBytes = unitBytes;
        }

        /** Bytes of one row of {@code cols} weights. */
        public long rowBytes(int cols) {
            return this == Q8_0 ? (long) cols / 32 * unitBytes : (long) cols * unitBytes;
        }
    }

    private static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int LANES = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, LANES * 8)));
    /** Above this many input rows, tiles of the matrix are widened to float32 and multiplied by the packed GEMM. */
    private static final int SMALL_M = 8;
    private static final int TILE_ROWS = 128;

    private final Format format;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final MemorySegment bytes;

    private PackedMatrix(Format format, int rows, int cols, MemorySegment bytes) {
        if (format == Format.Q8_0 && cols % 32 != 0) throw new IllegalArgumentException("Q8_0 needs rows of a multiple of 32 weights, got " + cols);
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = format.rowBytes(cols);
        if (bytes.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException(format + " matrix (" + rows + ", " + cols + ") needs " + rowBytes * rows + " bytes, got " + bytes.byteSize());
        }
        this.bytes = bytes;
    }

    /** A matrix over existing bytes in the format's layout (e.g. a GGUF tensor, memory-mapped). */
    public static PackedMatrix wrap(Format format, int rows, int cols, MemorySegment bytes) {
        return new PackedMatrix(format, rows, cols, bytes);
    }

    /** Encodes a float32 row-major {@code (rows, cols)} matrix (Q8_0 as ggml's reference quantiser does). */
    public static PackedMatrix encode(Format format, float[] w, int rows, int cols) {
        long n = format.rowBytes(cols) * rows;
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.toIntExact(n)]);
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) encodeRow(format, w, r * cols, cols, seg, r * format.rowBytes(cols));
        });
        return new PackedMatrix(format, rows, cols, seg);
    }

    private static void encodeRow(Format format, float[] w, int off, int cols, MemorySegment seg, long at) {
        switch (format) {
            case F16 -> { for (int i = 0; i < cols; i++) seg.set(LS, at + 2L * i, Float.floatToFloat16(w[off + i])); }
            case BF16 -> { for (int i = 0; i < cols; i++) seg.set(LS, at + 2L * i, toBf16(w[off + i])); }
            case Q8_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    int s = off + 32 * b;
                    long p = at + 34L * b;
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[s + j]));
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    seg.set(LS, p, Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) {
                        float v = w[s + j] * id;
                        seg.set(ValueLayout.JAVA_BYTE, p + 2 + j, (byte) (v < 0 ? -Math.round(-v) : Math.round(v)));
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
        return bytes.byteSize();
    }

    /** Row {@code r} widened to float32 into {@code dst[off ..]} (an embedding lookup). */
    public void row(int r, float[] dst, int off) {
        rowsToFloat(r, 1, dst, off);
    }

    private void rowsToFloat(int r0, int n, float[] dst, int off) {
        for (int r = r0; r < r0 + n; r++) {
            long at = r * rowBytes;
            int o = off + (r - r0) * cols;
            switch (format) {
                case F16 -> { for (int i = 0; i < cols; i++) dst[o + i] = Float.float16ToFloat(bytes.get(LS, at + 2L * i)); }
                case BF16 -> { for (int i = 0; i < cols; i++) dst[o + i] = Float.intBitsToFloat(bytes.get(LS, at + 2L * i) << 16); }
                case Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        long p = at + 34L * b;
                        float d = Float.float16ToFloat(bytes.get(LS, p));
                        for (int j = 0; j < 32; j++) dst[o + 32 * b + j] = bytes.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
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
        if (m > SMALL_M) {
            matmulTiled(x, xOff, m, y, yOff);
            return;
        }
        int grain = Math.max(1, (1 << 16) / Math.max(1, cols));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            float[] acc = new float[m];
            for (int r = r0; r < r1; r++) {
                if (Simd.ENABLED) dotRowSimd(r, x, xOff, m, acc);
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
        long at = r * rowBytes;
        for (int i = 0; i < m; i++) {
            int xo = xOff + i * cols;
            float s = 0;
            switch (format) {
                case F16 -> { for (int k = 0; k < cols; k++) s += Float.float16ToFloat(bytes.get(LS, at + 2L * k)) * x[xo + k]; }
                case BF16 -> { for (int k = 0; k < cols; k++) s += Float.intBitsToFloat(bytes.get(LS, at + 2L * k) << 16) * x[xo + k]; }
                case Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        long p = at + 34L * b;
                        float d = Float.float16ToFloat(bytes.get(LS, p));
                        float bs = 0;
                        for (int j = 0; j < 32; j++) bs += bytes.get(ValueLayout.JAVA_BYTE, p + 2 + j) * x[xo + 32 * b + j];
                        s += d * bs;
                    }
                }
            }
            acc[i] = s;
        }
    }

    /** Vector API twin of {@link #dotRowScalar}: each weight vector is decoded once and used for every input row. */
    void dotRowSimd(int r, float[] x, int xOff, int m, float[] acc) {
        long at = r * rowBytes;
        for (int i0 = 0; i0 < m; i0 += 4) {
            int mm = Math.min(4, m - i0);
            switch (format) {
                case F16, BF16 -> dot16(at, x, xOff + i0 * cols, mm, acc, i0);
                case Q8_0 -> dotQ8(at, x, xOff + i0 * cols, mm, acc, i0);
            }
        }
    }

    private FloatVector decode16(long p) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, bytes, p, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, F.withLanes(int.class), 0);
        if (format == Format.BF16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // IEEE half to float: shift exponent and mantissa into place, rescale by 2^112 (exact, also for
        // subnormal halves), then put the sign back. Weights are finite, so Inf/NaN need no care.
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    private void dot16(long at, float[] x, int xo, int mm, float[] acc, int i0) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        int bound = F.loopBound(cols);
        for (; k < bound; k += LANES) {
            FloatVector w = decode16(at + 2L * k);
            a0 = w.fma(FloatVector.fromArray(F, x, xo + k), a0);
            if (mm > 1) a1 = w.fma(FloatVector.fromArray(F, x, xo + cols + k), a1);
            if (mm > 2) a2 = w.fma(FloatVector.fromArray(F, x, xo + 2 * cols + k), a2);
            if (mm > 3) a3 = w.fma(FloatVector.fromArray(F, x, xo + 3 * cols + k), a3);
        }
        FloatVector[] as = {a0, a1, a2, a3};
        for (int i = 0; i < mm; i++) {
            float s = as[i].reduceLanes(VectorOperators.ADD);
            for (int kk = k; kk < cols; kk++) {
                short h = bytes.get(LS, at + 2L * kk);
                float w = format == Format.BF16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
                s += w * x[xo + i * cols + kk];
            }
            acc[i0 + i] = s;
        }
    }

    private void dotQ8(long at, float[] x, int xo, int mm, float[] acc, int i0) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long p = at + 34L * b;
            float d = Float.float16ToFloat(bytes.get(LS, p));
            for (int j = 0; j < 32; j += LANES) {
                FloatVector w = ((FloatVector) ByteVector.fromMemorySegment(B, bytes, p + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d);
                int k = 32 * b + j;
                a0 = w.fma(FloatVector.fromArray(F, x, xo + k), a0);
                if (mm > 1) a1 = w.fma(FloatVector.fromArray(F, x, xo + cols + k), a1);
                if (mm > 2) a2 = w.fma(FloatVector.fromArray(F, x, xo + 2 * cols + k), a2);
                if (mm > 3) a3 = w.fma(FloatVector.fromArray(F, x, xo + 3 * cols + k), a3);
            }
        }
        acc[i0] = a0.reduceLanes(VectorOperators.ADD);
        if (mm > 1) acc[i0 + 1] = a1.reduceLanes(VectorOperators.ADD);
        if (mm > 2) acc[i0 + 2] = a2.reduceLanes(VectorOperators.ADD);
        if (mm > 3) acc[i0 + 3] = a3.reduceLanes(VectorOperators.ADD);
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
