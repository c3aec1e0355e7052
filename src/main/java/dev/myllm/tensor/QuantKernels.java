package dev.myllm.tensor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link PackedMatrix}'s block types (Q8_0, Q4_0, Q4_1), called through
 * {@link PackedKernels#dot}: each row's sum formed in one fixed order whether it is computed alone or
 * in a group, and its lanes added in {@link PackedKernels#sumLanes(float[], int)}'s order.
 */
final class QuantKernels {
    private static final VectorSpecies<Float> F = PackedKernels.F;
    private static final int L = PackedKernels.L;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));

    private QuantKernels() {
    }

    // ---- Q8_0: blocks of 32 int8 with a float scale ---------------------------------------

    /** L weights from {@code c[off ..]}, sign-extended and converted to float (one vpmovsxbd and one vcvtdq2ps). */
    private static FloatVector q8(byte[] c, int off) {
        return (FloatVector) ByteVector.fromArray(B, c, off).convertShape(VectorOperators.B2F, F, 0);
    }

    static void dotQ8(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] t) {
        if (n == PackedMatrix.GROUP && r % PackedMatrix.GROUP == 0 && L == 16) dotQ8x4(p, r, x, xo, y, yo, t);
        else if (n == PackedMatrix.GROUP && r % PackedMatrix.GROUP == 0) {
            dotQ8x2(p, r, 0, x, xo, y, yo, t);
            dotQ8x2(p, r, 2, x, xo, y, yo + 2, t);
        } else for (int i = 0; i < n; i++) dotQ8x1(p, r + i, x, xo, y, yo + i, t);
    }

    /**
     * Row j's share of a block: {@code Σ_i q[i]·x[i]} over the block's 32 weights at {@code c[q ..]},
     * with x from {@code xk}, as one chain of multiply-adds L weights at a time (the first a multiply).
     * Straight-line code: with a loop over the block nested in the loop over blocks, C2 rebuilt
     * bounds checks for every block (dozens of scalar instructions per vector of weights).
     */
    private static FloatVector block(byte[] c, int q, float[] x, int xk) {
        FloatVector s = q8(c, q).mul(FloatVector.fromArray(F, x, xk));
        s = q8(c, q + L).fma(FloatVector.fromArray(F, x, xk + L), s);
        if (L == 8) {
            s = q8(c, q + 16).fma(FloatVector.fromArray(F, x, xk + 16), s);
            s = q8(c, q + 24).fma(FloatVector.fromArray(F, x, xk + 24), s);
        }
        return s;
    }

    /** A float32 (a Q8_0 scale) from four bytes of a {@code byte[]}, little-endian: one plain load. */
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    private static FloatVector scale(byte[] c, int at) {
        return FloatVector.broadcast(F, (float) FLOAT.get(c, at));
    }

    /**
     * Rows r to r + 3, a whole group of {@link PackedMatrix#codeAt}'s layout, with 16 lanes: block b
     * of row j at 144·b + 32·j from the group's start, its scale at 144·b + 128 + 4·j.
     */
    private static void dotQ8x4(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, float[] t) {
        byte[] c = p.codes;
        int blocks = p.cols() / 32, q0 = (int) p.codeAt(r, 0);
        final int step = 4 * PackedMatrix.Q8_BLOCK;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        // block()'s operations written out: C2 inlined a call per row only when it judged the
        // call site hot, and boxed the vectors passed and returned when it did not
        for (int b = 0; b < blocks; b++) {
            int q = q0 + step * b, xk = xo + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xk), x1 = FloatVector.fromArray(F, x, xk + 16);
            a0 = q8(c, q + 16).fma(x1, q8(c, q).mul(x0)).fma(scale(c, q + 128), a0);
            a1 = q8(c, q + 48).fma(x1, q8(c, q + 32).mul(x0)).fma(scale(c, q + 132), a1);
            a2 = q8(c, q + 80).fma(x1, q8(c, q + 64).mul(x0)).fma(scale(c, q + 136), a2);
            a3 = q8(c, q + 112).fma(x1, q8(c, q + 96).mul(x0)).fma(scale(c, q + 140), a3);
        }
        PackedKernels.sum4(a0, a1, a2, a3).intoArray(t, 0);
        y[yo] = t[PackedKernels.R0];
        y[yo + 1] = t[PackedKernels.R1];
        y[yo + 2] = t[PackedKernels.R2];
        y[yo + 3] = t[PackedKernels.R3];
    }

    /**
     * Rows r + j and r + j + 1 (j = 0 or 2) of a whole group, with 8 lanes (256-bit vectors), each
     * row's block as {@link #block} forms it. Half a group per method: the four rows of 16 conversions
     * a block in one loop took C2 past its node budget for inlining, so it called q8() and boxed
     * every vector (3.4 MB a 768 x 768 product).
     */
    private static void dotQ8x2(PackedMatrix p, int r, int j, float[] x, int xo, float[] y, int yo, float[] t) {
        byte[] c = p.codes;
        int blocks = p.cols() / 32, q0 = (int) p.codeAt(r, 0);
        final int step = 4 * PackedMatrix.Q8_BLOCK;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            int q = q0 + step * b, u = q + 32 * j, v = u + 32, xk = xo + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xk), x1 = FloatVector.fromArray(F, x, xk + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xk + 16), x3 = FloatVector.fromArray(F, x, xk + 24);
            a0 = q8(c, u + 24).fma(x3, q8(c, u + 16).fma(x2, q8(c, u + 8).fma(x1, q8(c, u).mul(x0))))
                    .fma(scale(c, q + 128 + 4 * j), a0);
            a1 = q8(c, v + 24).fma(x3, q8(c, v + 16).fma(x2, q8(c, v + 8).fma(x1, q8(c, v).mul(x0))))
                    .fma(scale(c, q + 132 + 4 * j), a1);
        }
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        y[yo] = PackedKernels.sumLanes(t, 0);
        y[yo + 1] = PackedKernels.sumLanes(t, L);
    }

    /** One row, its blocks 36·n bytes apart ({@code n} the rows of its group). */
    private static void dotQ8x1(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, float[] t) {
        byte[] c = p.codes;
        int blocks = p.cols() / 32, q0 = (int) p.codeAt(r, 0), s0 = (int) p.scaleAt(r, 0);
        int n = Math.min(PackedMatrix.GROUP, p.rows() - (r - r % PackedMatrix.GROUP)), step = n * PackedMatrix.Q8_BLOCK;
        FloatVector a = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) a = block(c, q0 + step * b, x, xo + 32 * b).fma(scale(c, s0 + step * b), a);
        a.intoArray(t, 0);
        y[yo] = PackedKernels.sumLanes(t, 0);
    }

    // ---- Q4_0 and Q4_1: blocks of 32 nibbles (16 bytes: element j low, j + 16 high) -----------

    /** L bytes of nibbles from {@code c[off ..]}, widened to ints (sign-extended: mask before use). */
    private static IntVector nibbles(byte[] c, int off) {
        return (IntVector) ByteVector.fromArray(B, c, off).convertShape(VectorOperators.B2I, I, 0);
    }

    /** {@code (q − zero)·x + acc} for the nibbles q of {@code v} (low ones, or high ones when {@code high}). */
    private static FloatVector nib(IntVector v, boolean high, int zero, FloatVector x, FloatVector acc) {
        IntVector q = high ? v.lanewise(VectorOperators.LSHR, 4) : v;
        return ((FloatVector) q.and(0xF).sub(zero).convert(VectorOperators.I2F, 0)).fma(x, acc);
    }

    /**
     * A row's share of a block: {@code Σ (q − zero)·x} over the 16 bytes at {@code c[o ..]}, x from
     * {@code k}, L bytes at a time (low nibbles, then high), straight-line as {@link #block}.
     */
    private static FloatVector block4(byte[] c, int o, int zero, float[] x, int k) {
        IntVector q = nibbles(c, o);
        FloatVector s = nib(q, false, zero, FloatVector.fromArray(F, x, k), FloatVector.zero(F));
        s = nib(q, true, zero, FloatVector.fromArray(F, x, k + 16), s);
        if (L == 8) {
            q = nibbles(c, o + 8);
            s = nib(q, false, zero, FloatVector.fromArray(F, x, k + 8), s);
            s = nib(q, true, zero, FloatVector.fromArray(F, x, k + 24), s);
        }
        return s;
    }

    /**
     * Q4_0: {@code Σ (q − 8)·d·x}; Q4_1: {@code Σ (q·d + m)·x = d·Σ q·x + m·Σ x}, the second from
     * {@code blockSums} (each block's sum of x, formed once per input row).
     */
    static void dotQ4(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] blockSums, int bso, float[] t) {
        // two rows at a time with 16 lanes (the nibble unpacking takes more registers than Q8_0's
        // bytes); one with 8, whose blocks take twice the operations: two rows in one loop took C2
        // past its node budget for inlining, so it called block4() and boxed every vector
        int i0 = 0;
        for (; L == 16 && i0 + 1 < n; i0 += 2) dotQ4x2(p, r + i0, x, xo, y, yo + i0, blockSums, bso, t);
        for (; i0 < n; i0++) dotQ4x1(p, r + i0, x, xo, y, yo + i0, blockSums, bso, t);
    }

    private static void dotQ4x2(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, float[] blockSums, int bso, float[] t) {
        byte[] c = p.codes;
        float[] sc = p.scaleArray, mins = p.minArray;
        int zero = p.format() == PackedMatrix.Format.Q4_0 ? 8 : 0;
        int blocks = p.cols() / 32, s0 = r * blocks, s1 = s0 + blocks;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        float m0 = 0, m1 = 0;
        for (int b = 0; b < blocks; b++) {
            int k = xo + 32 * b;
            a0 = block4(c, 16 * (s0 + b), zero, x, k).fma(FloatVector.broadcast(F, sc[s0 + b]), a0);
            a1 = block4(c, 16 * (s1 + b), zero, x, k).fma(FloatVector.broadcast(F, sc[s1 + b]), a1);
            if (mins != null) {
                m0 += mins[s0 + b] * blockSums[bso + b];
                m1 += mins[s1 + b] * blockSums[bso + b];
            }
        }
        // lanes added from memory: a vector passed to a lane-sum method was boxed whenever C2
        // recompiled this loop without inlining it (74 KB a 768 x 768 product)
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        y[yo] = PackedKernels.sumLanes(t, 0) + m0;
        y[yo + 1] = PackedKernels.sumLanes(t, L) + m1;
    }

    private static void dotQ4x1(PackedMatrix p, int r, float[] x, int xo, float[] y, int yo, float[] blockSums, int bso, float[] t) {
        byte[] c = p.codes;
        float[] sc = p.scaleArray, mins = p.minArray;
        int zero = p.format() == PackedMatrix.Format.Q4_0 ? 8 : 0;
        int blocks = p.cols() / 32, s0 = r * blocks;
        FloatVector a0 = FloatVector.zero(F);
        float m0 = 0;
        for (int b = 0; b < blocks; b++) {
            a0 = block4(c, 16 * (s0 + b), zero, x, xo + 32 * b).fma(FloatVector.broadcast(F, sc[s0 + b]), a0);
            if (mins != null) m0 += mins[s0 + b] * blockSums[bso + b];
        }
        a0.intoArray(t, 0);
        y[yo] = PackedKernels.sumLanes(t, 0) + m0;
    }

    /**
     * Row {@code r} of a block type widened to float32 into {@code dst[o ..]}, a block at a time: the
     * values {@link PackedMatrix#weight} gives, without its address arithmetic for every weight.
     */
    static void widenRow(PackedMatrix p, int r, float[] dst, int o) {
        byte[] codes = p.codes;
        for (int b = 0; b < p.cols() / 32; b++) {
            int c = (int) p.codeAt(r, b), k = o + 32 * b;
            float d = p.scale(r, b);
            if (p.format() == PackedMatrix.Format.Q8_0) {
                for (int j = 0; j < 32; j++) dst[k + j] = codes[c + j] * d;
            } else if (p.format() == PackedMatrix.Format.Q4_0) {
                for (int j = 0; j < 16; j++) {
                    dst[k + j] = ((codes[c + j] & 0xF) - 8) * d;
                    dst[k + 16 + j] = (((codes[c + j] & 0xFF) >>> 4) - 8) * d;
                }
            } else {
                float mn = p.min(r, b);
                for (int j = 0; j < 16; j++) {
                    dst[k + j] = (codes[c + j] & 0xF) * d + mn;
                    dst[k + 16 + j] = ((codes[c + j] & 0xFF) >>> 4) * d + mn;
                }
            }
        }
    }

    /** Fills {@code p} (a block type, just allocated) from a file's blocks of {@code bb} bytes: f16 scale (and minimum) first, then the codes. */
    static PackedMatrix repack(java.lang.foreign.MemorySegment bytes, PackedMatrix p, int bb) {
        int blocks = p.cols() / 32, head = bb - (int) (p.qRowBytes / blocks);
        Parallel.forRange(p.rows(), 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int b = 0; b < blocks; b++) {
                    long q = r * p.rowBytes + (long) bb * b;
                    p.setScale(r, b, Float.float16ToFloat(bytes.get(PackedMatrix.LS, q)));
                    if (p.mins != null) p.mins.set(PackedMatrix.LF, 4 * p.block(r, b), Float.float16ToFloat(bytes.get(PackedMatrix.LS, q + 2)));
                    java.lang.foreign.MemorySegment.copy(bytes, q + head, p.bits, p.codeAt(r, b), bb - head);
                }
            }
        });
        return p;
    }
}
