package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The F16 and BF16 kernels of {@link PackedMatrix}: dot products of up to eight rows of 16-bit
 * weights with one float32 input row, the halves widened to float32 in registers. Each row's sum is
 * formed in the same order whether it is computed alone or in a group (see {@link PackedKernels}).
 */
final class HalfKernels {
    private static final VectorSpecies<Float> F = PackedKernels.F;
    private static final int L = PackedKernels.L;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Rows per group of a product: 4 (default), 1, or with {@code -Dmyllm.packed.rows=8} BF16 in
     * eights (a row's bits are the same either way). A row's multiply-adds form one chain, each
     * waiting for the last; eight rows give the FMA units eight chains instead of four. Not the
     * default: one-thread CPU-time A/Bs on a shared machine (tools/HalfAB.java) showed no clear gain
     * from memory (gpt2-small's products 0.95-0.99 of four rows' time, gpt2-medium's 0.99-1.04,
     * against unchanged F16 as the control), about 4% from cache. F16 stays in fours: its widening
     * (a shift and a mask) in eight rows took C2 past its node limit while inlining, which boxed vectors.
     */
    static int group(PackedMatrix.Format f) {
        return f == PackedMatrix.Format.F16 ? Math.min(ROWS, 4) : ROWS;
    }

    private static final int ROWS = switch (Integer.getInteger("myllm.packed.rows", 4)) {
        case 1 -> 1;
        case 8 -> 8;
        default -> 4;
    };

    private HalfKernels() {
    }

    /**
     * L weights from {@code off}: BF16 exactly; F16 as the half's bits in float position, that is
     * the weight times 2^-112 (see {@link #F16_SCALE}), unless {@code rescale}.
     */
    private static FloatVector half(MemorySegment bits, long off, boolean bf, boolean rescale) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, bits, off, LE).convertShape(VectorOperators.S2I, I, 0);
        if (bf) return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // the half sign-extended and shifted by 13 has its sign at bit 31 and its exponent and mantissa
        // where a float keeps them (weights are finite, so Inf/NaN need no care)
        FloatVector w = i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
        return rescale ? w.mul(F16_SCALE) : w;
    }

    /**
     * An F16 weight read as {@link #half} reads it is the weight times 2^-112; multiplying either
     * factor by 2^112 is exact (also for subnormal halves), so {@code (w·2^-112)·(x·2^112)} is
     * exactly {@code w·x} and a fused multiply-add rounds it the same way. The input is scaled once
     * per product instead of every weight (when no input is so large that it would overflow).
     */
    static final float F16_SCALE = 0x1p112f;

    /** Whether {@code x[off .. off+n)} may be scaled by {@link #F16_SCALE} without overflow. */
    static boolean scalable(float[] x, int off, int n) {
        float max = 0;
        for (int k = 0; k < n; k++) max = Math.max(max, Math.abs(x[off + k]));
        return max < 0x1p12f; // a sum of products stays far below Float.MAX_VALUE (2^128) too
    }

    /** The F16 weight (r, k) times 2^-112, as {@link #half} reads it. */
    private static float halfBits(PackedMatrix p, int r, int k) {
        return Float.intBitsToFloat((p.bits.get(PackedMatrix.LS, r * p.qRowBytes + 2L * k) << 13) & 0x8FFFE000);
    }

    /** {@code scaled}: F16 only, x is already multiplied by {@link #F16_SCALE}. */
    static void dot16(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, boolean scaled, float[] lanes) {
        // (one call site each: with dot16x4 called twice here, C2 ran out of nodes and boxed vectors)
        if (n == 8 && p.format() == PackedMatrix.Format.BF16) dot16x8(p, r, x, xo, y, yo, scaled, lanes);
        else if (n == 4) dot16x4(p, r, x, xo, y, yo, scaled, lanes);
        else for (int j = 0; j < n; j++) dot16x1(p, r + j, x, xo, y, yo + j, scaled, lanes);
    }

    /** BF16 only (see {@link #group}). */
    private static void dot16x8(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, boolean scaled, float[] t) {
        int whole = p.cols() / L * L;
        // the loop in a method of its own, with the plain widening: with half()'s branches C2 reached
        // its node limit and boxed vectors (an allocation per group)
        rows8bf(p.bits, r * p.qRowBytes, p.qRowBytes, x, xo, whole, t);
        // the lanes go through memory: both sum4 calls inlined into the loops' method were too many nodes too
        sum4(t, 0);
        sum4(t, 4 * L);
        finish(p, r, whole, scaled, t, 0, x, xo, y, yo);
        finish(p, r + 4, whole, scaled, t, 4 * L, x, xo, y, yo + 4);
    }

    private static FloatVector bf16(MemorySegment bits, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(S, bits, off, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Eight BF16 rows from byte {@code b0}, {@code rb} apart, times x: the eight accumulators into {@code t[0 .. 8L)}. */
    private static void rows8bf(MemorySegment bits, long b0, long rb, float[] x, int xo, int whole, float[] t) {
        long b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb, b4 = b3 + rb, b5 = b4 + rb, b6 = b5 + rb, b7 = b6 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < whole; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + k);
            long o = 2L * k;
            a0 = bf16(bits, b0 + o).fma(xv, a0);
            a1 = bf16(bits, b1 + o).fma(xv, a1);
            a2 = bf16(bits, b2 + o).fma(xv, a2);
            a3 = bf16(bits, b3 + o).fma(xv, a3);
            a4 = bf16(bits, b4 + o).fma(xv, a4);
            a5 = bf16(bits, b5 + o).fma(xv, a5);
            a6 = bf16(bits, b6 + o).fma(xv, a6);
            a7 = bf16(bits, b7 + o).fma(xv, a7);
        }
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        a2.intoArray(t, 2 * L);
        a3.intoArray(t, 3 * L);
        a4.intoArray(t, 4 * L);
        a5.intoArray(t, 5 * L);
        a6.intoArray(t, 6 * L);
        a7.intoArray(t, 7 * L);
    }

    /** {@link PackedKernels#sum4} of the four accumulators stored at {@code t[off ..]}, its result stored at {@code t[off]}. */
    private static void sum4(float[] t, int off) {
        PackedKernels.sum4(FloatVector.fromArray(F, t, off), FloatVector.fromArray(F, t, off + L),
                FloatVector.fromArray(F, t, off + 2 * L), FloatVector.fromArray(F, t, off + 3 * L)).intoArray(t, off);
    }

    /** Four rows' sums from {@code t[off ..]} (as {@link PackedKernels#sum4} leaves them), their tails added, stored. */
    private static void finish(PackedMatrix p, int r, int whole, boolean scaled, float[] t, int off, float[] x, int xo, float[] y, int yo) {
        float s0 = t[off + PackedKernels.R0], s1 = t[off + PackedKernels.R1], s2 = t[off + PackedKernels.R2], s3 = t[off + PackedKernels.R3];
        if (whole < p.cols()) {
            s0 = tail16(p, r, whole, scaled, s0, x, xo);
            s1 = tail16(p, r + 1, whole, scaled, s1, x, xo);
            s2 = tail16(p, r + 2, whole, scaled, s2, x, xo);
            s3 = tail16(p, r + 3, whole, scaled, s3, x, xo);
        }
        y[yo] = s0;
        y[yo + 1] = s1;
        y[yo + 2] = s2;
        y[yo + 3] = s3;
    }

    // The four-row and one-row loops are methods of their own (also for Q8_0), and their lanes are
    // added from memory ({@link #sumLanes(float[], int)}): with the one-row loop and the vector
    // sumLanes in the same method, C2 reached its node limit while inlining and left the last rows'
    // sumLanes calls, each boxing the vector passed to it (an allocation per group of rows).

    private static void dot16x4(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, boolean scaled, float[] t) {
        MemorySegment bits = p.bits;
        boolean bf = p.format() == PackedMatrix.Format.BF16, rescale = !bf && !scaled;
        int whole = p.cols() / L * L;
        long rb = p.qRowBytes;
        long b0 = r * rb, b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < whole; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + k);
            long o = 2L * k;
            a0 = half(bits, b0 + o, bf, rescale).fma(xv, a0);
            a1 = half(bits, b1 + o, bf, rescale).fma(xv, a1);
            a2 = half(bits, b2 + o, bf, rescale).fma(xv, a2);
            a3 = half(bits, b3 + o, bf, rescale).fma(xv, a3);
        }
        PackedKernels.sum4(a0, a1, a2, a3).intoArray(t, 0);
        finish(p, r, whole, scaled, t, 0, x, xo, y, yo);
    }

    private static void dot16x1(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, boolean scaled, float[] t) {
        MemorySegment bits = p.bits;
        boolean bf = p.format() == PackedMatrix.Format.BF16, rescale = !bf && !scaled;
        int whole = p.cols() / L * L;
        long b0 = r * p.qRowBytes;
        FloatVector a = FloatVector.zero(F);
        for (int k = 0; k < whole; k += L) a = half(bits, b0 + 2L * k, bf, rescale).fma(FloatVector.fromArray(F, x, xo + k), a);
        a.intoArray(t, 0);
        y[yo] = tail16(p, r, whole, scaled, PackedKernels.sumLanes(t, 0), x, xo);
    }

    /** The columns past the last whole vector, added one by one. */
    private static float tail16(PackedMatrix p, int r, int from, boolean scaled, float s, float[] x, int xo) {
        for (int k = from; k < p.cols(); k++) s += (scaled ? halfBits(p, r, k) : p.weight(r, k)) * x[xo + k];
        return s;
    }
}
