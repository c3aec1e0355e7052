package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PackedMatrix#linear} and {@link PackedMatrix#linearGelu} on panels (float32, and F16/BF16
 * when the JVM takes half panels): decoding (few rows) and prompts (many: the float32 chains, the
 * halves' packed GEMM) add the bias and apply GELU as the products store, and must give what the product
 * followed by the separate passes ({@link Elementwise#addToRows}, {@link Ops#gelu}) gives: bit for
 * bit where the output rows are whole vectors, as GPT-2's are; a row's result must not depend on
 * how many rows share the product or on the thread count.
 */
class PanelEpilogueTest {
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    private static float[] random(Random r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (r.nextGaussian() * 0.5);
        return f;
    }

    /** The product, then the bias pass, then GELU (or not), as separate passes. */
    private static float[] separate(PackedMatrix p, float[] x, int m, float[] bias, boolean gelu) {
        return separate(p, x, m, bias, gelu, ProductMode.ROWS);
    }

    private static float[] separate(PackedMatrix p, float[] x, int m, float[] bias, boolean gelu, ProductMode mode) {
        float[] y = new float[m * p.rows()];
        try (ProductMode.Scope s = ProductMode.use(mode)) {
            p.matmulNT(x, 0, m, y, 0);
        }
        if (bias != null) Elementwise.addToRows(Simd.ENABLED, y, 0, bias, m, p.rows());
        return gelu ? Ops.gelu(Tensor.of(y, m, p.rows())).data() : y;
    }

    private static float[] fused(PackedMatrix p, float[] x, int m, float[] bias, boolean gelu) {
        return fused(p, x, m, bias, gelu, ProductMode.ROWS);
    }

    private static float[] fused(PackedMatrix p, float[] x, int m, float[] bias, boolean gelu, ProductMode mode) {
        Tensor t = Tensor.of(x.clone(), m, p.cols());
        Tensor b = bias == null ? null : Tensor.of(bias, bias.length);
        try (GradMode g = GradMode.noGrad(); ProductMode.Scope s = ProductMode.use(mode)) {
            return (gelu ? p.linearGelu(t, b) : p.linear(t, b)).data().clone();
        }
    }

    private static void same(float[] want, float[] got, String what) {
        assertThat(got).hasSize(want.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                throw new AssertionError(what + ": index " + i + " got " + got[i] + " want " + want[i]);
            }
        }
    }

    @Test
    void biasAndGeluInTheStoresAreTheSeparatePassesBitForBit() {
        Random r = new Random(11);
        // rows of whole vectors (16-lane and 8-lane): one, two panels and a ragged third, GPT-2's widths
        for (int n : new int[]{16, 96, 112, 3072, 768}) {
            int k = n == 3072 ? 768 : 37;
            PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, random(r, n * k), n, k);
            float[] bias = random(r, n);
            for (int m : new int[]{1, 2, 5, 8, 9}) {
                float[] x = random(r, m * k);
                for (boolean gelu : new boolean[]{false, true}) {
                    same(separate(p, x, m, bias, gelu), fused(p, x, m, bias, gelu), "n " + n + " m " + m + " gelu " + gelu);
                    same(separate(p, x, m, null, gelu), fused(p, x, m, null, gelu), "no bias, n " + n + " m " + m + " gelu " + gelu);
                }
            }
        }
    }

    @Test
    void raggedRowsGetTheBiasExactlyAndGeluToAnUlp() {
        Random r = new Random(12);
        for (int n : new int[]{1, 15, 47, 49, 97}) {
            PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, random(r, n * 29), n, 29);
            float[] bias = random(r, n);
            for (int m : new int[]{1, 3, 8}) {
                float[] x = random(r, m * 29);
                same(separate(p, x, m, bias, false), fused(p, x, m, bias, false), "bias, n " + n + " m " + m);
                // GELU: the separate pass takes the flat array's last partial vector one element at a
                // time (Math.exp), the stores a masked vector (VecMath.exp): the same formula to an ulp or so
                float[] want = separate(p, x, m, bias, true), got = fused(p, x, m, bias, true);
                for (int i = 0; i < want.length; i++) assertThat(got[i]).as("n %d m %d index %d", n, m, i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-6f + 1e-6f * Math.abs(want[i])));
            }
        }
    }

    @Test
    void aRowsFusedResultDoesNotDependOnTheBatchOrTheThreads() {
        Random r = new Random(13);
        int n = 3072, k = 768;
        PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, random(r, n * k), n, k);
        float[] bias = random(r, n), x = random(r, 8 * k);
        float[] all = fused(p, x, 8, bias, true);
        for (int threads : new int[]{1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int i = 0; i < 8; i++) {
                float[] alone = fused(p, java.util.Arrays.copyOfRange(x, i * k, (i + 1) * k), 1, bias, true);
                same(java.util.Arrays.copyOfRange(all, i * n, (i + 1) * n), alone, "row " + i + " alone, " + threads + " threads");
            }
        }
        // and the epilogue did something: GELU of (x·W + b) is not x·W
        assertThat(all[0]).isNotEqualTo(separate(p, x, 8, null, false)[0]);
    }
    @Test
    void halfPanelsStoreTheSameEpilogueBitForBit() {
        Random r = new Random(14);
        for (PackedMatrix.Format format : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
            for (int n : new int[]{96, 112, 768}) {
                int k = 64;
                PackedMatrix p = PackedMatrix.encode(format, random(r, n * k), n, k);
                org.junit.jupiter.api.Assumptions.assumeTrue(p.halfPanels != null, "half panels are off in this JVM");
                float[] bias = random(r, n);
                for (int m : new int[]{1, 3, 8, 9}) {
                    float[] x = random(r, m * k);
                    for (boolean gelu : new boolean[]{false, true}) {
                        same(separate(p, x, m, bias, gelu), fused(p, x, m, bias, gelu), format + " n " + n + " m " + m + " gelu " + gelu);
                    }
                }
            }
        }
    }

    @Test
    void aPromptsProductsStoreTheSameEpilogueBitForBit() {
        // a prompt's products add the bias and apply GELU as they store: float32 panels in the
        // chains' stores, many rows in groups of eight (the transposed input from the arena, on all
        // threads); panels of halves in the packed GEMM's, each tile after its last k block (one and
        // two k blocks, KC = 256; A blocks that stay in L2 and one that does not, MB = 256 rows;
        // ragged last tiles); one and two threads
        for (PackedMatrix.Format format : new PackedMatrix.Format[]{PackedMatrix.Format.F32_PANELS, PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
            promptEpilogue(format);
        }
    }

    private void promptEpilogue(PackedMatrix.Format format) {
        Random r = new Random(15);
        for (int threads : new int[]{1, 2}) {
            Parallel.setThreads(threads);
            for (int[] nk : new int[][]{{16, 37}, {96, 300}, {112, 64}, {768, 768}, {3072, 300}}) {
                int n = nk[0], k = nk[1];
                PackedMatrix p = PackedMatrix.encode(format, random(r, n * k), n, k);
                if (format != PackedMatrix.Format.F32_PANELS && p.halfPanels == null) return; // (half panels are off in this JVM)
                float[] bias = random(r, n);
                for (int m : new int[]{1, 5, 9, 17, 40, 300}) {
                    if (m == 300 && n * k > 1 << 20) continue;
                    float[] x = random(r, m * k);
                    for (boolean gelu : new boolean[]{false, true}) {
                        String what = format + ", " + threads + " threads, n " + n + " k " + k + " m " + m + " gelu " + gelu;
                        same(separate(p, x, m, bias, gelu, ProductMode.PACKED), fused(p, x, m, bias, gelu, ProductMode.PACKED), what);
                        same(separate(p, x, m, null, gelu, ProductMode.PACKED), fused(p, x, m, null, gelu, ProductMode.PACKED), "no bias, " + what);
                    }
                }
            }
        }
    }

    @Test
    void aPromptsRaggedColumnsGetTheBiasExactly() {
        Random r = new Random(17);
        for (int n : new int[]{1, 15, 47, 97}) {
            PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, random(r, n * 29), n, 29);
            float[] bias = random(r, n), x = random(r, 33 * 29);
            same(separate(p, x, 33, bias, false, ProductMode.PACKED), fused(p, x, 33, bias, false, ProductMode.PACKED), "n " + n);
            float[] want = separate(p, x, 33, bias, true, ProductMode.PACKED), got = fused(p, x, 33, bias, true, ProductMode.PACKED);
            for (int i = 0; i < want.length; i++) assertThat(got[i]).as("n %d index %d", n, i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-6f + 1e-6f * Math.abs(want[i])));
        }
    }
}
