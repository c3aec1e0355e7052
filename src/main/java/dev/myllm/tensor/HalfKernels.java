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
 * formed in the same order whether it is computed alone or in a group, and {@link #dotScalar} (the
 * scalar twin) forms it in that order too.
 *
 * <p>One load takes {@code 2L} halves (a whole 64-byte cache line with 16 float lanes) as L ints:
 * each int holds an even column in its low half and the next, odd, column in its high half. The
 * even halves are widened by moving them up, the odd ones by masking off the even ones, and they
 * meet the input's even and odd columns, separated once per product ({@link #prepare}). Decoding
 * is bound by how many loads are in flight, not by arithmetic, and this takes half the loads and
 * fewer instructions per cache line than widening L halves at a time. With
 * {@code -Dmyllm.half.lines=false} the kernels widen L halves a load instead (consecutive columns in
 * the lanes, the input as it is), to compare; the scalar twin follows whichever is in use.
 */
final class HalfKernels {
    private static final VectorSpecies<Float> F = PackedKernels.F;
    private static final int L = PackedKernels.L;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Columns a load takes (two per int lane): the block of {@link #prepare}'s layout. */
    static final int BLOCK = 2 * (PackedKernels.OK ? L : 8);
    /** Lanes of the accumulators the scalar twin mirrors. */
    private static final int LANES = BLOCK / 2;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));

    /**
     * Whether the kernels take a cache line a load (default) or L halves ({@code -Dmyllm.half.lines=false}).
     * Not final only so that tests can check both.
     */
    static boolean lines = !"false".equals(System.getProperty("myllm.half.lines"));

    /** Rows per group of a product: 4, or 1 with {@code -Dmyllm.packed.rows=1} (a row's bits are the same either way). */
    static final int GROUP = PackedKernels.GROUP;

    private HalfKernels() {
    }

    /**
     * An F16 weight read as these kernels read it (its bits moved into float position) is the
     * weight times 2^-112; multiplying either factor by 2^112 is exact (also for subnormal halves),
     * so {@code (w·2^-112)·(x·2^112)} is exactly {@code w·x} and a fused multiply-add rounds it the
     * same way. The input is scaled once per product instead of every weight (when no input is so
     * large that it would overflow).
     */
    static final float F16_SCALE = 0x1p112f;

    /** Whether {@code x[off .. off+n)} may be scaled by {@link #F16_SCALE} without overflow. */
    static boolean scalable(float[] x, int off, int n) {
        float max = 0;
        for (int k = 0; k < n; k++) max = Math.max(max, Math.abs(x[off + k]));
        return max < 0x1p12f; // a sum of products stays far below Float.MAX_VALUE (2^128) too
    }

    /** Columns the vector loop takes: whole blocks (of {@link #BLOCK} columns, or half as many without {@link #lines}). */
    private static int whole(int cols, boolean lines) {
        int b = lines ? BLOCK : BLOCK / 2;
        return cols - cols % b;
    }

    /**
     * The {@code m} input rows of {@code x} (from {@code xOff}, {@code cols} each) laid out for the
     * kernels into {@code out[0 .. m·cols)}: within each block of {@link #BLOCK} columns the even
     * columns first, then the odd ones; the columns past the last whole block as they are; all
     * times {@code scale}. (Without {@link #lines}: in their order.)
     */
    static void prepare(float[] x, int xOff, int m, int cols, float scale, float[] out) {
        int whole = lines ? whole(cols, true) : 0, h = BLOCK / 2;
        for (int i = 0; i < m; i++) {
            int s = xOff + i * cols, d = i * cols;
            for (int b = 0; b < whole; b += BLOCK) {
                for (int j = 0; j < h; j++) {
                    out[d + b + j] = x[s + b + 2 * j] * scale;
                    out[d + b + h + j] = x[s + b + 2 * j + 1] * scale;
                }
            }
            for (int k = whole; k < cols; k++) out[d + k] = x[s + k] * scale;
        }
    }

    /** Test entry (x as it is, F16 unscaled): rows {@code r .. r+n} into {@code y[yo ..]}. */
    static void dot16(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] lanes) {
        float[] xp = new float[p.cols()];
        prepare(x, xo, 1, p.cols(), 1f, xp);
        dot16(p, r, n, xp, 0, y, yo, false, lanes);
    }

    /**
     * Rows {@code r .. r+n} times the prepared input row {@code xp[xo ..]} ({@link #prepare}), into
     * {@code y[yo ..]}. {@code scaled}: F16 only, the input is already multiplied by {@link #F16_SCALE}
     * (without it F16 rows go one at a time, each weight rescaled: a rare input of 4096 or more).
     */
    static void dot16(PackedMatrix p, int r, int n, float[] xp, int xo, float[] y, int yo, boolean scaled, float[] t) {
        boolean bf = p.format() == PackedMatrix.Format.BF16, lines = HalfKernels.lines;
        if (n == 4 && (bf || scaled)) {
            int whole = whole(p.cols(), lines);
            long rb = p.qRowBytes;
            // the loop is a method of its own: with the lane sums in the same method C2 reached its
            // node limit while inlining, which boxed vectors
            if (lines) rows4(p.bits, r * rb, rb, xp, xo, whole, shift(bf), evenMask(bf), oddMask(bf), t);
            else halves4(p.bits, r * rb, rb, bf, xp, xo, whole, t);
            sum4(t);
            y[yo] = tail(p, r, whole, scaled, t[PackedKernels.R0], xp, xo);
            y[yo + 1] = tail(p, r + 1, whole, scaled, t[PackedKernels.R1], xp, xo);
            y[yo + 2] = tail(p, r + 2, whole, scaled, t[PackedKernels.R2], xp, xo);
            y[yo + 3] = tail(p, r + 3, whole, scaled, t[PackedKernels.R3], xp, xo);
        } else {
            for (int j = 0; j < n; j++) y[yo + j] = lines ? dot1(p, r + j, xp, xo, scaled, t) : halves1(p, r + j, xp, xo, scaled, t);
        }
    }

    /** The four accumulators at {@code t[0 .. 4L)} summed by {@link PackedKernels#sum4}, stored at {@code t[0 ..]}. */
    private static void sum4(float[] t) {
        PackedKernels.sum4(FloatVector.fromArray(F, t, 0), FloatVector.fromArray(F, t, L),
                FloatVector.fromArray(F, t, 2 * L), FloatVector.fromArray(F, t, 3 * L)).intoArray(t, 0);
    }

    // An int of a load holds an even column's half in its low 16 bits and the odd column's in its high
    // 16 bits. Moved so that a half's sign is bit 31 and its exponent and mantissa sit where a float
    // keeps them: BF16 by the shift left alone (even) or the mask alone (odd); F16 by an arithmetic
    // shift right by 3 from the top and the exponent's top bits masked off, the weight times 2^-112
    // (weights are finite, so Inf/NaN need no care). One loop takes both, the shift and masks as
    // arguments: with BF16's constants folded into a loop of its own, C2 unrolled that loop four times
    // (F16's, larger, it left alone) and BF16 products ran 8-13% slower on rows of 768 columns
    // (tools/HalfAB.java, one thread, cold), as fast as F16's once they shared the loop.

    /** The widening's arithmetic shift: 0 for BF16, 3 for F16. */
    private static int shift(boolean bf) {
        return bf ? 0 : 3;
    }

    /** The even halves' mask. */
    private static int evenMask(boolean bf) {
        return bf ? -1 : 0x8FFFE000;
    }

    /** The odd halves' mask. */
    private static int oddMask(boolean bf) {
        return bf ? 0xFFFF0000 : 0x8FFFE000;
    }

    private static FloatVector even(IntVector i, int sh, int em) {
        return i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, sh).and(em).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector i, int sh, int om) {
        return i.lanewise(VectorOperators.ASHR, sh).and(om).reinterpretAsFloats();
    }

    private static IntVector line(MemorySegment bits, long off) {
        return IntVector.fromMemorySegment(I, bits, off, LE);
    }

    /**
     * Four rows from byte {@code b0}, {@code rb} apart, a cache line of each a step (BF16, or F16
     * with a scaled input): each row's even and odd accumulators added, into {@code t[0 .. 4L)}.
     */
    private static void rows4(MemorySegment bits, long b0, long rb, float[] xp, int xo, int whole, int sh, int em, int om, float[] t) {
        long b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        for (int k = 0; k < whole; k += 2 * L) {
            FloatVector ev = FloatVector.fromArray(F, xp, xo + k), od = FloatVector.fromArray(F, xp, xo + k + L);
            long o = 2L * k;
            IntVector i0 = line(bits, b0 + o), i1 = line(bits, b1 + o), i2 = line(bits, b2 + o), i3 = line(bits, b3 + o);
            a0 = even(i0, sh, em).fma(ev, a0);
            c0 = odd(i0, sh, om).fma(od, c0);
            a1 = even(i1, sh, em).fma(ev, a1);
            c1 = odd(i1, sh, om).fma(od, c1);
            a2 = even(i2, sh, em).fma(ev, a2);
            c2 = odd(i2, sh, om).fma(od, c2);
            a3 = even(i3, sh, em).fma(ev, a3);
            c3 = odd(i3, sh, om).fma(od, c3);
        }
        a0.add(c0).intoArray(t, 0);
        a1.add(c1).intoArray(t, L);
        a2.add(c2).intoArray(t, 2 * L);
        a3.add(c3).intoArray(t, 3 * L);
    }

    /** One row (the last rows of a product, and F16 with an unscaled input: each weight times 2^112). */
    private static float dot1(PackedMatrix p, int r, float[] xp, int xo, boolean scaled, float[] t) {
        MemorySegment bits = p.bits;
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        int whole = whole(p.cols(), true);
        long b0 = r * p.qRowBytes;
        FloatVector a = FloatVector.zero(F), c = a;
        int sh = shift(bf), em = evenMask(bf), om = oddMask(bf);
        for (int k = 0; k < whole; k += 2 * L) {
            IntVector i = line(bits, b0 + 2L * k);
            FloatVector e = even(i, sh, em), d = odd(i, sh, om);
            if (!bf && !scaled) {
                e = e.mul(F16_SCALE);
                d = d.mul(F16_SCALE);
            }
            a = e.fma(FloatVector.fromArray(F, xp, xo + k), a);
            c = d.fma(FloatVector.fromArray(F, xp, xo + k + L), c);
        }
        a.add(c).intoArray(t, 0);
        return tail(p, r, whole, scaled, PackedKernels.sumLanes(t, 0), xp, xo);
    }

    /** The F16 weight (r, k) times 2^-112, as the kernels read it. */
    private static float halfBits(PackedMatrix p, int r, int k) {
        return Float.intBitsToFloat((p.bits.get(PackedMatrix.LS, r * p.qRowBytes + 2L * k) << 13) & 0x8FFFE000);
    }

    /** The columns past the last whole block (in place in the prepared input), added one by one. */
    private static float tail(PackedMatrix p, int r, int from, boolean scaled, float s, float[] xp, int xo) {
        for (int k = from; k < p.cols(); k++) s += (scaled ? halfBits(p, r, k) : p.weight(r, k)) * xp[xo + k];
        return s;
    }

    /**
     * The scalar twin of the kernels for row {@code r} and the input row {@code x[xo ..]} as it is:
     * the same products, fused multiply-adds into the same lanes in the same order, the same lane
     * sums and tail, so the same bits (the vectors' F16 input scaling changes no product).
     */
    static float dotScalar(PackedMatrix p, int r, float[] x, int xo) {
        int whole = whole(p.cols(), lines), h = LANES;
        float[] a = new float[h], c = new float[h];
        for (int b = 0; b < whole; b += lines ? 2 * h : h) {
            for (int j = 0; j < h; j++) {
                if (lines) {
                    int k = b + 2 * j;
                    a[j] = Math.fma(p.weight(r, k), x[xo + k], a[j]);
                    c[j] = Math.fma(p.weight(r, k + 1), x[xo + k + 1], c[j]);
                } else {
                    a[j] = Math.fma(p.weight(r, b + j), x[xo + b + j], a[j]);
                }
            }
        }
        if (lines) {
            for (int j = 0; j < h; j++) a[j] += c[j];
        }
        for (int w = h / 2; w >= 1; w /= 2) {
            for (int j = 0; j < w; j++) a[j] += a[j + w];
        }
        float s = a[0];
        for (int k = whole; k < p.cols(); k++) s += p.weight(r, k) * x[xo + k];
        return s;
    }

    // ---- L halves a load (-Dmyllm.half.lines=false) ---------------------------------------

    /** L weights from {@code off}: BF16 exactly; F16 times 2^-112, unless {@code rescale}. */
    private static FloatVector half(MemorySegment bits, long off, boolean bf, boolean rescale) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, bits, off, LE).convertShape(VectorOperators.S2I, I, 0);
        if (bf) return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // the half sign-extended and shifted by 13: the sign at bit 31, exponent and mantissa where a float keeps them
        FloatVector w = i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
        return rescale ? w.mul(F16_SCALE) : w;
    }

    /** Four rows (BF16, or F16 with a scaled input), L columns a step: the accumulators into {@code t[0 .. 4L)}. */
    private static void halves4(MemorySegment bits, long b0, long rb, boolean bf, float[] x, int xo, int whole, float[] t) {
        long b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < whole; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + k);
            long o = 2L * k;
            a0 = half(bits, b0 + o, bf, false).fma(xv, a0);
            a1 = half(bits, b1 + o, bf, false).fma(xv, a1);
            a2 = half(bits, b2 + o, bf, false).fma(xv, a2);
            a3 = half(bits, b3 + o, bf, false).fma(xv, a3);
        }
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        a2.intoArray(t, 2 * L);
        a3.intoArray(t, 3 * L);
    }

    private static float halves1(PackedMatrix p, int r, float[] x, int xo, boolean scaled, float[] t) {
        boolean bf = p.format() == PackedMatrix.Format.BF16, rescale = !bf && !scaled;
        int whole = whole(p.cols(), false);
        long b0 = r * p.qRowBytes;
        FloatVector a = FloatVector.zero(F);
        for (int k = 0; k < whole; k += L) a = half(p.bits, b0 + 2L * k, bf, rescale).fma(FloatVector.fromArray(F, x, xo + k), a);
        a.intoArray(t, 0);
        return tail(p, r, whole, scaled, PackedKernels.sumLanes(t, 0), x, xo);
    }
}
