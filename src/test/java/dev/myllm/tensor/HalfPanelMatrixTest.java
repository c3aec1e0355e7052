package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * F16 and BF16 in panels ({@link HalfLayout.Layout#PANELS}, {@link HalfPanelKernels}): few-row
 * products are one chain of fused multiply-adds per output on the exactly widened weights, so every
 * row has its one-row bits for any row count and thread count, the vector kernels give their
 * scalar twin's bits and {@link PanelKernels}' bits on the widened float32 weights, and all are close
 * to a float64 reference; many rows take the GEMM packing from the half panels and give {@link
 * Gemm#matmulNT}'s bits on the widened weights; nothing is written outside the output.
 */
class HalfPanelMatrixTest {
    private static final int THREADS = Parallel.threads();
    private static final int[] NS = {1, 15, 47, 48, 49, 97};
    private static final int[] KS = {1, 3, 17, 64, 768, 1025, 3072};
    private static final int MAX_M = 20;
    private static final PackedMatrix.Format[] HALVES = {PackedMatrix.Format.F16, PackedMatrix.Format.BF16};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    /** A half's value in float32, computed apart from the code under test. */
    static float widened(PackedMatrix.Format f, float v) {
        return f == PackedMatrix.Format.BF16 ? Float.intBitsToFloat(Quantize.bf16(v) << 16) : Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** Random weights with some of F16's subnormals (below 2^-14) and zeros among them. */
    static float[] weights(Random rnd, int n) {
        float[] w = KernelTestSupport.randn(rnd, n, 0.3f);
        for (int i = 0; i < n; i += 7) w[i] *= 1e-5f;
        for (int i = 3; i < n; i += 29) w[i] = 0f;
        return w;
    }

    private static PackedMatrix panels(PackedMatrix.Format f, float[] w, int N, int K) {
        return PackedMatrix.encode(f, w, N, K, HalfLayout.Layout.PANELS);
    }

    /** y (m, N) of {@code p.matmulNT} in {@code mode}, written at offset 2 of an array whose other slots must stay NaN. */
    private static float[] product(PackedMatrix p, ProductMode mode, float[] x, int xOff, int m) {
        int n = m * p.rows();
        float[] y = new float[2 + n + 5];
        Arrays.fill(y, Float.NaN);
        try (ProductMode.Scope s = ProductMode.use(mode)) {
            p.matmulNT(x, xOff, m, y, 2);
        }
        for (int i : new int[]{0, 1, 2 + n, 2 + n + 1, 2 + n + 4}) assertThat(y[i]).as("slot %d outside the product", i).isNaN();
        return Arrays.copyOfRange(y, 2, 2 + n);
    }

    private static float[] kernels(PackedMatrix p, float[] x, int xOff, int m) {
        float[] y = new float[m * p.rows()];
        HalfPanelKernels.product(p, x, xOff, m, y, 0);
        return y;
    }

    private static float[] twin(PackedMatrix p, float[] x, int xOff, int m) {
        float[] y = new float[m * p.rows()];
        HalfPanelKernels.productScalar(p, x, xOff, m, y, 0);
        return y;
    }

    private static void same(float[] want, float[] got, String what, Object... args) {
        assertThat(got.length).isEqualTo(want.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                throw new AssertionError(String.format(what, args) + ": index " + i + " got " + got[i] + " want " + want[i]);
            }
        }
    }

    private static void checkShape(PackedMatrix.Format f, int N, int K, int[] ms, Random rnd) {
        float[] w = weights(rnd, N * K), wide = new float[N * K];
        for (int i = 0; i < w.length; i++) wide[i] = widened(f, w[i]);
        PackedMatrix p = panels(f, w, N, K);
        assertThat(p.halfPanels).isNotNull();
        PackedMatrix f32 = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, wide, N, K);
        int xOff = 3, maxM = Arrays.stream(ms).max().orElseThrow();
        float[] x = KernelTestSupport.randn(rnd, xOff + maxM * K, 1f);
        float[][] alone = new float[maxM][];
        Parallel.setThreads(1);
        for (int i = 0; i < maxM; i++) alone[i] = product(p, ProductMode.ROWS, x, xOff + i * K, 1);
        for (int m : ms) {
            float[] want = twin(p, x, xOff, m);
            String what = f + " (" + N + ", " + K + ") m=" + m;
            same(want, kernels(p, x, xOff, m), "kernels vs twin %s", what);
            // the float32 panels' chains on the widened weights: the same bits
            float[] chains = new float[m * N];
            PanelKernels.productScalar(f32, x, xOff, m, chains, 0);
            same(chains, want, "twin vs F32_PANELS on widened weights %s", what);
            double[] ref = new double[m * N];
            for (int i = 0; i < m; i++) {
                for (int n = 0; n < N; n++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s += (double) x[xOff + i * K + k] * wide[n * K + k];
                    ref[i * N + n] = s;
                }
            }
            KernelTestSupport.assertClose("reference " + what, ref, want, 1e-6, 1e-7 * K + 1e-6);
            for (int threads : new int[]{1, 2}) {
                Parallel.setThreads(threads);
                float[] rows = product(p, ProductMode.ROWS, x, xOff, m);
                same(want, rows, "ROWS %s threads %d", what, threads);
                for (int i = 0; i < m; i++) {
                    same(alone[i], Arrays.copyOfRange(rows, i * N, (i + 1) * N), "row %d of %s threads %d", i, what, threads);
                }
                if (m <= 8) same(want, product(p, ProductMode.SHAPE, x, xOff, m), "SHAPE %s", what);
                float[] gemm = new float[m * N];
                try (ProductMode.Scope s = ProductMode.use(ProductMode.PACKED)) {
                    Gemm.matmulNT(x, xOff, wide, 0, gemm, 0, m, N, K, false);
                }
                same(gemm, product(p, ProductMode.PACKED, x, xOff, m), "PACKED %s threads %d", what, threads);
                if (m > 8) same(gemm, product(p, ProductMode.SHAPE, x, xOff, m), "SHAPE %s threads %d", what, threads);
            }
        }
    }

    @Test
    void fewRowProductsAreOneChainPerOutputOnAwkwardSizes() {
        Random rnd = new Random(7);
        int[] all = new int[MAX_M];
        for (int i = 0; i < MAX_M; i++) all[i] = i + 1;
        for (PackedMatrix.Format f : HALVES) {
            for (int N : NS) {
                for (int K : KS) checkShape(f, N, K, K >= 1025 ? new int[]{1, 2, 7, 8, 9, 17} : K >= 768 ? new int[]{1, 2, 3, 4, 5, 6, 8, 9, 13, 20} : all, rnd);
            }
        }
    }

    @Test
    void gpt2HeadSizedMatrix() {
        for (PackedMatrix.Format f : HALVES) checkShape(f, 50257, 768, new int[]{1, 3, 9}, new Random(3));
    }

    @Test
    void f16InputsTooLargeToScaleTakeTheTwinWithTheSameChains() {
        // an input of 4096 or more would overflow scaled by 2^112: the product is the twin's, still
        // the float32 panels' chains on the widened weights, for any number of rows and threads
        Random rnd = new Random(17);
        int N = 97, K = 64;
        float[] w = weights(rnd, N * K), wide = new float[N * K];
        for (int i = 0; i < w.length; i++) wide[i] = widened(PackedMatrix.Format.F16, w[i]);
        PackedMatrix p = panels(PackedMatrix.Format.F16, w, N, K);
        PackedMatrix f32 = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, wide, N, K);
        float[] x = KernelTestSupport.randn(rnd, 9 * K, 1f);
        x[5] = 5000f;
        x[K + 7] = -1e6f;
        for (int m : new int[]{1, 2, 9}) {
            float[] want = new float[m * N];
            PanelKernels.productScalar(f32, x, 0, m, want, 0);
            for (int threads : new int[]{1, 2}) {
                Parallel.setThreads(threads);
                same(want, product(p, ProductMode.ROWS, x, 0, m), "large input m=%d threads %d", m, threads);
            }
        }
    }

    @Test
    void panelsHoldTheHalves() {
        Random rnd = new Random(5);
        for (PackedMatrix.Format f : HALVES) {
            for (int N : new int[]{1, 47, 49, 97, 150}) {
                for (int K : new int[]{1, 17, 64}) {
                    float[] w = weights(rnd, N * K);
                    PackedMatrix p = panels(f, w, N, K);
                    assertThat(p.panelBase).isEqualTo(2 * Aligned.base());
                    for (int n = 0; n < N; n++) {
                        for (int k = 0; k < K; k++) {
                            short h = p.halfPanels[p.panelBase + (n / 48) * K * 48 + k * 48 + n % 48];
                            assertThat(h).isEqualTo(f == PackedMatrix.Format.BF16 ? Quantize.bf16(w[n * K + k]) : Float.floatToFloat16(w[n * K + k]));
                            assertThat(p.weight(n, k)).isEqualTo(widened(f, w[n * K + k]));
                        }
                    }
                    int padded = (N + 47) / 48 * 48;
                    for (int n = N; n < padded; n++) {
                        for (int k = 0; k < K; k++) assertThat(p.halfPanels[p.panelBase + (n / 48) * K * 48 + k * 48 + n % 48]).isZero();
                    }
                    assertThat(p.byteSize()).isEqualTo(2L * N * K);
                    assertThat(p.readBytes()).isEqualTo(2L * padded * K);
                    float[] row = new float[K];
                    for (int n = 0; n < N; n++) {
                        p.row(n, row, 0);
                        for (int k = 0; k < K; k++) assertThat(row[k]).isEqualTo(widened(f, w[n * K + k]));
                    }
                    int r0 = N / 3, rn = N - 2 * (N / 3);
                    float[] dst = new float[1 + rn * K];
                    p.rowsToFloat(r0, rn, dst, 1);
                    for (int i = 0; i < rn * K; i++) assertThat(dst[1 + i]).isEqualTo(widened(f, w[r0 * K + i]));
                }
            }
        }
    }

    @Test
    void loadersPathsGiveTheSamePanels() {
        // encodeRows in chunks (a loader streaming a file) and wrap over a file's halves (copied):
        // the panels of encode; mapped halves stay the file's rows
        Random rnd = new Random(9);
        int N = 101, K = 33;
        float[] w = weights(rnd, N * K);
        for (PackedMatrix.Format f : HALVES) {
            PackedMatrix want = panels(f, w, N, K);
            PackedMatrix chunks = panels(f, new float[N * K], N, K);
            for (int r0 = 0; r0 < N; r0 += 17) chunks.encodeRows(w, r0 * K, r0, Math.min(17, N - r0));
            assertThat(chunks.halfPanels).containsExactly(want.halfPanels);
            PackedMatrix copied = HalfLayout.copy(FileHalvesTest.fileBytes(f, w, N, K), panels(f, new float[N * K], N, K));
            assertThat(copied.halfPanels).containsExactly(want.halfPanels);
            if (HalfLayout.PANEL) {
                assertThat(PackedMatrix.wrap(f, N, K, FileHalvesTest.fileBytes(f, w, N, K), PackedMatrix.Halves.COPIED).halfPanels).containsExactly(want.halfPanels);
            }
            PackedMatrix mapped = PackedMatrix.wrap(f, N, K, FileHalvesTest.fileBytes(f, w, N, K), PackedMatrix.Halves.MAPPED);
            assertThat(mapped.halfPanels).isNull();
            float[] a = new float[K], b = new float[K];
            for (int r = 0; r < N; r++) {
                mapped.row(r, a, 0);
                want.row(r, b, 0);
                assertThat(a).containsExactly(b);
            }
        }
    }

    @Test
    void linearAddsTheBiasAfterTheChain() {
        Random rnd = new Random(13);
        for (PackedMatrix.Format f : HALVES) {
            int N = 97, K = 64, m = 3;
            float[] w = weights(rnd, N * K), x = KernelTestSupport.randn(rnd, m * K, 1f), b = KernelTestSupport.randn(rnd, N, 1f);
            PackedMatrix p = panels(f, w, N, K);
            try (ProductMode.Scope s = ProductMode.use(ProductMode.ROWS)) {
                float[] chain = new float[m * N];
                p.matmulNT(x, 0, m, chain, 0);
                Tensor y = p.linear(Tensor.of(x, 1, m, K), Tensor.of(b, N));
                for (int i = 0; i < m * N; i++) assertThat(y.data()[i]).isEqualTo(chain[i] + b[i % N]);
            }
        }
    }

    @Test
    void theDefaultIsPanelsUnderTheLaunchersTrapLimitAndGivesFloat32PanelsBits() {
        // the property decides when set; else a PerMethodTrapLimit of 1000 or more (the launcher and
        // the tests set 10000) turns panels on, the JVM's 100 leaves tiles
        assertThat(HalfLayout.panelsByDefault(null, 1000)).isTrue();
        assertThat(HalfLayout.panelsByDefault(null, 100)).isFalse();
        assertThat(HalfLayout.panelsByDefault(null, -1)).isFalse();
        assertThat(HalfLayout.panelsByDefault("false", 5000)).isFalse();
        assertThat(HalfLayout.panelsByDefault("true", 100)).isTrue();
        if (System.getProperty("myllm.packed.halfPanels") == null) {
            assertThat(HalfLayout.trapLimit()).as("surefire's argLine").isGreaterThanOrEqualTo(HalfLayout.TRAP_LIMIT);
            assertThat(HalfLayout.PANEL).isTrue();
        }
        // the default path (encode without a layout, decoding's SHAPE mode): the float32 panels'
        // vector products on the widened weights, for every row count and thread count
        Random rnd = new Random(19);
        int N = 150, K = 200;
        for (PackedMatrix.Format f : HALVES) {
            float[] w = weights(rnd, N * K), wide = new float[N * K];
            for (int i = 0; i < w.length; i++) wide[i] = widened(f, w[i]);
            PackedMatrix p = PackedMatrix.encode(f, w, N, K), f32 = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, wide, N, K);
            assertThat(p.halfPanels != null).isEqualTo(HalfLayout.PANEL);
            if (p.halfPanels == null) continue;
            float[] x = KernelTestSupport.randn(rnd, 9 * K, 1f);
            for (int threads : new int[]{1, 2}) {
                Parallel.setThreads(threads);
                for (int m = 1; m <= 9; m++) same(product(f32, ProductMode.SHAPE, x, 0, m), product(p, ProductMode.SHAPE, x, 0, m), "%s default m=%d threads %d", f, m, threads);
            }
        }
    }

    @Test
    void sameBitsColdAndWarm() {
        Random rnd = new Random(11);
        for (PackedMatrix.Format f : HALVES) {
            PackedMatrix p = panels(f, weights(rnd, 97 * 160), 97, 160);
            float[] x = KernelTestSupport.randn(rnd, 9 * 160, 1f);
            for (int m : new int[]{1, 9}) {
                float[] cold = product(p, ProductMode.ROWS, x, 0, m), warm = null;
                for (int i = 0; i < 2000; i++) warm = product(p, ProductMode.ROWS, x, 0, m);
                assertThat(warm).as("%s m=%d", f, m).containsExactly(cold);
            }
        }
    }
}
