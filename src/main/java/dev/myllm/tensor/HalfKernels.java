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
 * The F16 and BF16 kernels of {@link PackedMatrix}: dot products of up to four rows of 16-bit
 * weights with one float32 input row, the halves widened to float32 in registers. Each row's sum is
 * formed in the same order whether it is computed alone or in a group (see {@link PackedKernels}).
 */
final class HalfKernels {
    private static final VectorSpecies<Float> F = PackedKernels.F;
    private static final int L = PackedKernels.L;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

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
        if (n == 4) dot16x4(p, r, x, xo, y, yo, scaled, lanes);
        else for (int j = 0; j < n; j++) dot16x1(p, r + j, x, xo, y, yo + j, scaled, lanes);
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
        float s0 = t[PackedKernels.R0], s1 = t[PackedKernels.R1], s2 = t[PackedKernels.R2], s3 = t[PackedKernels.R3];
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
