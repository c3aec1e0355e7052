package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The few-row products of F16 and BF16 matrices in panels ({@link HalfLayout.Layout#PANELS}):
 * {@link PanelKernels}' structure on 16-bit weights, each output one chain of fused multiply-adds
 * over k from 0, {@code acc = fma(A[r][k], W[n][k], acc)}, vectorised across a panel's {@link #W}
 * columns with A[r][k] broadcast, the halves widened to float32 in registers as {@link HalfKernels}
 * does (BF16 exactly, a shift; F16 as its bits in float position, the weight times 2^-112, against
 * an input scaled by 2^112 once per product, so every product is exactly {@code W[n][k]·A[r][k]}).
 * The results are therefore bit for bit those of {@link PanelKernels} on the widened weights, for any
 * grouping of rows and any split of panels over threads (batch- and thread-invariant), and those of
 * the scalar twin ({@link #productScalar}); an F16 product whose input would overflow when scaled
 * (an element of 4096 or more, which GPT-2's products do not see) runs the twin.
 */
final class HalfPanelKernels {
    static final int W = PanelLayout.W;
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** L halves: a vector of L shorts (at least 64 bits), widened to L ints. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
    private static final int PASS = 3 * L;
    static final int ROWS = 8;
    private static final int TWO_ROWS = 4;
    /** F16: the shift and mask that put a half's sign, exponent and mantissa where a float keeps them (HalfKernels' decode). */
    private static final int F16_SHIFT = 13, F16_MASK = 0x8FFFE000;

    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[ROWS * W]);
    /** The calling thread's transposed (and for F16 scaled) input: [group of 8 rows][K][8], or one scaled row. */
    private static final ThreadLocal<float[]> AT = ThreadLocal.withInitial(() -> new float[0]);

    private HalfPanelKernels() {
    }

    /** L weights from {@code w[i ..]} widened: BF16 ({@code sh} 16, mask -1) exactly, F16 times 2^-112. */
    private static FloatVector h(short[] w, int i, int sh, int mask) {
        IntVector v = (IntVector) ShortVector.fromArray(S, w, i).convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, sh).and(mask).reinterpretAsFloats();
    }

    /** Outputs {@code [r, r + n)} of one input row by the vector kernels, into {@code out[o ..]} (for tests). */
    static void outputs(PackedMatrix p, float[] x, int xo, int r, int n, float[] out, int o) {
        float[] all = new float[p.rows()];
        product(p, x, xo, 1, all, 0);
        System.arraycopy(all, r, out, o, n);
    }

    /** {@code y (m, rows) = x (m, cols) · Wᵀ} on the half panels: the vector kernels, or the scalar twin. */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        int K = p.cols(), N = p.rows(), np = PanelLayout.panels(N);
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        if (!Simd.ENABLED || (!bf && !HalfKernels.scalable(x, xOff, m * K))) {
            productScalar(p, x, xOff, m, y, yOff);
            return;
        }
        int sh = bf ? 16 : F16_SHIFT, mask = bf ? -1 : F16_MASK;
        float scale = bf ? 1f : HalfKernels.F16_SCALE; // (exact: a power of two, no overflow by scalable)
        short[] w = p.halfPanels;
        int wb = p.panelBase;
        int grain = Math.max(1, (1 << 16) / (K * W));
        float[] at = AT.get();
        if (m == 1) {
            float[] xs = x;
            int xo = xOff;
            if (!bf) {
                if (at.length < K) AT.set(at = new float[Math.max(K, 8 * K)]);
                for (int k = 0; k < K; k++) at[k] = x[xOff + k] * scale;
                xs = at;
                xo = 0;
            }
            float[] xin = xs;
            int x0 = xo;
            forPanels(np, grain, (p0, p1) -> onePanels(w, wb, K, N, xin, x0, y, yOff, p0, p1, sh, mask));
            return;
        }
        // A transposed (and scaled) once, [group][K][8]: a k's eight broadcasts are contiguous
        int groups = (m + ROWS - 1) / ROWS;
        if (at.length < groups * K * ROWS) AT.set(at = new float[groups * K * ROWS]);
        for (int i = 0; i < m; i++) {
            int gb = (i / ROWS) * K * ROWS + i % ROWS, xi = xOff + i * K;
            for (int k = 0; k < K; k++) at[gb + k * ROWS] = x[xi + k] * scale;
        }
        float[] a = at;
        forPanels(np, grain, (p0, p1) -> rowPanels(a, m, w, wb, K, N, y, yOff, p0, p1, sh, mask));
    }

    /** {@link PanelKernels}' loop over panels {@code [p0, p1)}: up to four rows over two panels side by side, more over one at a time. */
    private static void rowPanels(float[] a, int m, short[] w, int wb, int K, int N, float[] y, int yo, int p0, int p1, int sh, int mask) {
        float[] t = TILE.get();
        int groups = (m + ROWS - 1) / ROWS;
        for (int pi = p0; pi < p1; ) {
            int n = pi + 1 < p1 ? 2 : 1, pb = wb + pi * K * W;
            for (int g = 0; g < groups; g++) {
                int rows = Math.min(ROWS, m - g * ROWS), ab = g * K * ROWS, ro = yo + g * ROWS * N;
                if (n == 2 && rows <= TWO_ROWS) {
                    int pb2 = pb + K * W, cols = Math.min(2 * W, N - pi * W); // (the second panel may be the ragged last one)
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 4 -> two4(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            case 3 -> two3(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            case 2 -> two2(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            default -> two1(a, ab, ROWS, w, pb + c, pb2 + c, K, t, c, sh, mask);
                        }
                    }
                    for (int r = 0; r < rows; r++) System.arraycopy(t, r * 2 * W, y, ro + r * N + pi * W, cols);
                    continue;
                }
                for (int q = 0; q < n; q++) {
                    int qb = pb + q * K * W, valid = Math.min(W, N - (pi + q) * W);
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 8 -> rows8(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 7 -> rows7(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 6 -> rows6(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 5 -> rows5(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 4 -> rows4(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 3 -> rows3(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 2 -> rows2(a, ab, w, qb + c, K, t, c, sh, mask);
                            default -> rows1(a, ab, ROWS, w, qb + c, K, t, c, sh, mask);
                        }
                    }
                    for (int r = 0; r < rows; r++) System.arraycopy(t, r * W, y, ro + r * N + (pi + q) * W, valid);
                }
            }
            pi += n;
        }
    }

    /** Threads claim runs of panels as they come free ({@link PanelKernels}' claims): each panel computed whole by one thread. */
    private static void forPanels(int np, int grain, Parallel.RangeBody body) {
        int threads = Math.min(Parallel.threads(), Math.max(1, np / grain));
        if (threads <= 1) {
            Parallel.forRange(np, grain, body);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int s; (s = next.get()) < np; ) {
                int size = Math.max(2, ((np - s) / (2 * threads) + 1) & ~1);
                if (next.compareAndSet(s, s + size)) body.run(s, Math.min(np, s + size));
            }
        });
    }

    /** One input row over panels {@code [p0, p1)}: two panels at a time (six chains), a last odd one alone. */
    private static void onePanels(short[] w, int wb, int K, int N, float[] x, int xo, float[] y, int yo, int p0, int p1, int sh, int mask) {
        float[] t = TILE.get();
        int pi = p0;
        for (; pi + 1 < p1; pi += 2) {
            int pb = wb + pi * K * W;
            for (int c = 0; c < W; c += PASS) two1(x, xo, 1, w, pb + c, pb + K * W + c, K, t, c, sh, mask);
            System.arraycopy(t, 0, y, yo + pi * W, W);
            System.arraycopy(t, W, y, yo + (pi + 1) * W, Math.min(W, N - (pi + 1) * W));
        }
        if (pi < p1) {
            int pb = wb + pi * K * W;
            for (int c = 0; c < W; c += PASS) rows1(x, xo, 1, w, pb + c, K, t, c, sh, mask);
            System.arraycopy(t, 0, y, yo + pi * W, Math.min(W, N - pi * W));
        }
    }

    /**
     * The scalar twin: every output {@code y[i][n]} the chain {@code s = fma(x[i][k], W[n][k], s)}
     * over k from 0 on the exactly widened weights (the vector kernels' products, whose F16 factors
     * are scaled by 2^-112 and 2^112, are the same exact products, so the same roundings).
     */
    static void productScalar(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        int K = p.cols(), N = p.rows();
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        short[] w = p.halfPanels;
        int wb = p.panelBase;
        float[] wk = new float[K];
        for (int n = 0; n < N; n++) {
            int o = wb + PanelLayout.at(n, 0, K);
            for (int k = 0; k < K; k++) wk[k] = HalfLayout.widen(bf, w[o + k * W]);
            for (int i = 0; i < m; i++) {
                int xi = xOff + i * K;
                float s = 0f;
                for (int k = 0; k < K; k++) s = Math.fma(x[xi + k], wk[k], s);
                y[yOff + i * N + n] = s;
            }
        }
    }

    // ---- the kernels: PASS columns of a panel from w[o ..] (rows W halves apart, widened by h), results into t[r·W + c ..] ----
    // (each stores its accumulators itself: a helper taking them as arguments left them boxed, and
    // eight-row products took 2.2x row-major's time)

    /**
     * One row, two panels side by side (o and o2): six chains, one broadcast; A[k] at {@code
     * a[ao + k·as]}. The two-panel kernels store row r's results at {@code t[r·2W ..]}, the second panel's W after.
     */
    private static void two1(float[] a, int ao, int as, short[] w, int o, int o2, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z, d0 = z, d1 = z, d2 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W;
            FloatVector x = FloatVector.broadcast(F, a[ao + k * as]);
            c0 = x.fma(h(w, q, sh, mask), c0);
            c1 = x.fma(h(w, q + L, sh, mask), c1);
            c2 = x.fma(h(w, q + 2 * L, sh, mask), c2);
            d0 = x.fma(h(w, q2, sh, mask), d0);
            d1 = x.fma(h(w, q2 + L, sh, mask), d1);
            d2 = x.fma(h(w, q2 + 2 * L, sh, mask), d2);
        }
        c0.intoArray(t, c); c1.intoArray(t, c + L); c2.intoArray(t, c + 2 * L);
        d0.intoArray(t, W + c); d1.intoArray(t, W + c + L); d2.intoArray(t, W + c + 2 * L);
    }

    // two to four rows over two panels side by side: two1's loop with more rows

    private static void two4(float[] a, int ab, short[] w, int o, int o2, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, d20 = z, d21 = z, d22 = z, c30 = z, c31 = z, c32 = z, d30 = z, d31 = z, d32 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector v0 = h(w, q2, sh, mask), v1 = h(w, q2 + L, sh, mask), v2 = h(w, q2 + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); d20 = x.fma(v0, d20); d21 = x.fma(v1, d21); d22 = x.fma(v2, d22);
            x = FloatVector.broadcast(F, a[ak + 3]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); d30 = x.fma(v0, d30); d31 = x.fma(v1, d31); d32 = x.fma(v2, d32);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
        c20.intoArray(t, 4 * W + c); c21.intoArray(t, 4 * W + c + L); c22.intoArray(t, 4 * W + c + 2 * L);
        d20.intoArray(t, 5 * W + c); d21.intoArray(t, 5 * W + c + L); d22.intoArray(t, 5 * W + c + 2 * L);
        c30.intoArray(t, 6 * W + c); c31.intoArray(t, 6 * W + c + L); c32.intoArray(t, 6 * W + c + 2 * L);
        d30.intoArray(t, 7 * W + c); d31.intoArray(t, 7 * W + c + L); d32.intoArray(t, 7 * W + c + 2 * L);
    }

    private static void two3(float[] a, int ab, short[] w, int o, int o2, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, d20 = z, d21 = z, d22 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector v0 = h(w, q2, sh, mask), v1 = h(w, q2 + L, sh, mask), v2 = h(w, q2 + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); d20 = x.fma(v0, d20); d21 = x.fma(v1, d21); d22 = x.fma(v2, d22);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
        c20.intoArray(t, 4 * W + c); c21.intoArray(t, 4 * W + c + L); c22.intoArray(t, 4 * W + c + 2 * L);
        d20.intoArray(t, 5 * W + c); d21.intoArray(t, 5 * W + c + L); d22.intoArray(t, 5 * W + c + 2 * L);
    }

    private static void two2(float[] a, int ab, short[] w, int o, int o2, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, d00 = z, d01 = z, d02 = z, c10 = z, c11 = z, c12 = z, d10 = z, d11 = z, d12 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, q2 = o2 + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector v0 = h(w, q2, sh, mask), v1 = h(w, q2 + L, sh, mask), v2 = h(w, q2 + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); d00 = x.fma(v0, d00); d01 = x.fma(v1, d01); d02 = x.fma(v2, d02);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); d10 = x.fma(v0, d10); d11 = x.fma(v1, d11); d12 = x.fma(v2, d12);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        d00.intoArray(t, 1 * W + c); d01.intoArray(t, 1 * W + c + L); d02.intoArray(t, 1 * W + c + 2 * L);
        c10.intoArray(t, 2 * W + c); c11.intoArray(t, 2 * W + c + L); c12.intoArray(t, 2 * W + c + 2 * L);
        d10.intoArray(t, 3 * W + c); d11.intoArray(t, 3 * W + c + L); d12.intoArray(t, 3 * W + c + 2 * L);
    }

    /** One row, A[k] at {@code a[ao + k·as]} (as 1: the input itself; 8: a row of the transposed group). */
    private static void rows1(float[] a, int ao, int as, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F), c0 = z, c1 = z, c2 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W;
            FloatVector x = FloatVector.broadcast(F, a[ao + k * as]);
            c0 = x.fma(h(w, q, sh, mask), c0);
            c1 = x.fma(h(w, q + L, sh, mask), c1);
            c2 = x.fma(h(w, q + 2 * L, sh, mask), c2);
        }
        c0.intoArray(t, c); c1.intoArray(t, c + L); c2.intoArray(t, c + 2 * L);
    }

    /**
     * Eight rows: 24 accumulators; each k broadcasts a[ab + k·8 + r] against three weight vectors
     * loaded one k ahead (31 of the 32 vector registers), so that the loads of weights streaming in
     * from memory issue before the 24 multiply-adds that wait on them: 0.955x the time of loading them
     * in place (the 49 decode products of gpt2-small at 8 rows, one JVM, interleaved). Five to seven
     * rows do the same (6 rows: 0.98x; 5 rows: the same time). The two-panel kernels of one to three
     * rows stay as they are: the same change took 1.13x the time at one row and 1.06x at two and
     * three, whose loops wait on memory rather than on their multiply-adds; four have no registers left.
     * (Float32's figures; on halves, tools/HalfPanelsAB's kernels against a copy loading in place, one
     * JVM: 8 rows 0.86x the time for F16 and BF16, 6 rows 1.00x and 0.96x, bits unchanged.)
     */
    private static void rows8(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        FloatVector w0 = h(w, o, sh, mask), w1 = h(w, o + L, sh, mask), w2 = h(w, o + 2 * L, sh, mask);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = h(w, q, sh, mask), n1 = h(w, q + L, sh, mask), n2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[ak + 6]); c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            x = FloatVector.broadcast(F, a[ak + 7]); c70 = x.fma(w0, c70); c71 = x.fma(w1, c71); c72 = x.fma(w2, c72);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
        c60.intoArray(t, 6 * W + c); c61.intoArray(t, 6 * W + c + L); c62.intoArray(t, 6 * W + c + 2 * L);
        c70.intoArray(t, 7 * W + c); c71.intoArray(t, 7 * W + c + L); c72.intoArray(t, 7 * W + c + 2 * L);
    }

    // the leftover rows of a product (m not a multiple of 8): rows8's loop with fewer chains

    private static void rows7(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z;
        FloatVector w0 = h(w, o, sh, mask), w1 = h(w, o + L, sh, mask), w2 = h(w, o + 2 * L, sh, mask);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = h(w, q, sh, mask), n1 = h(w, q + L, sh, mask), n2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[ak + 6]); c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
        c60.intoArray(t, 6 * W + c); c61.intoArray(t, 6 * W + c + L); c62.intoArray(t, 6 * W + c + 2 * L);
    }

    private static void rows6(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
        FloatVector w0 = h(w, o, sh, mask), w1 = h(w, o + L, sh, mask), w2 = h(w, o + 2 * L, sh, mask);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = h(w, q, sh, mask), n1 = h(w, q + L, sh, mask), n2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ak + 5]); c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
        c50.intoArray(t, 5 * W + c); c51.intoArray(t, 5 * W + c + L); c52.intoArray(t, 5 * W + c + 2 * L);
    }

    private static void rows5(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z;
        FloatVector w0 = h(w, o, sh, mask), w1 = h(w, o + L, sh, mask), w2 = h(w, o + 2 * L, sh, mask);
        for (int k = 0; k < K; k++) {
            int q = o + Math.min(k + 1, K - 1) * W, ak = ab + k * ROWS; // the next k's weights (the last k reloads its own)
            FloatVector n0 = h(w, q, sh, mask), n1 = h(w, q + L, sh, mask), n2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ak + 4]); c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            w0 = n0; w1 = n1; w2 = n2;
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
        c40.intoArray(t, 4 * W + c); c41.intoArray(t, 4 * W + c + L); c42.intoArray(t, 4 * W + c + 2 * L);
    }

    private static void rows4(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ak + 3]); c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
        c30.intoArray(t, 3 * W + c); c31.intoArray(t, 3 * W + c + L); c32.intoArray(t, 3 * W + c + 2 * L);
    }

    private static void rows3(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ak + 2]); c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
        c20.intoArray(t, 2 * W + c); c21.intoArray(t, 2 * W + c + L); c22.intoArray(t, 2 * W + c + 2 * L);
    }

    private static void rows2(float[] a, int ab, short[] w, int o, int K, float[] t, int c, int sh, int mask) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z;
        for (int k = 0; k < K; k++) {
            int q = o + k * W, ak = ab + k * ROWS;
            FloatVector w0 = h(w, q, sh, mask), w1 = h(w, q + L, sh, mask), w2 = h(w, q + 2 * L, sh, mask);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ak + 1]); c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
        }
        c00.intoArray(t, c); c01.intoArray(t, c + L); c02.intoArray(t, c + 2 * L);
        c10.intoArray(t, 1 * W + c); c11.intoArray(t, 1 * W + c + L); c12.intoArray(t, 1 * W + c + 2 * L);
    }
}
