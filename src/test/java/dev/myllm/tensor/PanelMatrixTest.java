package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PackedMatrix.Format#F32_PANELS}: products of any number of rows, in every {@link
 * ProductMode}, are one chain of fused multiply-adds per output, so every row has its one-row bits
 * for any row count and thread count, the vector kernels give their scalar twin's bits, and all are
 * close to a float64 reference; the panels hold the original floats exactly, including a last panel
 * of 1 to 47 columns (nothing written past the output).
 */
class PanelMatrixTest {
    private static final int THREADS = Parallel.threads();
    private static final int[] NS = {1, 15, 47, 48, 49, 97};
    private static final int[] KS = {1, 3, 17, 64, 768, 1025, 3072};
    private static final int MAX_M = 20;
    private static final PackedMatrix.Format P = PackedMatrix.Format.F32_PANELS;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
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

    /** The vector kernels (or, without SIMD, the twin), called directly. */
    private static float[] kernels(PackedMatrix p, float[] x, int xOff, int m) {
        float[] y = new float[m * p.rows()];
        PanelKernels.product(p, x, xOff, m, y, 0);
        return y;
    }

    private static float[] twin(PackedMatrix p, float[] x, int xOff, int m) {
        float[] y = new float[m * p.rows()];
        PanelKernels.productScalar(p, x, xOff, m, y, 0);
        return y;
    }

    /** Bitwise equality (as Float.equals) with the first differing index; AssertJ's containsExactly is slow on half a million floats. */
    private static void same(float[] want, float[] got, String what, Object... args) {
        assertThat(got.length).isEqualTo(want.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                throw new AssertionError(String.format(what, args) + ": index " + i + " got " + got[i] + " want " + want[i]);
            }
        }
    }

    private static void checkShape(int N, int K, int[] ms, Random rnd) {
        float[] w = KernelTestSupport.randn(rnd, N * K, 0.3f);
        PackedMatrix p = PackedMatrix.encode(P, w, N, K);
        int xOff = 3, maxM = Arrays.stream(ms).max().orElseThrow();
        float[] x = KernelTestSupport.randn(rnd, xOff + maxM * K, 1f);
        // each input row alone, once: what every larger product must give for it
        float[][] alone = new float[maxM][];
        Parallel.setThreads(1);
        for (int i = 0; i < maxM; i++) alone[i] = product(p, ProductMode.ROWS, x, xOff + i * K, 1);
        for (int m : ms) {
            float[] want = twin(p, x, xOff, m);
            String what = "(" + N + ", " + K + ") m=" + m;
            // (b) the vector kernels give the scalar twin's bits
            same(want, kernels(p, x, xOff, m), "kernels vs twin %s", what);
            // (c) close to float64
            double[] ref = new double[m * N];
            for (int i = 0; i < m; i++) {
                for (int n = 0; n < N; n++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s += (double) x[xOff + i * K + k] * w[n * K + k];
                    ref[i * N + n] = s;
                }
            }
            KernelTestSupport.assertClose("reference " + what, ref, want, 1e-6, 1e-7 * K + 1e-6); // (about 5 sigma of K roundings)
            for (int threads : new int[]{1, 2}) {
                Parallel.setThreads(threads);
                // (a) batch invariance: a few-row product's row i is the one-row product of row i, for any threads
                float[] rows = product(p, ProductMode.ROWS, x, xOff, m);
                same(want, rows, "ROWS %s threads %d", what, threads);
                for (int i = 0; i < m; i++) {
                    same(alone[i], Arrays.copyOfRange(rows, i * N, (i + 1) * N), "row %d of %s threads %d", i, what, threads);
                }
                // (e) every mode, any number of rows (a prompt's too): the same chains
                same(want, product(p, ProductMode.SHAPE, x, xOff, m), "SHAPE %s threads %d", what, threads);
                same(want, product(p, ProductMode.PACKED, x, xOff, m), "PACKED %s threads %d", what, threads);
            }
        }
    }

    @Test
    void fewRowProductsAreOneChainPerOutputOnAwkwardSizes() {
        Random rnd = new Random(7);
        int[] all = new int[MAX_M];
        for (int i = 0; i < MAX_M; i++) all[i] = i + 1;
        for (int N : NS) {
            for (int K : KS) checkShape(N, K, K >= 1025 ? new int[]{1, 2, 7, 8, 9, 17} : all, rnd);
        }
    }

    @Test
    void gpt2HeadSizedMatrix() {
        // 50257 = 1047 panels and one of a single column; two threads split 1048 panels
        checkShape(50257, 768, new int[]{1, 3, 9}, new Random(3));
    }

    @Test
    void panelsHoldTheOriginalFloats() {
        Random rnd = new Random(5);
        for (int N : new int[]{1, 47, 49, 97, 150}) {
            for (int K : new int[]{1, 17, 64}) {
                float[] w = KernelTestSupport.randn(rnd, N * K, 1f);
                PackedMatrix p = PackedMatrix.encode(P, w, N, K);
                // element (n, k) at p·K·48 + k·48 + n % 48, from the panels' base; the last panel's padding zero
                for (int n = 0; n < N; n++) {
                    for (int k = 0; k < K; k++) {
                        assertThat(p.panels[p.panelBase + (n / 48) * K * 48 + k * 48 + n % 48]).isEqualTo(w[n * K + k]);
                        assertThat(p.weight(n, k)).isEqualTo(w[n * K + k]);
                    }
                }
                int padded = (N + 47) / 48 * 48;
                for (int n = N; n < padded; n++) {
                    for (int k = 0; k < K; k++) assertThat(p.panels[p.panelBase + (n / 48) * K * 48 + k * 48 + n % 48]).isZero();
                }
                assertThat(p.byteSize()).isEqualTo(4L * N * K);
                assertThat(p.readBytes()).isEqualTo(4L * padded * K);
                // (d) row, rowsToFloat over ranges that start and end inside panels, embedding
                float[] row = new float[K];
                for (int n = 0; n < N; n++) {
                    p.row(n, row, 0);
                    assertThat(row).as("row %d of (%d, %d)", n, N, K).containsExactly(Arrays.copyOfRange(w, n * K, (n + 1) * K));
                }
                for (int[] range : new int[][]{{0, N}, {N / 3, N - N / 3}, {N - 1, 1}, {Math.min(N - 1, 45), Math.min(N - Math.min(N - 1, 45), 52)}}) {
                    float[] dst = new float[1 + range[1] * K];
                    p.rowsToFloat(range[0], range[1], dst, 1);
                    assertThat(Arrays.copyOfRange(dst, 1, dst.length)).as("rows %s of (%d, %d)", Arrays.toString(range), N, K)
                            .containsExactly(Arrays.copyOfRange(w, range[0] * K, (range[0] + range[1]) * K));
                }
                int[] ids = {N - 1, 0, N / 2};
                Tensor e = p.embedding(ids, 1, 3);
                assertThat(e.shape()).containsExactly(1, 3, K);
                for (int i = 0; i < 3; i++) {
                    assertThat(Arrays.copyOfRange(e.data(), i * K, (i + 1) * K)).containsExactly(Arrays.copyOfRange(w, ids[i] * K, (ids[i] + 1) * K));
                }
            }
        }
    }

    @Test
    void loadersPathsGiveTheSamePanels() {
        // encodeRows in chunks (a loader streaming a file) and wrap over a file's float32 bytes: the panels of encode
        Random rnd = new Random(9);
        int N = 101, K = 33;
        float[] w = KernelTestSupport.randn(rnd, N * K, 1f);
        PackedMatrix want = PackedMatrix.encode(P, w, N, K);
        PackedMatrix chunks = PackedMatrix.empty(P, N, K);
        for (int r0 = 0; r0 < N; r0 += 17) chunks.encodeRows(w, r0 * K, r0, Math.min(17, N - r0));
        assertThat(chunks.panels).containsExactly(want.panels);
        var bytes = java.lang.foreign.MemorySegment.ofArray(new byte[4 * N * K]);
        for (int i = 0; i < w.length; i++) bytes.set(PackedMatrix.LF, 4L * i, w[i]);
        for (PackedMatrix.Halves h : PackedMatrix.Halves.values()) {
            assertThat(PackedMatrix.inPlace(P, h)).isFalse();
            assertThat(PackedMatrix.wrap(P, N, K, bytes, h).panels).containsExactly(want.panels);
        }
    }

    @Test
    void linearAddsTheBiasAfterTheChain() {
        Random rnd = new Random(13);
        for (int N : new int[]{49, 97}) {
            int K = 64, m = 3;
            float[] w = KernelTestSupport.randn(rnd, N * K, 0.3f), x = KernelTestSupport.randn(rnd, m * K, 1f), b = KernelTestSupport.randn(rnd, N, 1f);
            PackedMatrix p = PackedMatrix.encode(P, w, N, K);
            try (ProductMode.Scope s = ProductMode.use(ProductMode.ROWS)) {
                float[] chain = new float[m * N];
                p.matmulNT(x, 0, m, chain, 0);
                Tensor y = p.linear(Tensor.of(x, 1, m, K), Tensor.of(b, N));
                assertThat(y.shape()).containsExactly(1, m, N);
                for (int i = 0; i < m; i++) {
                    for (int n = 0; n < N; n++) {
                        assertThat(y.data()[i * N + n]).as("(%d, %d)", i, n).isEqualTo(chain[i * N + n] + b[n]);
                        double ref = b[n];
                        for (int k = 0; k < K; k++) ref += (double) x[i * K + k] * w[n * K + k];
                        assertThat((double) y.data()[i * N + n]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4));
                    }
                }
            }
        }
    }

    @Test
    void sameBitsColdAndWarm() {
        // the interpreter's first products and C2's compiled kernels: the same chains, the same bits
        Random rnd = new Random(11);
        PackedMatrix p = PackedMatrix.encode(P, KernelTestSupport.randn(rnd, 97 * 160, 0.3f), 97, 160);
        float[] x = KernelTestSupport.randn(rnd, 9 * 160, 1f);
        for (int m : new int[]{1, 9}) {
            float[] cold = product(p, ProductMode.ROWS, x, 0, m), warm = null;
            for (int i = 0; i < 3000; i++) warm = product(p, ProductMode.ROWS, x, 0, m);
            assertThat(warm).as("m=%d", m).containsExactly(cold);
        }
    }
}
