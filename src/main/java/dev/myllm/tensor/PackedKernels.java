package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link PackedMatrix} (F16 and BF16 in {@link HalfKernels}): dot products of up to four packed weight rows
 * with one float32 input row. Four rows at a time share each load of the input and give the core
 * four independent chains of multiply-adds; each row's sum is still formed in exactly the same
 * order whether it is computed alone or in a group, so results do not depend on how rows fall
 * into threads. Weights are widened to float32 in registers and never written back to memory.
 */
final class PackedKernels {
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();
    /** Whether this CPU's vectors suit the kernels (8 or more float lanes); else the scalar twin runs. */
    static final boolean OK = L >= 8 && L <= 16;
    /** Rows per group: 4, or 1 with {@code -Dmyllm.packed.rows=1} (to compare; a row's bits are the same either way). */
    static final int GROUP = Integer.getInteger("myllm.packed.rows", 4) == 1 ? 1 : 4;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private PackedKernels() {
    }

    /**
     * {@code y[yo + j] = Σ_k W[r + j, k] · x[xo + k]} for {@code j < n} ({@code n} from 1 to 4): every
     * row's bits are the same for any {@code n}.
     */
    static void dot(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] blockSums, int bso) {
        dot(p, r, n, x, xo, y, yo, blockSums, bso, new float[8 * L]); // (tests; products pass their own lanes)
    }

    /** As above, with {@code lanes}: scratch of 8·L floats where the accumulators' lanes are added. */
    static void dot(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] blockSums, int bso, float[] lanes) {
        switch (p.format()) {
            case F16, BF16 -> HalfKernels.dot16(p, r, n, x, xo, y, yo, lanes);
            case F32 -> dotF32(p, r, n, x, xo, 1, y, yo, 0, GemmSmall.scratch()); // (tests; products call dotF32 themselves)
            case Q8_0 -> QuantKernels.dotQ8(p, r, n, x, xo, y, yo, lanes);
            case Q4_0, Q4_1 -> QuantKernels.dotQ4(p, r, n, x, xo, y, yo, blockSums, bso, lanes);
        }
    }

    // ---- F32: GemmSmall's passes, reading the weights from memory ------------------------

    private static FloatVector f32(MemorySegment bits, long off) {
        return FloatVector.fromMemorySegment(F, bits, off, LE);
    }

    /**
     * Groups {@code [g0, g1)} ({@code g} weight rows each) of an F32 product with {@code m} input
     * rows, each group by {@link #dotF32}: for eight-row passes, each chunk of weight rows is
     * first pulled into cache ({@link CacheWarm}), as {@code GemmSmall.nt} does.
     */
    static void dotF32Groups(PackedMatrix p, int g, int g0, int g1, float[] x, int xo, int m, float[] y, int yo, float[] lanes) {
        int rows = p.rows();
        int chunk = m < CacheWarm.MIN_ROWS ? 0 : CacheWarm.rowsPerChunk(g * p.qRowBytes);
        for (int c0 = g0; c0 < g1; ) {
            int c1 = chunk == 0 ? g1 : Math.min(g1, c0 + chunk);
            if (chunk != 0) CacheWarm.touch(p.bits, c0 * g * p.qRowBytes, Math.min(rows, c1 * g) * p.qRowBytes);
            for (int gi = c0; gi < c1; gi++) {
                int r = gi * g;
                dotF32(p, r, Math.min(g, rows - r), x, xo, m, y, yo + r, rows, lanes);
            }
            c0 = c1;
        }
    }

    /**
     * {@code y[yo + i·ys + j] = Σ_k W[r + j, k] · x[xo + i·K + k]} for the {@code m} input rows i and
     * the {@code n} weight rows j from r: {@code GemmSmall.nt}'s passes, operation for operation
     * (each group of weight rows read once for up to eight input rows, one accumulator chain per
     * output, the same lane-sum tree, then the tail by scalar fused multiply-adds in order), so an
     * F32 matrix gives bitwise the float32 array's results. Groups are {@code GemmSmall.GROUP} rows
     * ({@code GROUP_ONE} for one input row); a shorter {@code n} takes the rows one at a time.
     * {@code lanes}: {@code GemmSmall.scratch()}.
     */
    static void dotF32(PackedMatrix p, int r, int n, float[] x, int xo, int m, float[] y, int yo, int ys, float[] lanes) {
        MemorySegment w = p.bits;
        int K = p.cols();
        long rb = p.qRowBytes, br = r * rb;
        if (m == 1 && n == GemmSmall.GROUP_ONE) {
            rows1x4(w, br, rb, x, xo, 1, K, lanes);
            finishF32(lanes, n, n, n, 1, w, br, rb, x, xo, K, y, yo, ys);
            return;
        }
        if (n != GemmSmall.GROUP) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    rows1x1(w, br + j * rb, x, xo + i * K, K, lanes);
                    finishF32(lanes, 1, 1, 1, 1, w, br + j * rb, rb, x, xo + i * K, K, y, yo + i * ys + j, ys);
                }
            }
            return;
        }
        for (int i = 0; i < m; i += GemmSmall.PASS_ROWS) {
            int mr = Math.min(GemmSmall.PASS_ROWS, m - i), ar = xo + i * K;
            int rows = mr > 4 ? 8 : mr > 2 ? 4 : 2;
            switch (rows) {
                case 8 -> rows8x3(w, br, rb, x, ar, mr, K, lanes);
                case 4 -> rows4x3(w, br, rb, x, ar, mr, K, lanes);
                default -> rows2x3(w, br, rb, x, ar, mr, K, lanes);
            }
            finishF32(lanes, rows * n, n, n, mr, w, br, rb, x, ar, K, y, yo + i * ys, ys);
        }
    }

    /**
     * The lane sums of a pass's {@code count} accumulators ({@code g} a row), the tail of each real
     * output ({@code mr} rows, {@code gr} columns) and the store, as {@code GemmSmall.finish}.
     */
    private static void finishF32(float[] lanes, int count, int g, int gr, int mr, MemorySegment w, long br, long rb,
                                  float[] x, int xo, int K, float[] y, int yo, int ys) {
        GemmSmall.sumPass(lanes, count);
        int whole = K - K % L;
        for (int i = 0; i < mr; i++) {
            for (int j = 0; j < gr; j++) {
                float s = GemmSmall.passSum(lanes, i * g + j);
                long bj = br + j * rb;
                int xi = xo + i * K;
                for (int k = whole; k < K; k++) s = Math.fma(x[xi + k], w.get(PackedMatrix.LF, bj + 4L * k), s);
                y[yo + i * ys + j] = s;
            }
        }
    }

    private static void rows1x1(MemorySegment w, long br, float[] a, int ar, int K, float[] lanes) {
        FloatVector s = FloatVector.zero(F);
        for (int k = 0, whole = K - K % L; k < whole; k += L) s = f32(w, br + 4L * k).fma(FloatVector.fromArray(F, a, ar + k), s);
        s.intoArray(lanes, 0);
    }

    private static void rows8x3(MemorySegment w, long br, long rb, float[] a, int ar, int mr, int K,
                                float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K, a2 = ar + Math.min(2, mr - 1) * K, a3 = ar + Math.min(3, mr - 1) * K;
        int a4 = ar + Math.min(4, mr - 1) * K, a5 = ar + Math.min(5, mr - 1) * K, a6 = ar + Math.min(6, mr - 1) * K, a7 = ar + Math.min(7, mr - 1) * K;
        long b0 = br, b1 = br + rb, b2 = br + 2 * rb;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z;
        FloatVector s10 = z, s11 = z, s12 = z;
        FloatVector s20 = z, s21 = z, s22 = z;
        FloatVector s30 = z, s31 = z, s32 = z;
        FloatVector s40 = z, s41 = z, s42 = z;
        FloatVector s50 = z, s51 = z, s52 = z;
        FloatVector s60 = z, s61 = z, s62 = z;
        FloatVector s70 = z, s71 = z, s72 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            long o = 4L * k;
            FloatVector w0 = f32(w, b0 + o);
            FloatVector w1 = f32(w, b1 + o);
            FloatVector w2 = f32(w, b2 + o);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02);
            x = FloatVector.fromArray(F, a, a1 + k);
            s10 = w0.fma(x, s10); s11 = w1.fma(x, s11); s12 = w2.fma(x, s12);
            x = FloatVector.fromArray(F, a, a2 + k);
            s20 = w0.fma(x, s20); s21 = w1.fma(x, s21); s22 = w2.fma(x, s22);
            x = FloatVector.fromArray(F, a, a3 + k);
            s30 = w0.fma(x, s30); s31 = w1.fma(x, s31); s32 = w2.fma(x, s32);
            x = FloatVector.fromArray(F, a, a4 + k);
            s40 = w0.fma(x, s40); s41 = w1.fma(x, s41); s42 = w2.fma(x, s42);
            x = FloatVector.fromArray(F, a, a5 + k);
            s50 = w0.fma(x, s50); s51 = w1.fma(x, s51); s52 = w2.fma(x, s52);
            x = FloatVector.fromArray(F, a, a6 + k);
            s60 = w0.fma(x, s60); s61 = w1.fma(x, s61); s62 = w2.fma(x, s62);
            x = FloatVector.fromArray(F, a, a7 + k);
            s70 = w0.fma(x, s70); s71 = w1.fma(x, s71); s72 = w2.fma(x, s72);
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L);
        s10.intoArray(lanes, 3 * L); s11.intoArray(lanes, 4 * L); s12.intoArray(lanes, 5 * L);
        s20.intoArray(lanes, 6 * L); s21.intoArray(lanes, 7 * L); s22.intoArray(lanes, 8 * L);
        s30.intoArray(lanes, 9 * L); s31.intoArray(lanes, 10 * L); s32.intoArray(lanes, 11 * L);
        s40.intoArray(lanes, 12 * L); s41.intoArray(lanes, 13 * L); s42.intoArray(lanes, 14 * L);
        s50.intoArray(lanes, 15 * L); s51.intoArray(lanes, 16 * L); s52.intoArray(lanes, 17 * L);
        s60.intoArray(lanes, 18 * L); s61.intoArray(lanes, 19 * L); s62.intoArray(lanes, 20 * L);
        s70.intoArray(lanes, 21 * L); s71.intoArray(lanes, 22 * L); s72.intoArray(lanes, 23 * L);
    }

    private static void rows4x3(MemorySegment w, long br, long rb, float[] a, int ar, int mr, int K,
                                float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K, a2 = ar + Math.min(2, mr - 1) * K, a3 = ar + Math.min(3, mr - 1) * K;
        long b0 = br, b1 = br + rb, b2 = br + 2 * rb;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z;
        FloatVector s10 = z, s11 = z, s12 = z;
        FloatVector s20 = z, s21 = z, s22 = z;
        FloatVector s30 = z, s31 = z, s32 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            long o = 4L * k;
            FloatVector w0 = f32(w, b0 + o);
            FloatVector w1 = f32(w, b1 + o);
            FloatVector w2 = f32(w, b2 + o);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02);
            x = FloatVector.fromArray(F, a, a1 + k);
            s10 = w0.fma(x, s10); s11 = w1.fma(x, s11); s12 = w2.fma(x, s12);
            x = FloatVector.fromArray(F, a, a2 + k);
            s20 = w0.fma(x, s20); s21 = w1.fma(x, s21); s22 = w2.fma(x, s22);
            x = FloatVector.fromArray(F, a, a3 + k);
            s30 = w0.fma(x, s30); s31 = w1.fma(x, s31); s32 = w2.fma(x, s32);
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L);
        s10.intoArray(lanes, 3 * L); s11.intoArray(lanes, 4 * L); s12.intoArray(lanes, 5 * L);
        s20.intoArray(lanes, 6 * L); s21.intoArray(lanes, 7 * L); s22.intoArray(lanes, 8 * L);
        s30.intoArray(lanes, 9 * L); s31.intoArray(lanes, 10 * L); s32.intoArray(lanes, 11 * L);
    }

    private static void rows2x3(MemorySegment w, long br, long rb, float[] a, int ar, int mr, int K,
                                float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K;
        long b0 = br, b1 = br + rb, b2 = br + 2 * rb;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z;
        FloatVector s10 = z, s11 = z, s12 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            long o = 4L * k;
            FloatVector w0 = f32(w, b0 + o);
            FloatVector w1 = f32(w, b1 + o);
            FloatVector w2 = f32(w, b2 + o);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02);
            x = FloatVector.fromArray(F, a, a1 + k);
            s10 = w0.fma(x, s10); s11 = w1.fma(x, s11); s12 = w2.fma(x, s12);
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L);
        s10.intoArray(lanes, 3 * L); s11.intoArray(lanes, 4 * L); s12.intoArray(lanes, 5 * L);
    }

    private static void rows1x4(MemorySegment w, long br, long rb, float[] a, int ar, int mr, int K,
                                float[] lanes) {
        int a0 = ar;
        long b0 = br, b1 = br + rb, b2 = br + 2 * rb, b3 = br + 3 * rb;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            long o = 4L * k;
            FloatVector w0 = f32(w, b0 + o);
            FloatVector w1 = f32(w, b1 + o);
            FloatVector w2 = f32(w, b2 + o);
            FloatVector w3 = f32(w, b3 + o);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02); s03 = w3.fma(x, s03);
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L); s03.intoArray(lanes, 3 * L);
    }


    // ---- lanes added in a fixed order -----------------------------------------------------

    /**
     * The L lanes stored at {@code t[off ..]} added pairwise in a fixed order (upper half onto lower
     * half, until one lane is left); overwrites them. Not {@code reduceLanes}: its order of additions
     * is the JIT's choice and differs from the interpreter's, so the same product gave different bits
     * in a cold and a warm JVM. From memory rather than by permutes: scalar adds take C2 far fewer
     * nodes, and a vector passed to a method C2 does not inline is boxed.
     */
    static float sumLanes(float[] t, int off) {
        for (int w = L / 2; w >= 1; w /= 2) {
            for (int i = off; i < off + w; i++) t[i] += t[i + w];
        }
        return t[off];
    }

    /**
     * The lanes of four accumulators added in {@link #sumLanes(float[], int)}'s order, all four at
     * once: after the first halving step, rows 0 and 1 share a vector (row 1's sums in its upper
     * half, where a lane holds the same sum as its partner, since addition commutes), after the
     * second rows 2 and 3 join them; the sum of row j ends at lane {@code R0..R3}. The same bits as
     * four {@link #sumLanes(float[], int)} calls, for a few vector operations instead of 4·(L−1)
     * scalar additions through memory (a quarter of a 768-column product's time).
     */
    static FloatVector sum4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        a0 = a0.add(a0.rearrange(XOR_HALF));
        a1 = a1.add(a1.rearrange(XOR_HALF));
        a2 = a2.add(a2.rearrange(XOR_HALF));
        a3 = a3.add(a3.rearrange(XOR_HALF));
        FloatVector u = a0.blend(a1, HALF), v = a2.blend(a3, HALF);
        u = u.add(u.rearrange(XOR_QUARTER));
        v = v.add(v.rearrange(XOR_QUARTER));
        FloatVector z = u.blend(v, QUARTER);
        z = z.add(z.rearrange(XOR_EIGHTH));
        return L == 16 ? z.add(z.rearrange(XOR_SIXTEENTH)) : z;
    }

    /** Lanes of {@link #sum4}'s result holding rows 0 to 3. */
    static final int R0 = 0, R1 = L / 2, R2 = L / 4, R3 = 3 * L / 4;
    private static final VectorMask<Float> HALF = VectorMask.fromLong(F, OK ? (1L << L) - (1L << (L / 2)) : 0);
    private static final VectorMask<Float> QUARTER = VectorMask.fromLong(F, OK ? (L == 16 ? 0xF0F0L : 0xCCL) : 0);

    // lane i with lane i ^ L/2, i ^ L/4, ... in the kernels' own species (fields, which the JIT takes as constants)
    private static final VectorShuffle<Float> XOR_HALF = xor(L / 2), XOR_QUARTER = xor(L / 4), XOR_EIGHTH = xor(L / 8), XOR_SIXTEENTH = xor(L / 16);

    private static VectorShuffle<Float> xor(int w) {
        return VectorShuffle.fromOp(F, i -> OK ? i ^ w : i);
    }
}
