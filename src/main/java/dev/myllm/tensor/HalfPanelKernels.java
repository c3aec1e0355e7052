package dev.myllm.tensor;

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
 * (an element of 4096 or more, which GPT-2's products do not see) runs the twin. The chains
 * themselves are in {@link HalfPanelChains} (why they widen inline, and why one loop calls them).
 */
final class HalfPanelKernels {
    static final int W = PanelLayout.W;
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();
    /** L halves: a vector of L shorts (at least 64 bits), widened to L ints. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
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

    /** Outputs {@code [r, r + n)} of one input row by the vector kernels, into {@code out[o ..]} (for tests). */
    static void outputs(PackedMatrix p, float[] x, int xo, int r, int n, float[] out, int o) {
        float[] all = new float[p.rows()];
        product(p, x, xo, 1, all, 0);
        System.arraycopy(all, r, out, o, n);
    }

    /** {@code y (m, rows) = x (m, cols) · Wᵀ} on the half panels: the vector kernels, or the scalar twin. */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff) {
        if (!Simd.ENABLED) {
            productScalar(p, x, xOff, m, y, yOff);
            return;
        }
        product(p, x, xOff, m, y, yOff, null, false);
    }

    /**
     * The product with a layer's epilogue as the tiles are stored ({@link PanelKernels#store}: plus
     * {@code bias} when not null, then GELU when {@code gelu}), as {@link PanelKernels}' fused
     * product does. SIMD only; an F16 input the scaling would overflow takes the twin, then the
     * same epilogue row by row.
     */
    static void product(PackedMatrix p, float[] x, int xOff, int m, float[] y, int yOff, float[] bias, boolean gelu) {
        int K = p.cols(), N = p.rows(), np = PanelLayout.panels(N);
        boolean bf = p.format() == PackedMatrix.Format.BF16;
        if (!bf && !HalfKernels.scalable(x, xOff, m * K)) {
            productScalar(p, x, xOff, m, y, yOff);
            for (int i = 0; i < m && (bias != null || gelu); i++) PanelKernels.store(y, yOff + i * N, y, yOff + i * N, N, bias, 0, gelu);
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
            PanelKernels.forPanels(np, grain, (p0, p1) -> rowPanels(xin, x0, 1, 1, w, wb, K, N, y, yOff, p0, p1, sh, mask, bias, gelu));
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
        PanelKernels.forPanels(np, grain, (p0, p1) -> rowPanels(a, 0, ROWS, m, w, wb, K, N, y, yOff, p0, p1, sh, mask, bias, gelu));
    }

    /**
     * {@link PanelKernels}' loop over panels {@code [p0, p1)}: up to four rows over two panels side
     * by side, more over one at a time; A transposed in groups of eight rows from {@code a[ao]}, a
     * lone row's k at {@code a[ao + k·as]} (as 1: one input row as it is). The only caller of the
     * chains, and one method for every number of rows, so that it stays larger than C2 inlines
     * (FreqInlineSize, 325 bytes of bytecode; this is over 700): the chains are compiled within it or
     * as their own roots, never deep inside a pool thread's loop ({@link HalfPanelChains}).
     */
    private static void rowPanels(float[] a, int ao, int as, int m, short[] w, int wb, int K, int N, float[] y, int yo, int p0, int p1, int sh, int mask,
                                  float[] bias, boolean gelu) {
        float[] t = TILE.get();
        int groups = (m + ROWS - 1) / ROWS;
        if (WidePanelKernels.ON && m == 1) { // one row with 8 lanes: each panel read whole, one at a time
            for (int pi = p0; pi < p1; pi++) {
                HalfPanelChains.oneWide(a, ao, as, w, wb + pi * K * W, K, t, sh, mask);
                PanelKernels.store(t, 0, y, yo + pi * W, Math.min(W, N - pi * W), bias, pi * W, gelu);
            }
            return;
        }
        for (int pi = p0; pi < p1; ) {
            int n = pi + 1 < p1 ? 2 : 1, pb = wb + pi * K * W;
            for (int g = 0; g < groups; g++) {
                int rows = Math.min(ROWS, m - g * ROWS), ab = ao + g * K * ROWS, ro = yo + g * ROWS * N;
                if (n == 2 && rows <= TWO_ROWS) {
                    int pb2 = pb + K * W, cols = Math.min(2 * W, N - pi * W); // (the second panel may be the ragged last one)
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 4 -> HalfPanelChains.two4(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            case 3 -> HalfPanelChains.two3(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            case 2 -> HalfPanelChains.two2(a, ab, w, pb + c, pb2 + c, K, t, c, sh, mask);
                            default -> HalfPanelChains.two1(a, ab, as, w, pb + c, pb2 + c, K, t, c, sh, mask);
                        }
                    }
                    for (int r = 0; r < rows; r++) PanelKernels.store(t, r * 2 * W, y, ro + r * N + pi * W, cols, bias, pi * W, gelu);
                    continue;
                }
                for (int q = 0; q < n; q++) {
                    int qb = pb + q * K * W, valid = Math.min(W, N - (pi + q) * W);
                    for (int c = 0; c < W; c += PASS) {
                        switch (rows) {
                            case 8 -> HalfPanelChains.rows8(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 7 -> HalfPanelChains.rows7(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 6 -> HalfPanelChains.rows6(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 5 -> HalfPanelChains.rows5(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 4 -> HalfPanelChains.rows4(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 3 -> HalfPanelChains.rows3(a, ab, w, qb + c, K, t, c, sh, mask);
                            case 2 -> HalfPanelChains.rows2(a, ab, w, qb + c, K, t, c, sh, mask);
                            default -> HalfPanelChains.rows1(a, ab, as, w, qb + c, K, t, c, sh, mask);
                        }
                    }
                    for (int r = 0; r < rows; r++) PanelKernels.store(t, r * W, y, ro + r * N + (pi + q) * W, valid, bias, (pi + q) * W, gelu);
                }
            }
            pi += n;
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
}
