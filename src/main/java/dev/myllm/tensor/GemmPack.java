package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.L;
import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing of A and B blocks into the contiguous, zero-padded micro-panels the micro-kernel reads
 * with unit stride. Operands are described by element strides, {@code A(m,k) = a[aOff + m·ars + k·acs]}
 * and {@code B(k,n) = b[bOff + k·brs + n·bcs]}, so one packer serves all three products.
 */
final class GemmPack {
    private static final VectorSpecies<Float> F = Simd.F;

    private GemmPack() {
    }

    /**
     * Packs {@code A[m0 .. m0+mc, pc .. pc+kc]} into {@code ceil(mc/MR)} panels from {@code dstOff}, each
     * {@code (kc, MR)} and {@code kc·MR} floats long; rows past {@code mc} are zeros.
     */
    static void packA(float[] a, int aOff, int ars, int acs, int m0, int mc, int pc, int kc, float[] dst, int dstOff) {
        int r0 = 0;
        if (ars == 1 && Simd.ENABLED && TWO_RUNS) {
            // A is (K, M) (the TN product): its whole pairs of panels in tiles, the rest below
            r0 = mc / (2 * MR) * (2 * MR);
            packTn(a, aOff + m0 + pc * acs, acs, r0, kc, dst, dstOff);
        }
        for (int r = r0, panel = dstOff + r0 * kc; r < mc; r += MR, panel += kc * MR) {
            int rows = Math.min(MR, mc - r);
            if (rows < MR) Arrays.fill(dst, panel, panel + kc * MR, 0f);
            int src = aOff + (m0 + r) * ars + pc * acs;
            if (ars == 1) {
                // A is (K, M) (the TN product), a panel not in packTn's pairs: MR consecutive floats per k
                if (rows == MR) {
                    copyRuns(Simd.ENABLED, a, src, acs, kc, dst, panel);
                } else {
                    for (int p = 0; p < kc; p++) System.arraycopy(a, src + p * acs, dst, panel + p * MR, rows);
                }
            } else {
                // A is (M, K): the panel is a transpose. With 16-lane vectors, 8 × 16 blocks through
                // registers, reading the 8 rows side by side (one core, loaded machine: a cold
                // (256, 50257) operand packs 2.2× faster than row by row, a (256, 3072) one 1.6×); the
                // rest row by row: reads run along A's rows and the strided stores stay inside the
                // L1-resident panel (2.3× faster than filling the panel with hardware gathers).
                int p0 = 0;
                if (acs == 1 && rows == MR && PANEL_TRANSPOSE) {
                    // 16 k steps of the 8 rows at a time through registers: 128 consecutive floats of the panel
                    for (; p0 + L <= kc; p0 += L) transpose8x16(a, src + p0, ars, dst, panel + p0 * MR);
                }
                for (int i = 0; i < rows; i++) {
                    int s = src + i * ars, d = panel + i;
                    if (acs == 1) for (int p = p0; p < kc; p++) dst[d + p * MR] = a[s + p]; // a stride C2 can see
                    else for (int p = p0; p < kc; p++) dst[d + p * MR] = a[s + p * acs];
                }
            }
        }
    }

    /** Columns of A per tile of {@link #packTn}: 12 panels (a Zen 4 core with huge pages: 64 were 1.1× slower on (256, 50257), 128 1.45× on (256, 3072)). */
    private static final int TN_TILE = 96;

    /**
     * {@code cols} columns (a multiple of 16) of a TN operand, {@code A(m, k) = a[src + k·acs + m]},
     * as {@code cols/MR} panels from {@code d}: tile by tile of {@link #TN_TILE} columns, two k
     * steps at a time along their rows, 16 columns of both as two whole loads and two two-vector
     * permutes into two k steps of each of two panels. Along rows in tiles, not panel by panel:
     * against a 256-bit load and store per 8 floats panel by panel (the code before, one core, the
     * launcher's flags), A of (256, 50257) packed in blocks of 1024 columns (the tied head's
     * gradient) 1.44× faster, all of (1024, 3072) 2.3×, (1024, 768) 1.08×; panel by panel with
     * {@link #twoRuns} was 1.4× slower than 256 bits on the first.
     */
    private static void packTn(float[] a, int src, int acs, int cols, int kc, float[] dst, int d) {
        for (int c0 = 0; c0 < cols; c0 += TN_TILE) {
            int c1 = Math.min(cols, c0 + TN_TILE), p = 0;
            for (; p + 1 < kc; p += 2) {
                int s0 = src + p * acs, s1 = s0 + acs;
                for (int c = c0; c < c1; c += 2 * MR) {
                    FloatVector x0 = FloatVector.fromArray(F, a, s0 + c), x1 = FloatVector.fromArray(F, a, s1 + c);
                    FIRST_HALVES.selectFrom(x0, x1).intoArray(dst, d + c * kc + p * MR);
                    SECOND_HALVES.selectFrom(x0, x1).intoArray(dst, d + (c + MR) * kc + p * MR);
                }
            }
            for (; p < kc; p++) {
                for (int c = c0; c < c1; c += MR) run(true, a, src + p * acs + c, dst, d + c * kc + p * MR);
            }
        }
    }

    /**
     * Lane sources of two-vector permutes (16 lanes only): lanes 0-7 of the first vector then lanes
     * 0-7 of the second ({@code FIRST_HALVES}), and the same of lanes 8-15 ({@code SECOND_HALVES}).
     */
    static final FloatVector FIRST_HALVES = halves(0), SECOND_HALVES = halves(MR);

    private static FloatVector halves(int from) {
        float[] idx = new float[L];
        for (int i = 0; i < L; i++) idx[i] = i < MR ? from + i : L + from + i - MR;
        return FloatVector.fromArray(F, idx, 0);
    }

    /**
     * {@code dst[d + p·MR + i] = a[s + p·stride + i]} for p &lt; n, i &lt; MR: n runs of MR = 8 floats
     * copied into consecutive ones (a loop of known length: a System.arraycopy call per run measured
     * 1.7× slower), two runs a vector with 16 lanes ({@link #twoRuns}).
     */
    static void copyRuns(boolean simd, float[] a, int s, int stride, int n, float[] dst, int d) {
        int p = 0;
        if (simd && TWO_RUNS) {
            for (; p + 1 < n; p += 2) twoRuns(a, s + p * stride, s + (p + 1) * stride, dst, d + p * MR);
        }
        for (; p < n; p++) run(simd, a, s + p * stride, dst, d + p * MR);
    }

    /** Whether {@link #twoRuns} applies: {@link Simd#F} holds two runs of MR floats. */
    static final boolean TWO_RUNS = L == 2 * MR;
    /** Lanes 0 to 7 of {@link Simd#F} (all of them with 8 lanes): one run. */
    private static final VectorMask<Float> FIRST_RUN = F.indexInRange(0, Math.min(MR, L));
    /** Lanes 8 to 15 of {@link Simd#F} with 16 lanes: the second of two runs. */
    private static final VectorMask<Float> SECOND_RUN = VectorMask.fromLong(F, TWO_RUNS ? 0xFF00L : 0L);

    /**
     * {@code dst[d .. d+8] = a[s0 .. s0+8]}, {@code dst[d+8 .. d+16] = a[s1 .. s1+8]} ({@link
     * #TWO_RUNS} only): two masked loads, the second from {@code s1 − 8} into the upper lanes, a
     * blend and one store: as fast as two 256-bit loads and stores where the source is in L2 (a
     * masked store per run was 1.4× slower). Not {@code FloatVector.SPECIES_256}: see {@link Simd#F}.
     */
    static void twoRuns(float[] a, int s0, int s1, float[] dst, int d) {
        FloatVector.fromArray(F, a, s0, FIRST_RUN).blend(FloatVector.fromArray(F, a, s1 - MR, SECOND_RUN), SECOND_RUN).intoArray(dst, d);
    }

    /** {@code dst[d .. d+8] = a[s .. s+8]}: one run, masked to 8 lanes with 16 of them, scalar without SIMD or with fewer than 8 lanes. */
    static void run(boolean simd, float[] a, int s, float[] dst, int d) {
        if (simd && L == MR) {
            FloatVector.fromArray(F, a, s).intoArray(dst, d);
        } else if (simd && L > MR) {
            FloatVector.fromArray(F, a, s, FIRST_RUN).intoArray(dst, d, FIRST_RUN);
        } else {
            for (int i = 0; i < MR; i++) dst[d + i] = a[s + i];
        }
    }

    /**
     * Packs {@code B[pc .. pc+kc, n0 .. n0+nc]} into {@code ceil(nc/NR)} panels from {@code dstOff}, each
     * {@code (kc, NR)} and {@code kc·NR} floats long; columns past {@code nc} are zeros.
     */
    static void packB(Object bs, int bOff, int brs, int bcs, int n0, int nc, int pc, int kc, float[] dst, int dstOff) {
        if (bcs == F16_PANELS || bcs == BF16_PANELS) {
            packBHalves((short[]) bs, bcs == BF16_PANELS, bOff, brs, n0, nc, pc, kc, dst, dstOff);
            return;
        }
        float[] b = (float[]) bs;
        for (int j0 = 0, panel = dstOff; j0 < nc; j0 += NR, panel += kc * NR) {
            int cols = Math.min(NR, nc - j0);
            if (cols < NR) Arrays.fill(dst, panel, panel + kc * NR, 0f);
            int src = bOff + pc * brs + (n0 + j0) * bcs;
            if (bcs == 1 && cols == NR && NR % L == 0) {
                // B is (K, N) (the NN and TN products): NR consecutive floats per k, a plain copy
                // done with vectors (System.arraycopy's call costs more than copying 32 floats)
                for (int p = 0; p < kc; p++) {
                    int s0 = src + p * brs, d = panel + p * NR;
                    for (int v = 0; v < NR; v += L) FloatVector.fromArray(F, b, s0 + v).intoArray(dst, d + v);
                }
            } else if (bcs == 1) {
                for (int p = 0; p < kc; p++) System.arraycopy(b, src + p * brs, dst, panel + p * NR, cols);
            } else if (brs == 1 && cols == NR && VECTOR_TRANSPOSE) {
                // B is (N, K) (the NT product) and the panel is its transpose: 16 × 16 blocks through
                // registers, then the last kc % 16 steps element by element. Sixteen rows of B at a
                // time, each read along k to the end before the next sixteen: the hardware prefetchers
                // follow 16 streams, where 32 at once measured 1.6× slower from memory (a 3072 × 768 weight)
                for (int j = 0; j < NR; j += 16) {
                    int p = 0;
                    for (; p + 16 <= kc; p += 16) transpose16(b, src + j * bcs + p, bcs, dst, panel + p * NR + j, NR);
                    for (; p < kc; p++) {
                        for (int jj = j; jj < j + 16; jj++) dst[panel + p * NR + jj] = b[src + jj * bcs + p];
                    }
                }
            } else {
                // B is (N, K) (the NT product): rows of B are columns of the panel, copied row by row
                // (measured 2.6× faster than hardware gathers down the panel's rows)
                for (int j = 0; j < cols; j++) {
                    int s = src + j * bcs, d = panel + j;
                    if (brs == 1) for (int p = 0; p < kc; p++) dst[d + p * NR] = b[s + p]; // a stride C2 can see
                    else for (int p = 0; p < kc; p++) dst[d + p * NR] = b[s + p * brs];
                }
            }
        }
    }

    /** {@link #packB}'s column strides for F16 and BF16 matrices in panels of halves ({@link HalfLayout.Layout#PANELS}, a {@code short[]}). */
    static final int F16_PANELS = -1, BF16_PANELS = -2;

    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final jdk.incubator.vector.VectorSpecies<Short> S = jdk.incubator.vector.VectorSpecies.of(short.class,
            jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, 16 * L)));

    /**
     * {@link #packB} from panels of halves ({@link PanelLayout}: a packed row's vectors are runs of a
     * panel's rows, the columns {@code n0 + j} being multiples of the lanes and W of them, so no run
     * crosses a panel; other columns one by one), widened exactly (BF16: a shift; F16: its bits in
     * float position times 2^112), so the packed floats are those of the widened float32 matrix.
     */
    private static void packBHalves(short[] w, boolean bf, int base, int K, int n0, int nc, int pc, int kc, float[] dst, int dstOff) {
        int W = PanelLayout.W, sh = bf ? 16 : 13, mask = bf ? -1 : 0x8FFFE000;
        float scale = bf ? 1f : 0x1p112f;
        for (int j0 = 0, panel = dstOff; j0 < nc; j0 += NR, panel += kc * NR) {
            int cols = Math.min(NR, nc - j0);
            if (cols < NR) Arrays.fill(dst, panel, panel + kc * NR, 0f);
            for (int v = 0; v < cols; v += L) {
                int c = n0 + j0 + v, n = Math.min(L, cols - v), d = panel + v;
                int src = base + (c / W) * K * W + pc * W + c % W;
                if (n == L && c % W + L <= W && S.length() == L) {
                    // the mask and scale as vectors made here: and(int) and mul(float) broadcast through
                    // more calls than C2 inlines below a deep caller (HalfPanelChains)
                    var mk = jdk.incubator.vector.IntVector.broadcast(I, mask);
                    var sc = FloatVector.broadcast(F, scale);
                    for (int p = 0; p < kc; p++) {
                        var i = (jdk.incubator.vector.IntVector) jdk.incubator.vector.ShortVector.fromArray(S, w, src + p * W)
                                .convertShape(jdk.incubator.vector.VectorOperators.S2I, I, 0);
                        i.lanewise(jdk.incubator.vector.VectorOperators.LSHL, sh).and(mk).reinterpretAsFloats().mul(sc).intoArray(dst, d + p * NR);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        int s = base + ((c + i) / W) * K * W + pc * W + (c + i) % W;
                        for (int p = 0; p < kc; p++) dst[d + p * NR + i] = HalfLayout.widen(bf, w[s + p * W]);
                    }
                }
            }
        }
    }

    /** Whether {@link #packA} transposes an (M, K) operand's 8-row panels 16 k steps at a time in registers (16-lane vectors, MR = 8 only). */
    static final boolean PANEL_TRANSPOSE = L == 16 && MR == 8;
    /** Lane sources of the three stages of {@link #transpose8x16}, the first and second output of each. */
    private static final FloatVector[] PANEL_STAGES = panelStages();

    /**
     * Index vectors for {@link #transpose8x16}. The 8 rows × 16 k steps are labelled (i, p); stage s
     * pairs the vectors whose position differs in bit 2 − s and splits their 32 elements by bit
     * 3 − s of p, each output ordered by (p, i). After three stages vector v holds k steps 2v and
     * 2v + 1 with the rows in order: 16 consecutive floats of the panel.
     */
    private static FloatVector[] panelStages() {
        if (L != 16) return new FloatVector[0];
        int[][] label = new int[8][16]; // label = p·8 + i
        for (int i = 0; i < 8; i++) for (int p = 0; p < 16; p++) label[i][p] = p * 8 + i;
        FloatVector[] out = new FloatVector[6];
        for (int s = 0; s < 3; s++) {
            int h = 4 >> s, pbit = 8 >> s;
            int[][] next = new int[8][];
            for (int x = 0; x < 8; x++) {
                if ((x & h) != 0) continue;
                int[] both = new int[32];
                System.arraycopy(label[x], 0, both, 0, 16);
                System.arraycopy(label[x + h], 0, both, 16, 16);
                int[] sorted = both.clone();
                java.util.Arrays.sort(sorted); // (p, i) order
                int[] lo = java.util.Arrays.stream(sorted).filter(e -> ((e >> 3) & pbit) == 0).toArray();
                int[] hi = java.util.Arrays.stream(sorted).filter(e -> ((e >> 3) & pbit) != 0).toArray();
                float[] li = new float[16], hx = new float[16];
                for (int l = 0; l < 16; l++) {
                    li[l] = indexOf(both, lo[l]);
                    hx[l] = indexOf(both, hi[l]);
                }
                if (x == 0) {
                    out[2 * s] = FloatVector.fromArray(F, li, 0);
                    out[2 * s + 1] = FloatVector.fromArray(F, hx, 0);
                } else if (!java.util.Arrays.equals(li, out[2 * s].toArray()) || !java.util.Arrays.equals(hx, out[2 * s + 1].toArray())) {
                    throw new AssertionError("transpose8x16: stage " + s + " differs between pairs");
                }
                next[x] = lo;
                next[x + h] = hi;
            }
            label = next;
        }
        return out;
    }

    private static int indexOf(int[] xs, int x) {
        for (int i = 0; i < xs.length; i++) if (xs[i] == x) return i;
        throw new AssertionError();
    }

    /**
     * {@code dst[d + p·8 + i] = a[s + i·ld + p]} for i &lt; 8, p &lt; 16: 8 rows of 16 k steps
     * transposed in registers (three stages of two-vector permutes) into 128 consecutive floats.
     */
    static void transpose8x16(float[] a, int s, int ld, float[] dst, int d) {
        FloatVector r0 = FloatVector.fromArray(F, a, s), r1 = FloatVector.fromArray(F, a, s + ld),
                    r2 = FloatVector.fromArray(F, a, s + 2 * ld), r3 = FloatVector.fromArray(F, a, s + 3 * ld),
                    r4 = FloatVector.fromArray(F, a, s + 4 * ld), r5 = FloatVector.fromArray(F, a, s + 5 * ld),
                    r6 = FloatVector.fromArray(F, a, s + 6 * ld), r7 = FloatVector.fromArray(F, a, s + 7 * ld);
        FloatVector lo = PANEL_STAGES[0], hi = PANEL_STAGES[1], x;
        x = lo.selectFrom(r0, r4); r4 = hi.selectFrom(r0, r4); r0 = x;
        x = lo.selectFrom(r1, r5); r5 = hi.selectFrom(r1, r5); r1 = x;
        x = lo.selectFrom(r2, r6); r6 = hi.selectFrom(r2, r6); r2 = x;
        x = lo.selectFrom(r3, r7); r7 = hi.selectFrom(r3, r7); r3 = x;
        lo = PANEL_STAGES[2];
        hi = PANEL_STAGES[3];
        x = lo.selectFrom(r0, r2); r2 = hi.selectFrom(r0, r2); r0 = x;
        x = lo.selectFrom(r1, r3); r3 = hi.selectFrom(r1, r3); r1 = x;
        x = lo.selectFrom(r4, r6); r6 = hi.selectFrom(r4, r6); r4 = x;
        x = lo.selectFrom(r5, r7); r7 = hi.selectFrom(r5, r7); r5 = x;
        lo = PANEL_STAGES[4];
        hi = PANEL_STAGES[5];
        x = lo.selectFrom(r0, r1); r1 = hi.selectFrom(r0, r1); r0 = x;
        x = lo.selectFrom(r2, r3); r3 = hi.selectFrom(r2, r3); r2 = x;
        x = lo.selectFrom(r4, r5); r5 = hi.selectFrom(r4, r5); r4 = x;
        x = lo.selectFrom(r6, r7); r7 = hi.selectFrom(r6, r7); r6 = x;
        r0.intoArray(dst, d);
        r1.intoArray(dst, d + 16);
        r2.intoArray(dst, d + 32);
        r3.intoArray(dst, d + 48);
        r4.intoArray(dst, d + 64);
        r5.intoArray(dst, d + 80);
        r6.intoArray(dst, d + 96);
        r7.intoArray(dst, d + 112);
    }

    /** Whether {@link #packB} transposes an (N, K) operand with 16 × 16 register transposes (16-lane vectors only). */
    static final boolean VECTOR_TRANSPOSE = L == 16 && NR % 16 == 0;
    private static final FloatVector LO8 = transposeIndex(8, false), HI8 = transposeIndex(8, true);
    private static final FloatVector LO4 = transposeIndex(4, false), HI4 = transposeIndex(4, true);
    private static final FloatVector LO2 = transposeIndex(2, false), HI2 = transposeIndex(2, true);
    private static final FloatVector LO1 = transposeIndex(1, false), HI1 = transposeIndex(1, true);

    /**
     * Lane sources of one stage of the 16 × 16 transpose: rows i and i+h (i with bit h clear) swap
     * their off-diagonal h-lane blocks. As indexes into the pair (row i, row i+h), 16 and up naming
     * row i+h's lanes: row i keeps its lanes with bit h clear and takes row i+h's lanes l-h for the
     * others; row i+h takes row i's lanes l+h and keeps its own.
     */
    private static FloatVector transposeIndex(int h, boolean second) {
        float[] idx = new float[L];
        for (int l = 0; l < L; l++) {
            boolean clear = (l & h) == 0;
            idx[l] = second ? (clear ? l + h : L + l) : (clear ? l : L + l - h);
        }
        return FloatVector.fromArray(F, idx, 0);
    }

    /**
     * {@code dst[d + p·ds + j] = b[s + j·ld + p]} for j, p &lt; 16: a 16 × 16 block transposed in
     * registers, four stages of two-vector permutes (log2 16), written out with every vector in a
     * local so nothing is boxed.
     */
    static void transpose16(float[] b, int s, int ld, float[] dst, int d, int ds) {
        FloatVector r0 = FloatVector.fromArray(F, b, s), r1 = FloatVector.fromArray(F, b, s + 1 * ld),
                    r2 = FloatVector.fromArray(F, b, s + 2 * ld), r3 = FloatVector.fromArray(F, b, s + 3 * ld),
                    r4 = FloatVector.fromArray(F, b, s + 4 * ld), r5 = FloatVector.fromArray(F, b, s + 5 * ld),
                    r6 = FloatVector.fromArray(F, b, s + 6 * ld), r7 = FloatVector.fromArray(F, b, s + 7 * ld),
                    r8 = FloatVector.fromArray(F, b, s + 8 * ld), r9 = FloatVector.fromArray(F, b, s + 9 * ld),
                    r10 = FloatVector.fromArray(F, b, s + 10 * ld), r11 = FloatVector.fromArray(F, b, s + 11 * ld),
                    r12 = FloatVector.fromArray(F, b, s + 12 * ld), r13 = FloatVector.fromArray(F, b, s + 13 * ld),
                    r14 = FloatVector.fromArray(F, b, s + 14 * ld), r15 = FloatVector.fromArray(F, b, s + 15 * ld);
        FloatVector x;
        x = LO8.selectFrom(r0, r8); r8 = HI8.selectFrom(r0, r8); r0 = x;
        x = LO8.selectFrom(r1, r9); r9 = HI8.selectFrom(r1, r9); r1 = x;
        x = LO8.selectFrom(r2, r10); r10 = HI8.selectFrom(r2, r10); r2 = x;
        x = LO8.selectFrom(r3, r11); r11 = HI8.selectFrom(r3, r11); r3 = x;
        x = LO8.selectFrom(r4, r12); r12 = HI8.selectFrom(r4, r12); r4 = x;
        x = LO8.selectFrom(r5, r13); r13 = HI8.selectFrom(r5, r13); r5 = x;
        x = LO8.selectFrom(r6, r14); r14 = HI8.selectFrom(r6, r14); r6 = x;
        x = LO8.selectFrom(r7, r15); r15 = HI8.selectFrom(r7, r15); r7 = x;
        x = LO4.selectFrom(r0, r4); r4 = HI4.selectFrom(r0, r4); r0 = x;
        x = LO4.selectFrom(r1, r5); r5 = HI4.selectFrom(r1, r5); r1 = x;
        x = LO4.selectFrom(r2, r6); r6 = HI4.selectFrom(r2, r6); r2 = x;
        x = LO4.selectFrom(r3, r7); r7 = HI4.selectFrom(r3, r7); r3 = x;
        x = LO4.selectFrom(r8, r12); r12 = HI4.selectFrom(r8, r12); r8 = x;
        x = LO4.selectFrom(r9, r13); r13 = HI4.selectFrom(r9, r13); r9 = x;
        x = LO4.selectFrom(r10, r14); r14 = HI4.selectFrom(r10, r14); r10 = x;
        x = LO4.selectFrom(r11, r15); r15 = HI4.selectFrom(r11, r15); r11 = x;
        x = LO2.selectFrom(r0, r2); r2 = HI2.selectFrom(r0, r2); r0 = x;
        x = LO2.selectFrom(r1, r3); r3 = HI2.selectFrom(r1, r3); r1 = x;
        x = LO2.selectFrom(r4, r6); r6 = HI2.selectFrom(r4, r6); r4 = x;
        x = LO2.selectFrom(r5, r7); r7 = HI2.selectFrom(r5, r7); r5 = x;
        x = LO2.selectFrom(r8, r10); r10 = HI2.selectFrom(r8, r10); r8 = x;
        x = LO2.selectFrom(r9, r11); r11 = HI2.selectFrom(r9, r11); r9 = x;
        x = LO2.selectFrom(r12, r14); r14 = HI2.selectFrom(r12, r14); r12 = x;
        x = LO2.selectFrom(r13, r15); r15 = HI2.selectFrom(r13, r15); r13 = x;
        x = LO1.selectFrom(r0, r1); r1 = HI1.selectFrom(r0, r1); r0 = x;
        x = LO1.selectFrom(r2, r3); r3 = HI1.selectFrom(r2, r3); r2 = x;
        x = LO1.selectFrom(r4, r5); r5 = HI1.selectFrom(r4, r5); r4 = x;
        x = LO1.selectFrom(r6, r7); r7 = HI1.selectFrom(r6, r7); r6 = x;
        x = LO1.selectFrom(r8, r9); r9 = HI1.selectFrom(r8, r9); r8 = x;
        x = LO1.selectFrom(r10, r11); r11 = HI1.selectFrom(r10, r11); r10 = x;
        x = LO1.selectFrom(r12, r13); r13 = HI1.selectFrom(r12, r13); r12 = x;
        x = LO1.selectFrom(r14, r15); r15 = HI1.selectFrom(r14, r15); r14 = x;
        r0.intoArray(dst, d);
        r1.intoArray(dst, d + 1 * ds);
        r2.intoArray(dst, d + 2 * ds);
        r3.intoArray(dst, d + 3 * ds);
        r4.intoArray(dst, d + 4 * ds);
        r5.intoArray(dst, d + 5 * ds);
        r6.intoArray(dst, d + 6 * ds);
        r7.intoArray(dst, d + 7 * ds);
        r8.intoArray(dst, d + 8 * ds);
        r9.intoArray(dst, d + 9 * ds);
        r10.intoArray(dst, d + 10 * ds);
        r11.intoArray(dst, d + 11 * ds);
        r12.intoArray(dst, d + 12 * ds);
        r13.intoArray(dst, d + 13 * ds);
        r14.intoArray(dst, d + 14 * ds);
        r15.intoArray(dst, d + 15 * ds);
    }
}
