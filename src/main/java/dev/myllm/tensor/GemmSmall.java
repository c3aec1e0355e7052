package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products with very few rows of C (M=1 decoding, small batches), where packing would cost
 * as much as the product: they stream B once, straight from the caller's array, each group of B's
 * rows multiplied with up to eight rows of A while it is loaded.
 */
final class GemmSmall {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Products with at most this many rows of C take these paths (the packed kernel pads to 8 rows). */
    static final int MAX_ROWS = 4;
    /** Below this many flops per task, another thread costs more than it saves (the pool spins, so that is little). */
    private static final double MIN_TASK_FLOPS = 2.5e5;

    /** Rows of A that one pass multiplies with each group of B rows (the widest kernel). */
    static final int PASS_ROWS = 8;
    /** Rows of B per group: three for several rows of A (24 accumulators), four for one. */
    static final int GROUP = 3, GROUP_ONE = 4;

    /** Per-thread scratch: the lanes of up to 24 accumulators (padded to whole reductions of 8), and their sums. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(GemmSmall::scratch);

    private GemmSmall() {
    }

    static int grain(int items, long flopsPerItem) {
        return (int) Math.max(1, Math.min(items, Math.ceil(MIN_TASK_FLOPS / Math.max(1, flopsPerItem))));
    }

    /**
     * NT with few rows: {@code C[m,n] = Σ_k A[m,k]·B[n,k]}, A {@code (M, K)}, B {@code (N, K)}: dot
     * products of rows. Each group of three rows of B is read from memory once and multiplied with
     * up to eight rows of A in that one pass (24 accumulators in registers), so the multiply-adds
     * overlap the memory traffic instead of following it; more rows of A take more passes over the
     * group while it is in L1. One row of A takes groups of four rows of B.
     *
     * <p>Batch-invariant: every C element gets exactly {@link #dotReference}'s operations, in its
     * order, whatever M is, which rows share a pass and how the groups fall to threads.
     */
    static void nt(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                   int M, int N, int K, boolean accumulate) {
        nt(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, null, false);
    }

    /**
     * {@link #nt}, with {@code bias[n]} (when not null, and not with {@code accumulate}) added to
     * every element of column n as each pass stores its block: {@code c = s + bias[n]}, the one add
     * a separate pass would make (the same bits), while the block is in L1 instead of in a pass over
     * all of C afterwards. One row of A ({@link GemmOne}) takes that pass over its row. With
     * {@code gelu} (several rows, no {@code accumulate}), each chunk of columns then goes through
     * {@link GeluKernel#forwardBlock} while it is in cache.
     */
    static void nt(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                   int M, int N, int K, boolean accumulate, float[] bias, boolean gelu) {
        if (gelu && (M < 2 || accumulate)) throw new IllegalArgumentException("nt: GELU is for a several-row product that stores");
        if (M == 1) {
            GemmOne.nt(a, aOff, b, bOff, c, cOff, N, K, accumulate); // (its own class: see there)
            if (bias != null) for (int n = 0; n < N; n++) c[cOff + n] += bias[n];
            return;
        }
        // the passes read their rows of A from a copy that starts on a cache line (Aligned): a
        // row's vectors then never straddle two lines. The same values, so the same bits
        float[] copy = alignedRows(a, aOff, M, K);
        float[] ra = copy != null ? copy : a;
        int ro = copy != null ? Aligned.floatOffset() : aOff;
        int g = GROUP;
        int groups = (N + g - 1) / g;
        int block = Math.max(grain(groups, 2L * g * M * K), groups / (Parallel.threads() * BLOCKS_PER_THREAD));
        int blocks = (groups + block - 1) / block;
        if (blocks <= 1) {
            ntGroups(ra, ro, b, bOff, c, cOff, M, N, K, accumulate, bias, gelu, g, 0, groups);
            return;
        }
        // threads take runs of groups as they come free, not a fixed share each: a thread that
        // another process (or the server's own I/O) holds up does not hold the product up. Each
        // run is half of what is left per thread (at least TAIL_GROUPS): long runs first, whose
        // chunks are whole CacheWarm chunks, short ones last, so the threads end close together.
        // Fixed blocks of 1/16 of a thread's share left ragged chunks at every block's end and up
        // to a block's time of one thread waiting for the other at every product's end: the eight-row
        // products of a gpt2-small step took 7-9% longer (tools/DecodeAB, two threads, 5 runs).
        int threads = Math.min(Parallel.threads(), blocks);
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int s; (s = next.get()) < groups; ) {
                int size = Math.max(TAIL_GROUPS, (groups - s) / (2 * threads));
                if (next.compareAndSet(s, s + size)) ntGroups(ra, ro, b, bOff, c, cOff, M, N, K, accumulate, bias, gelu, g, s, Math.min(groups, s + size));
            }
        });
    }

    /**
     * Whether {@link #nt}'s several-row products copy A to a cache-line start first ({@link Aligned}; on by default;
     * tests turn it off to compare).
     */
    static volatile boolean alignRows = true;

    /** Rows of A at most that {@link #alignedRows} copies (a decode batch; beyond it the copy would be a prompt's activations). */
    private static final int ALIGN_MAX_ROWS = 64;

    /**
     * The longest rows of A that {@link #alignedRows} copies: a pass's eight rows then fit in L1
     * (32 KB). Longer rows come from L2 either way, and copying them cost more than it saved
     * (tools/DecodeAB, one thread: the 768×3072 products 1.05× the time).
     */
    private static final int ALIGN_MAX_K = 1024;

    /** Each thread's line-aligned copy of a product's rows of A. */
    private static final ThreadLocal<float[]> ALIGNED_ROWS = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Rows {@code [aOff, aOff + M·K)} of A copied to this thread's scratch at {@link Aligned#floatOffset()},
     * or null where that does not pay or is not known: fewer rows than the warmed eight-row passes take
     * (the lighter passes keep to memory speed anyway), more than a decode batch, rows longer than
     * {@link #ALIGN_MAX_K}, or no fixed alignment.
     */
    private static float[] alignedRows(float[] a, int aOff, int M, int K) {
        int at;
        if (M < CacheWarm.MIN_ROWS || M > ALIGN_MAX_ROWS || K > ALIGN_MAX_K || !alignRows || (at = Aligned.floatOffset()) < 0) return null;
        float[] s = ALIGNED_ROWS.get();
        if (s.length < at + M * K) {
            s = new float[at + M * K];
            ALIGNED_ROWS.set(s);
        }
        System.arraycopy(a, aOff, s, at, M * K);
        return s;
    }

    /** The shortest run of column groups a thread takes in {@link #nt}'s several-row products. */
    private static final int TAIL_GROUPS = 2;

    /** Blocks of column groups per thread that {@link #nt} hands out: enough to even out a late start. */
    static final int BLOCKS_PER_THREAD = 16;

    /** Column groups {@code [g0, g1)} ({@code g} rows of B each) of {@link #nt}. */
    private static void ntGroups(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate, float[] bias, boolean gelu, int g, int gr0, int gr1) {
        // an eight-row pass: each chunk of B is first pulled into cache, then computed (CacheWarm);
        // the lighter passes of one to four rows were measured slower with it
        int chunk = M < CacheWarm.MIN_ROWS ? 0 : CacheWarm.rowsPerChunk(4L * g * K);
        if (chunk == 0) {
            ntChunk(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, bias, g, gr0, gr1);
            if (gelu) GeluKernel.forwardBlock(c, cOff, N, M, gr0 * g, Math.min(N, gr1 * g));
            return;
        }
        for (int c0 = gr0; c0 < gr1; c0 += chunk) {
            int c1 = Math.min(gr1, c0 + chunk);
            CacheWarm.touch(b, bOff + c0 * g * K, bOff + Math.min(N, c1 * g) * K);
            ntChunk(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, bias, g, c0, c1);
            if (gelu) GeluKernel.forwardBlock(c, cOff, N, M, c0 * g, Math.min(N, c1 * g));
        }
    }

    /** {@link #ntGroups} on groups already warmed (or not). */
    private static void ntChunk(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, boolean accumulate, float[] bias, int g, int gr0, int gr1) {
        float[] lanes = lanes();
        for (int gi = gr0; gi < gr1; gi++) {
            int n = gi * g, br = bOff + n * K;
            if (N - n < g) {
                // the last rows of B when N is not a multiple of the group
                for (int m = 0; m < M; m++) {
                    for (int r = n; r < N; r++) {
                        rows1x1(a, aOff + m * K, K, b, bOff + r * K, lanes);
                        finish(lanes, 1, 1, 1, a, aOff + m * K, K, b, bOff + r * K, c, cOff + m * N + r, N, accumulate, bias, r);
                    }
                }
                continue;
            }
            for (int m = 0; m < M; m += PASS_ROWS) {
                int mr = Math.min(PASS_ROWS, M - m), ar = aOff + m * K;
                int rows = mr > 4 ? 8 : mr > 2 ? 4 : 2; // fewer real rows repeat the last (one pass all the same)
                switch (rows) {
                    case 8 -> rows8x3(a, ar, mr, K, b, br, lanes);
                    case 4 -> rows4x3(a, ar, mr, K, b, br, lanes);
                    default -> rows2x3(a, ar, mr, K, b, br, lanes);
                }
                finish(lanes, GROUP, mr, GROUP, a, ar, K, b, br, c, cOff + m * N + n, N, accumulate, bias, n);
            }
        }
    }

    /**
     * The end of every element's dot product, after the pass left the lane sums of its
     * accumulators (element (i, j) of a pass is accumulator {@code i·g + j}) where {@link #passSum}
     * reads them: the columns past the last whole vector by scalar fused multiply-adds in order,
     * then the store, plus {@code bias[bn + j]} for column j when there is a bias. Only the first
     * {@code mr} rows and {@code gr} columns are real.
     */
    private static void finish(float[] lanes, int g, int mr, int gr, float[] a, int ar, int K,
                               float[] b, int br, float[] c, int ci, int N, boolean accumulate, float[] bias, int bn) {
        int whole = K - K % L;
        if (whole == K && !accumulate && mr == PASS_ROWS && gr == GROUP && g == GROUP && L == 16) {
            store8x3(lanes, c, ci, N);
            if (bias != null) addBias(c, ci, N, PASS_ROWS, GROUP, bias, bn);
            return;
        }
        if (whole == K && !accumulate) { // (every decode product: just the stores)
            for (int i = 0; i < mr; i++) {
                for (int j = 0, o = ci + i * N, e = i * g; j < gr; j++) c[o + j] = lanes[SUMS + SUM_AT[e + j]];
            }
            if (bias != null) addBias(c, ci, N, mr, gr, bias, bn);
            return;
        }
        for (int i = 0; i < mr; i++) {
            for (int j = 0; j < gr; j++) {
                float s = passSum(lanes, i * g + j);
                int ai = ar + i * K, bj = br + j * K;
                for (int k = whole; k < K; k++) s = Math.fma(a[ai + k], b[bj + k], s);
                int o = ci + i * N + j;
                c[o] = accumulate ? c[o] + s : bias != null ? s + bias[bn + j] : s;
            }
        }
    }

    /** {@code c[ci + i·N + j] += bias[bn + j]} for a pass's {@code rows} by {@code cols} block, while it is in L1. */
    private static void addBias(float[] c, int ci, int N, int rows, int cols, float[] bias, int bn) {
        for (int i = 0, o = ci; i < rows; i++, o += N) {
            for (int j = 0; j < cols; j++) c[o + j] += bias[bn + j];
        }
    }

    /**
     * {@link #finish}'s stores for a whole eight-row pass with 16 lanes, written out with the
     * places of the sums as constants: with the weights in cache, the general loop (a table
     * lookup and checks per element) took a sixth of the pass's time, and written out the eight-row
     * products of a decode step took 4% less CPU (tools/DecodeAB, one thread).
     */
    private static void store8x3(float[] lanes, float[] c, int ci, int N) {
        int o0 = ci;
        c[o0 + 0] = lanes[S0]; c[o0 + 1] = lanes[S1]; c[o0 + 2] = lanes[S2];
        int o1 = ci + 1 * N;
        c[o1 + 0] = lanes[S3]; c[o1 + 1] = lanes[S4]; c[o1 + 2] = lanes[S5];
        int o2 = ci + 2 * N;
        c[o2 + 0] = lanes[S6]; c[o2 + 1] = lanes[S7]; c[o2 + 2] = lanes[S8];
        int o3 = ci + 3 * N;
        c[o3 + 0] = lanes[S9]; c[o3 + 1] = lanes[S10]; c[o3 + 2] = lanes[S11];
        int o4 = ci + 4 * N;
        c[o4 + 0] = lanes[S12]; c[o4 + 1] = lanes[S13]; c[o4 + 2] = lanes[S14];
        int o5 = ci + 5 * N;
        c[o5 + 0] = lanes[S15]; c[o5 + 1] = lanes[S16]; c[o5 + 2] = lanes[S17];
        int o6 = ci + 6 * N;
        c[o6 + 0] = lanes[S18]; c[o6 + 1] = lanes[S19]; c[o6 + 2] = lanes[S20];
        int o7 = ci + 7 * N;
        c[o7 + 0] = lanes[S21]; c[o7 + 1] = lanes[S22]; c[o7 + 2] = lanes[S23];
    }

    /** Scratch for one thread's passes: the lanes of up to 24 accumulators and their sums. */
    static float[] scratch() {
        return new float[24 * L + 3 * SUMS_STRIDE];
    }

    /** This thread's {@link #scratch}, made once (decoding calls the kernels dozens of times a token). */
    static float[] lanes() {
        return LANES.get();
    }

    /** The lane sums of a pass's first {@code count} accumulators (at {@code lanes[e·L ..]}), for {@link #passSum}. */
    static void sumPass(float[] lanes, int count) {
        for (int e = 0; e < count; e += 8) sumLanes8(lanes, e * L, lanes, SUMS + (e >> 3) * SUMS_STRIDE);
    }

    /** Where in the scratch the lane sums of a pass go (after the lanes of 24 accumulators). */
    static final int SUMS = 24 * L;

    /** Accumulator {@code e}'s lane sum after {@link #sumPass}. */
    static float passSum(float[] lanes, int e) {
        return lanes[SUMS + sumAt(e)];
    }

    /** One dot product's accumulator (rows of B left over past the last whole group). */
    static void rows1x1(float[] a, int ar, int K, float[] b, int br, float[] lanes) {
        FloatVector s = FloatVector.zero(F);
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            s = FloatVector.fromArray(F, b, br + k).fma(FloatVector.fromArray(F, a, ar + k), s);
        }
        s.intoArray(lanes, 0);
        sumPass(lanes, 1);
    }

    /**
     * The lane sums of eight accumulators at {@code lanes[off + e·L ..]} (e = 0..7) into
     * {@code out[oo + e]}, each by the tree of {@link #treeSum} (lane i plus lane i + w for w = L/2,
     * L/4, ... 1). With 8 or 16 lanes the eight trees run side by side in vector registers: each
     * step adds the halves of two accumulators at once (the halves of one move into the lanes the
     * other has finished with), so eight sums cost 7 such steps instead of 8·log2(L) shuffles.
     * Addition is commutative bit for bit, so the same pairs give the same sums as one tree at a time.
     */
    static void sumLanes8(float[] lanes, int off, float[] out, int oo) {
        if (L != 8 && L != 16) {
            for (int e = 0; e < 8; e++) out[oo + e] = treeSum(lanes, off + e * L);
            return;
        }
        FloatVector v0 = FloatVector.fromArray(F, lanes, off), v1 = FloatVector.fromArray(F, lanes, off + L);
        FloatVector v2 = FloatVector.fromArray(F, lanes, off + 2 * L), v3 = FloatVector.fromArray(F, lanes, off + 3 * L);
        FloatVector v4 = FloatVector.fromArray(F, lanes, off + 4 * L), v5 = FloatVector.fromArray(F, lanes, off + 5 * L);
        FloatVector v6 = FloatVector.fromArray(F, lanes, off + 6 * L), v7 = FloatVector.fromArray(F, lanes, off + 7 * L);
        // step w: lanes with bit w clear get the first vector's lane i + lane (i ^ w), lanes with it set the second's
        FloatVector u0 = v0.blend(v1, BIT0).add(v1.blend(v0, BIT0).rearrange(XOR0));
        FloatVector u1 = v2.blend(v3, BIT0).add(v3.blend(v2, BIT0).rearrange(XOR0));
        FloatVector u2 = v4.blend(v5, BIT0).add(v5.blend(v4, BIT0).rearrange(XOR0));
        FloatVector u3 = v6.blend(v7, BIT0).add(v7.blend(v6, BIT0).rearrange(XOR0));
        FloatVector t0 = u0.blend(u1, BIT1).add(u1.blend(u0, BIT1).rearrange(XOR1));
        FloatVector t1 = u2.blend(u3, BIT1).add(u3.blend(u2, BIT1).rearrange(XOR1));
        FloatVector r = t0.blend(t1, BIT2).add(t1.blend(t0, BIT2).rearrange(XOR2));
        if (L == 16) r = r.add(r.rearrange(XOR3));
        // accumulator e = 4·e2 + 2·e1 + e0 ends in the lanes whose bits L/2, L/4, L/8 are e0, e1, e2
        r.intoArray(out, oo);
    }

    /** Where {@link #sumLanes8} leaves the sum of accumulator {@code e} (0..23) of a pass, from the start of its output. */
    static int sumAt(int e) {
        return (e >> 3) * SUMS_STRIDE + OWNER_LANE[e & 7];
    }

    /** {@link #sumLanes8}' output per eight accumulators. */
    private static final int SUMS_STRIDE = Math.max(8, L);
    private static final int[] OWNER_LANE = new int[8];
    /** {@link #sumAt} of the 24 accumulators of a pass. */
    static final int[] SUM_AT = new int[24];
    /** The masks and shuffles of {@link #sumLanes8}' steps (also for passes that write the steps out). */
    static final VectorMask<Float> BIT0 = bit(0), BIT1 = bit(1), BIT2 = bit(2);
    static final VectorShuffle<Float> XOR0 = xor(0), XOR1 = xor(1), XOR2 = xor(2), XOR3 = xor(3);

    static {
        for (int e = 0; e < 8; e++) {
            OWNER_LANE[e] = L != 8 && L != 16 ? e : (e & 1) * (L / 2) + (e >> 1 & 1) * (L / 4) + (e >> 2 & 1) * (L / 8);
        }
        for (int e = 0; e < 24; e++) SUM_AT[e] = sumAt(e);
    }

    /** Where {@link #sumLanes8} leaves the sums of a pass's 24 accumulators in the scratch (for {@link #store8x3}, which only 16 lanes use). */
    private static final int S0 = SUMS + sumAt(0), S1 = SUMS + sumAt(1), S2 = SUMS + sumAt(2), S3 = SUMS + sumAt(3), S4 = SUMS + sumAt(4), S5 = SUMS + sumAt(5), S6 = SUMS + sumAt(6), S7 = SUMS + sumAt(7), S8 = SUMS + sumAt(8), S9 = SUMS + sumAt(9), S10 = SUMS + sumAt(10), S11 = SUMS + sumAt(11),
        S12 = SUMS + sumAt(12), S13 = SUMS + sumAt(13), S14 = SUMS + sumAt(14), S15 = SUMS + sumAt(15), S16 = SUMS + sumAt(16), S17 = SUMS + sumAt(17), S18 = SUMS + sumAt(18), S19 = SUMS + sumAt(19), S20 = SUMS + sumAt(20), S21 = SUMS + sumAt(21), S22 = SUMS + sumAt(22), S23 = SUMS + sumAt(23);

    /** Lane bit of reduction step s: L/2, L/4, ... (1 past the last). */
    private static int stepBit(int s) {
        return Math.max(1, L >> (s + 1));
    }

    private static VectorMask<Float> bit(int s) {
        boolean[] bit = new boolean[L];
        for (int i = 0; i < L; i++) bit[i] = (i & stepBit(s)) != 0;
        return VectorMask.fromArray(F, bit, 0);
    }

    private static VectorShuffle<Float> xor(int s) {
        int w = stepBit(s);
        return VectorShuffle.fromOp(F, i -> i ^ w);
    }

    /** The lanes of {@code x[off .. off+L)} summed as a tree: lane i plus lane i + w for w = L/2, L/4, ... 1; lane 0. */
    static float treeSum(float[] x, int off) {
        float[] t = java.util.Arrays.copyOfRange(x, off, off + L);
        for (int w = L / 2; w >= 1; w /= 2) {
            for (int i = 0; i < w; i++) t[i] += t[i + w];
        }
        return t[0];
    }

    /**
     * The operations every path gives each C element, one at a time in plain Java (the definition
     * that tests hold the kernels to): one fused multiply-add chain per lane over the whole vectors
     * of the row, {@link #treeSum} of the lanes, then the columns past the last whole vector.
     */
    static float dotReference(float[] a, int ar, float[] b, int br, int K) {
        float[] lanes = new float[L];
        int whole = K - K % L;
        for (int k = 0; k < whole; k += L) {
            for (int i = 0; i < L; i++) lanes[i] = Math.fma(b[br + k + i], a[ar + k + i], lanes[i]);
        }
        float s = treeSum(lanes, 0);
        for (int k = whole; k < K; k++) s = Math.fma(a[ar + k], b[br + k], s);
        return s;
    }

    // ---- the passes: R rows of A by G rows of B, one accumulator per element, written out (no
    // arrays of vectors: C2 keeps the R·G accumulators in registers) ------------------------------

    private static void rows8x3(float[] a, int ar, int mr, int K, float[] b, int br, float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K, a2 = ar + Math.min(2, mr - 1) * K, a3 = ar + Math.min(3, mr - 1) * K;
        int a4 = ar + Math.min(4, mr - 1) * K, a5 = ar + Math.min(5, mr - 1) * K, a6 = ar + Math.min(6, mr - 1) * K, a7 = ar + Math.min(7, mr - 1) * K;
        int b0 = br, b1 = br + K, b2 = br + 2 * K;
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
            FloatVector w0 = FloatVector.fromArray(F, b, b0 + k);
            FloatVector w1 = FloatVector.fromArray(F, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(F, b, b2 + k);
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
        if (L == 8 || L == 16) {
            // the lane sums straight from the registers, sumLanes8's steps written out (so its bits; in
            // helper methods C2 did not know the vectors' class and boxed them)
            FloatVector u00 = s00.blend(s01, BIT0).add(s01.blend(s00, BIT0).rearrange(XOR0)), u01 = s02.blend(s10, BIT0).add(s10.blend(s02, BIT0).rearrange(XOR0));
            FloatVector u02 = s11.blend(s12, BIT0).add(s12.blend(s11, BIT0).rearrange(XOR0)), u03 = s20.blend(s21, BIT0).add(s21.blend(s20, BIT0).rearrange(XOR0));
            FloatVector t00 = u00.blend(u01, BIT1).add(u01.blend(u00, BIT1).rearrange(XOR1)), t01 = u02.blend(u03, BIT1).add(u03.blend(u02, BIT1).rearrange(XOR1));
            FloatVector r0 = t00.blend(t01, BIT2).add(t01.blend(t00, BIT2).rearrange(XOR2));
            (L == 16 ? r0.add(r0.rearrange(XOR3)) : r0).intoArray(lanes, SUMS);
            FloatVector u10 = s22.blend(s30, BIT0).add(s30.blend(s22, BIT0).rearrange(XOR0)), u11 = s31.blend(s32, BIT0).add(s32.blend(s31, BIT0).rearrange(XOR0));
            FloatVector u12 = s40.blend(s41, BIT0).add(s41.blend(s40, BIT0).rearrange(XOR0)), u13 = s42.blend(s50, BIT0).add(s50.blend(s42, BIT0).rearrange(XOR0));
            FloatVector t10 = u10.blend(u11, BIT1).add(u11.blend(u10, BIT1).rearrange(XOR1)), t11 = u12.blend(u13, BIT1).add(u13.blend(u12, BIT1).rearrange(XOR1));
            FloatVector r1 = t10.blend(t11, BIT2).add(t11.blend(t10, BIT2).rearrange(XOR2));
            (L == 16 ? r1.add(r1.rearrange(XOR3)) : r1).intoArray(lanes, SUMS + SUMS_STRIDE);
            FloatVector u20 = s51.blend(s52, BIT0).add(s52.blend(s51, BIT0).rearrange(XOR0)), u21 = s60.blend(s61, BIT0).add(s61.blend(s60, BIT0).rearrange(XOR0));
            FloatVector u22 = s62.blend(s70, BIT0).add(s70.blend(s62, BIT0).rearrange(XOR0)), u23 = s71.blend(s72, BIT0).add(s72.blend(s71, BIT0).rearrange(XOR0));
            FloatVector t20 = u20.blend(u21, BIT1).add(u21.blend(u20, BIT1).rearrange(XOR1)), t21 = u22.blend(u23, BIT1).add(u23.blend(u22, BIT1).rearrange(XOR1));
            FloatVector r2 = t20.blend(t21, BIT2).add(t21.blend(t20, BIT2).rearrange(XOR2));
            (L == 16 ? r2.add(r2.rearrange(XOR3)) : r2).intoArray(lanes, SUMS + 2 * SUMS_STRIDE);
            return;
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L);
        s10.intoArray(lanes, 3 * L); s11.intoArray(lanes, 4 * L); s12.intoArray(lanes, 5 * L);
        s20.intoArray(lanes, 6 * L); s21.intoArray(lanes, 7 * L); s22.intoArray(lanes, 8 * L);
        s30.intoArray(lanes, 9 * L); s31.intoArray(lanes, 10 * L); s32.intoArray(lanes, 11 * L);
        s40.intoArray(lanes, 12 * L); s41.intoArray(lanes, 13 * L); s42.intoArray(lanes, 14 * L);
        s50.intoArray(lanes, 15 * L); s51.intoArray(lanes, 16 * L); s52.intoArray(lanes, 17 * L);
        s60.intoArray(lanes, 18 * L); s61.intoArray(lanes, 19 * L); s62.intoArray(lanes, 20 * L);
        s70.intoArray(lanes, 21 * L); s71.intoArray(lanes, 22 * L); s72.intoArray(lanes, 23 * L);
        sumPass(lanes, 24);
    }

    private static void rows4x3(float[] a, int ar, int mr, int K, float[] b, int br, float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K, a2 = ar + Math.min(2, mr - 1) * K, a3 = ar + Math.min(3, mr - 1) * K;
        int b0 = br, b1 = br + K, b2 = br + 2 * K;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z;
        FloatVector s10 = z, s11 = z, s12 = z;
        FloatVector s20 = z, s21 = z, s22 = z;
        FloatVector s30 = z, s31 = z, s32 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            FloatVector w0 = FloatVector.fromArray(F, b, b0 + k);
            FloatVector w1 = FloatVector.fromArray(F, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(F, b, b2 + k);
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
        sumPass(lanes, 12);
    }

    private static void rows2x3(float[] a, int ar, int mr, int K, float[] b, int br, float[] lanes) {
        // rows of A past mr repeat the last real one (their sums are computed but not stored)
        int a0 = ar, a1 = ar + Math.min(1, mr - 1) * K;
        int b0 = br, b1 = br + K, b2 = br + 2 * K;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z;
        FloatVector s10 = z, s11 = z, s12 = z;
        for (int k = 0, whole = K - K % L; k < whole; k += L) {
            FloatVector w0 = FloatVector.fromArray(F, b, b0 + k);
            FloatVector w1 = FloatVector.fromArray(F, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(F, b, b2 + k);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02);
            x = FloatVector.fromArray(F, a, a1 + k);
            s10 = w0.fma(x, s10); s11 = w1.fma(x, s11); s12 = w2.fma(x, s12);
        }
        s00.intoArray(lanes, 0 * L); s01.intoArray(lanes, 1 * L); s02.intoArray(lanes, 2 * L);
        s10.intoArray(lanes, 3 * L); s11.intoArray(lanes, 4 * L); s12.intoArray(lanes, 5 * L);
        sumPass(lanes, 6);
    }
}
