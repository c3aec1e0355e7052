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
 * weights with one float32 input row, L halves a load widened to float32 in registers. Each row's
 * sum is formed in the same order whether it is computed alone or in a group, and {@link #dotScalar}
 * (the scalar twin) forms it in that order too.
 *
 * <p>Measured and dropped: loading a whole cache line (2L halves as L ints, even and odd columns
 * widened apart against an input split once per product), half the loads and fewer instructions a
 * line. tools/HalfAB (gpt2-small's products, one JVM, quiet machine) gave it 1.02-1.03 of these
 * kernels' time on one thread and the same on two, and bench generate's ratios did not move; two
 * rows at a time took 1.3x the time, eight took C2 past what it keeps in registers. Again with one
 * chain per row (even column, then odd): BF16 1.05-1.19 of this time, F16 0.86-1.10 (noise on a
 * shared machine). The segment loads need no heap array (as Q8_0's codes have): C2's code for
 * {@link #halves4} (disassembled) is plain vector loads with no checks inside the loop, and a
 * {@code short[]} loop ran no faster from memory (its 16-byte header leaves loads straddling lines).
 */
final class HalfKernels {
    private static final VectorSpecies<Float> F = PackedKernels.F;
    private static final int L = PackedKernels.L;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Lanes of the accumulators the scalar twin mirrors. */
    static final int LANES = PackedKernels.OK ? L : 8;

    /** The scalar twin's accumulators, one set per thread. */
    private static final ThreadLocal<float[]> TWIN_LANES = ThreadLocal.withInitial(() -> new float[LANES]);

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

    /** Columns the vector loop takes: whole vectors. */
    private static int whole(int cols) {
        return cols - cols % LANES;
    }

    /**
     * {@code y (m, rows) = x (m, cols) · Wᵀ} for an F16 or BF16 matrix and a few input rows, each
     * group of four weight rows read once for all of them. Tiles ({@link HalfLayout.Layout#TILES}):
     * a group is four adjacent rows, one contiguous run, so a thread's range of groups is one
     * stream (gpt2-medium's products on two threads, tools/HalfAB: BF16 0.86-0.89 and F16 0.90-0.91
     * of the time of four quarter streams of padded rows; 1024×4096 ran slower in tiles, 1.03-1.23,
     * so rows wider than {@link HalfLayout#TILE_COLS} keep padded rows). Rows (padded, or a mapped
     * file's): a thread takes one range of rows and splits it in four quarters, and a group is the i-th row of each quarter: the four rows a
     * group reads side by side then run on in memory from the previous group's, four long streams
     * through the matrix instead of four new short ones each group (rows of 768 halves are 1.5 KB,
     * too short for the hardware prefetchers to get going). A row's bits are the same in any group
     * or alone, so they do not depend on {@code m} or on the number of threads. Eight streams (two
     * such groups in turn, eighths) took 1.3-1.45x the time of four (tools/HalfAB, one thread).
     */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        int rows = p.rows(), cols = p.cols();
        // F16: the input scaled once per product (see F16_SCALE) when none would overflow
        boolean scaled = p.format() == PackedMatrix.Format.F16 && scalable(x, xOff, m * cols);
        float[] xs = x;
        int xs0 = xOff;
        if (scaled) {
            xs = scaledInput(m * cols);
            xs0 = 0;
            for (int k = 0; k < m * cols; k++) xs[k] = x[xOff + k] * F16_SCALE;
        }
        float[] xin = xs;
        int x0 = xs0, g = GROUP, groups = (rows + g - 1) / g;
        if (p.tiled) {
            // a group is four adjacent rows, one contiguous run: a thread's groups are one stream
            Parallel.forRange(groups, Math.max(1, (1 << 16) / cols / g), (g0, g1) -> {
                float[] lanes = GemmSmall.lanes();
                for (int gi = g0; gi < g1; gi++) {
                    int r = gi * g, n = Math.min(g, rows - r);
                    // one input row at a time: the group (a few KB) stays in L1 for the next ones
                    for (int i = 0; i < m; i++) dot16(p, r, n, 1, xin, x0 + i * cols, y, yOff + i * rows + r, scaled, lanes);
                }
            });
            return;
        }
        Parallel.forRange(groups, Math.max(1, (1 << 16) / cols / g), (g0, g1) -> {
            float[] lanes = GemmSmall.lanes(); // (4 accumulators' lanes fit)
            int r0 = g0 * g, r1 = Math.min(rows, g1 * g), q = (r1 - r0) / g, rs = g == 1 ? 1 : q;
            for (int j = 0; j < q; j++) {
                int r = r0 + j;
                for (int i = 0; i < m; i++) dot16(p, r, g, rs, xin, x0 + i * cols, y, yOff + i * rows + r, scaled, lanes);
            }
            for (int r = r0 + g * q; r < r1; r++) { // the rows left over: one at a time
                for (int i = 0; i < m; i++) dot16(p, r, 1, 1, xin, x0 + i * cols, y, yOff + i * rows + r, scaled, lanes);
            }
        });
    }

    /** The calling thread's buffer for an F16 product's scaled input (every token's products would allocate it anew). */
    private static final ThreadLocal<float[][]> SCALED = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scaledInput(int n) {
        float[][] holder = SCALED.get();
        if (holder[0].length < n) holder[0] = new float[n];
        return holder[0];
    }

    /** Test entry (x as it is, F16 unscaled): rows {@code r .. r+n} into {@code y[yo ..]}. */
    static void dot16(PackedMatrix p, int r, int n, float[] x, int xo, float[] y, int yo, float[] lanes) {
        dot16(p, r, n, 1, x, xo, y, yo, false, lanes);
    }

    /**
     * Rows {@code r + j·rs} for {@code j < n} times the input row {@code x[xo ..]}, into
     * {@code y[yo + j·rs]}. {@code scaled}: F16 only, the input is already multiplied by {@link
     * #F16_SCALE} (without it F16 rows go one at a time, each weight rescaled: a rare input of 4096
     * or more).
     */
    static void dot16(PackedMatrix p, int r, int n, int rs, float[] x, int xo, float[] y, int yo, boolean scaled, float[] t) {
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        boolean tiles4 = p.tiled && r % HalfLayout.GROUP == 0 && rs == 1; // (tiles: four rows only as a whole group)
        if (n == 4 && (bf || scaled) && (!p.tiled || tiles4)) {
            int whole = whole(p.cols());
            // the loop is a method of its own (with the lane sums in the same method C2 reached its
            // node limit while inlining, which boxed vectors). Rows: four rows rs apart, each row's
            // next vector 2L bytes on; tiles: a group's rows 2L bytes apart, each row's next vector
            // a tile of the group (8L bytes) on
            long b0 = tiles4 ? HalfLayout.tileAt(p, r, 0) : r * p.qRowBytes;
            halves4(p.bits, b0, tiles4 ? 2L * L : rs * p.qRowBytes, tiles4 ? 8L * L : 2L * L, bf, x, xo, whole, t);
            sum4(t);
            y[yo] = tail(p, r, whole, scaled, t[PackedKernels.R0], x, xo);
            y[yo + rs] = tail(p, r + rs, whole, scaled, t[PackedKernels.R1], x, xo);
            y[yo + 2 * rs] = tail(p, r + 2 * rs, whole, scaled, t[PackedKernels.R2], x, xo);
            y[yo + 3 * rs] = tail(p, r + 3 * rs, whole, scaled, t[PackedKernels.R3], x, xo);
        } else {
            for (int j = 0; j < n; j++) y[yo + j * rs] = halves1(p, r + j * rs, x, xo, scaled, t);
        }
    }

    /** The four accumulators at {@code t[0 .. 4L)} summed by {@link PackedKernels#sum4}, stored at {@code t[0 ..]}. */
    private static void sum4(float[] t) {
        PackedKernels.sum4(FloatVector.fromArray(F, t, 0), FloatVector.fromArray(F, t, L),
                FloatVector.fromArray(F, t, 2 * L), FloatVector.fromArray(F, t, 3 * L)).intoArray(t, 0);
    }

    /** L weights from {@code off}: BF16 exactly; F16 times 2^-112 ({@link #decode}), unless {@code rescale}. */
    private static FloatVector half(MemorySegment bits, long off, boolean bf, boolean rescale) {
        FloatVector w = bf ? decode(bits, off, 16, -1) : decode(bits, off, 13, F16_MASK);
        return rescale ? w.mul(F16_SCALE) : w;
    }

    /**
     * Four rows from byte {@code b0}, {@code rb} apart, each row's next L halves {@code vs} bytes on
     * (BF16, or F16 with a scaled input): the accumulators into {@code t[0 .. 4L)}. One loop for both
     * layouts (with a loop for each, C2 compiled the row-major one 1.2-1.3x slower) and both formats,
     * without a branch: a weight is the widened half shifted and masked ({@link #decode}). With the
     * format a branch in the loop, a JVM that had run one format ran the other 1.2-1.3x slower once
     * C2 recompiled the loop for both (tools/HalfAB, F16 after BF16: 17.2 ms a gpt2-medium step on
     * two threads, 12.9 ms in a JVM of its own); with a loop for each format called from one method,
     * bench generate's F16 ran at times 2-5x slower than BF16 in the same JVM (C2 inlining both
     * loops into their caller, with the vectors boxed).
     */
    private static void halves4(MemorySegment bits, long b0, long rb, long vs, boolean bf, float[] x, int xo, int whole, float[] t) {
        long b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb;
        int sh = bf ? 16 : 13, mask = bf ? -1 : F16_MASK;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long o = 0;
        for (int k = 0; k < whole; k += L, o += vs) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + k);
            a0 = decode(bits, b0 + o, sh, mask).fma(xv, a0);
            a1 = decode(bits, b1 + o, sh, mask).fma(xv, a1);
            a2 = decode(bits, b2 + o, sh, mask).fma(xv, a2);
            a3 = decode(bits, b3 + o, sh, mask).fma(xv, a3);
        }
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        a2.intoArray(t, 2 * L);
        a3.intoArray(t, 3 * L);
    }

    /** Bits an F16 weight keeps after its shift (sign, exponent, mantissa; see {@link #f16}). */
    private static final int F16_MASK = 0x8FFFE000;

    /**
     * L weights from {@code off}: the halves widened (sign-extended), shifted by {@code sh} and
     * masked. BF16: 16 and all bits, exactly the weight. F16: 13 and {@link #F16_MASK}, the sign at
     * bit 31 and exponent and mantissa where a float keeps them, so the weight times 2^-112 (weights
     * are finite, so Inf/NaN need no care).
     */
    private static FloatVector decode(MemorySegment bits, long off, int sh, int mask) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, bits, off, LE).convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, sh).and(mask).reinterpretAsFloats();
    }

    /** One row (the last rows of a product, and F16 with an unscaled input: each weight times 2^112). */
    private static float halves1(PackedMatrix p, int r, float[] x, int xo, boolean scaled, float[] t) {
        boolean bf = p.format() == PackedMatrix.Format.BF16, rescale = !bf && !scaled;
        int whole = whole(p.cols());
        FloatVector a = FloatVector.zero(F);
        // a row's vectors: 2L bytes apart in rows, 2L times the rows of its group apart in tiles
        long o = p.tiled ? HalfLayout.tileAt(p, r, 0) : r * p.qRowBytes, step = 2L * L * (p.tiled ? HalfLayout.groupRows(p, r) : 1);
        for (int k = 0; k < whole; k += L, o += step) a = half(p.bits, o, bf, rescale).fma(FloatVector.fromArray(F, x, xo + k), a);
        a.intoArray(t, 0);
        return tail(p, r, whole, scaled, PackedKernels.sumLanes(t, 0), x, xo);
    }

    /** The F16 weight (r, k) times 2^-112, as the kernels read it. */
    private static float halfBits(PackedMatrix p, int r, int k) {
        return Float.intBitsToFloat((p.bits.get(PackedMatrix.LS, HalfLayout.at(p, r, k)) << 13) & F16_MASK);
    }

    /** The columns past the last whole vector, added one by one. */
    private static float tail(PackedMatrix p, int r, int from, boolean scaled, float s, float[] x, int xo) {
        for (int k = from; k < p.cols(); k++) s += (scaled ? halfBits(p, r, k) : p.weight(r, k)) * x[xo + k];
        return s;
    }

    /**
     * The scalar twin of the kernels for row {@code r} and the input row {@code x[xo ..]} as it is:
     * the same products, fused multiply-adds into the same lanes in the same order, the same lane
     * sums and tail, so the same bits (the vectors' F16 input scaling changes no product).
     */
    static float dotScalar(PackedMatrix p, int r, float[] x, int xo) {
        int whole = whole(p.cols()), h = LANES;
        float[] a = TWIN_LANES.get(); // (without vectors this is the product's path: no array per row)
        java.util.Arrays.fill(a, 0f);
        for (int b = 0; b < whole; b += h) {
            for (int j = 0; j < h; j++) a[j] = Math.fma(p.weight(r, b + j), x[xo + b + j], a[j]);
        }
        for (int w = h / 2; w >= 1; w /= 2) {
            for (int j = 0; j < w; j++) a[j] += a[j + w];
        }
        float s = a[0];
        for (int k = whole; k < p.cols(); k++) s += p.weight(r, k) * x[xo + k];
        return s;
    }
}
