package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** F16, BF16, Q8_0, Q4_0, Q4_1 and F32_PANELS weight kernels: SIMD against the scalar twin and a float64 reference, on awkward sizes. */
class PackedMatrixTest {
    private static final int[] ROWS = {1, 3, 67, 13};
    private static final int[] COLS = {32, 96, 544};
    private static final int[] ODD_COLS = {1, 7, 15, 17, 31, 33, 47, 100, 768 + 17};
    private static final int[] MS = {1, 2, 3, 5, 11};

    /** The weights as the format stores them, widened back to float64 row by row. */
    private static double[] dequantized(PackedMatrix p) {
        float[] row = new float[p.cols()];
        double[] out = new double[p.rows() * p.cols()];
        for (int r = 0; r < p.rows(); r++) {
            p.row(r, row, 0);
            for (int k = 0; k < p.cols(); k++) out[r * p.cols() + k] = row[k];
        }
        return out;
    }

    private static void check(PackedMatrix.Format f, int rows, int cols, Random rnd) {
        float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.5f);
        PackedMatrix p = PackedMatrix.encode(f, w, rows, cols);
        double[] wd = dequantized(p);
        // the stored weights are close to the originals (Q8_0: within half a step of each block's scale)
        for (int i = 0; i < w.length; i++) {
            double amax = 0, lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE; // over the weight's block of 32
            for (int j = i / 32 * 32; j < Math.min(w.length, i / 32 * 32 + 32); j++) {
                amax = Math.max(amax, Math.abs(w[j]));
                lo = Math.min(lo, w[j]);
                hi = Math.max(hi, w[j]);
            }
            double tol = switch (f) {
                case F32, F32_PANELS -> 0;
                case F16 -> Math.abs(w[i]) * 1e-3 + 1e-7;
                case BF16 -> Math.abs(w[i]) * 8e-3 + 1e-30;
                case Q8_0 -> 3.0 / 127 * 0.51; // amax of 0.5-sigma normals stays below ~3
                case Q4_0 -> amax / 8 * 1.01;           // a step of amax/8 (levels −8..7: −amax is clipped to 7 steps)
                case Q4_1 -> (hi - lo) / 15 * 0.51 + 2e-3; // half a step (plus the f16 minimum's rounding)
            };
            assertThat(Math.abs(wd[i] - w[i])).as("%s weight %d", f, i).isLessThanOrEqualTo(tol);
        }
        for (int m : MS) {
            float[] x = KernelTestSupport.randn(rnd, m * cols + 3, 1f);
            double[] ref = new double[m * rows];
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int k = 0; k < cols; k++) s += wd[r * cols + k] * x[3 + i * cols + k];
                    ref[i * rows + r] = s;
                }
            }
            float[] y = new float[m * rows + 2];
            p.matmulNT(x, 3, m, y, 2);
            float[] got = java.util.Arrays.copyOfRange(y, 2, y.length);
            KernelTestSupport.assertClose(f + " " + rows + "x" + cols + " m=" + m, ref, got, 1e-4, 2e-4 * Math.sqrt(cols));
            // the SIMD row kernel against its scalar twin
            float[] a = new float[m], b = new float[m];
            for (int r = 0; r < rows; r++) {
                PackedPaths.dotRowSimd(p, r, x, 3, m, a);
                PackedPaths.dotRowScalar(p, r, x, 3, m, b);
                for (int i = 0; i < m; i++) {
                    assertThat((double) a[i]).as("%s row %d m %d", f, r, i).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-4 * Math.sqrt(cols) + 1e-4 * Math.abs(b[i])));
                    // F16/BF16: the twin adds in the kernels' order (lanes, lane sums, tail), so the same bits
                    boolean half = f == PackedMatrix.Format.F16 || f == PackedMatrix.Format.BF16;
                    if (half && Simd.ENABLED && PackedKernels.OK) assertThat(a[i]).as("%s twin row %d m %d", f, r, i).isEqualTo(b[i]);
                    // F32_PANELS: the twin is the kernels' own chain of fused multiply-adds
                    if (f == PackedMatrix.Format.F32_PANELS) assertThat(a[i]).as("%s twin row %d m %d", f, r, i).isEqualTo(b[i]);
                    // the product (rows in groups; F16 with the input pre-scaled) gives the row kernel's bits
                    // (F32 follows the float32 GEMM's paths instead: f32IsTheFloatArrayBitForBit)
                    if (m <= 8 && Simd.ENABLED && f != PackedMatrix.Format.F32) assertThat(got[i * rows + r]).as("%s product row %d m %d", f, r, i).isEqualTo(a[i]);
                }
            }
            // rows computed in a group give exactly the bits of rows computed alone
            for (int r = 0; r < rows; r += 8) {
                int n = Math.min(8, rows - r);
                float[] group = new float[n], alone = new float[1];
                PackedPaths.dotGroupSimd(p, r, n, x, 3, group);
                for (int j = 0; j < n; j++) {
                    PackedPaths.dotRowSimd(p, r + j, x, 3, 1, alone);
                    assertThat(group[j]).as("%s group row %d", f, r + j).isEqualTo(alone[0]);
                }
            }
        }
    }

    @Test
    void productsMatchTheReferenceOnAwkwardSizes() {
        Random rnd = new Random(5);
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            for (int rows : ROWS) {
                for (int cols : COLS) check(f, rows, cols, rnd);
            }
        }
        for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
            for (int cols : ODD_COLS) check(f, 5, cols, rnd);
        }
    }

    @Test
    void f32IsTheFloatArrayBitForBit() {
        // a mapped F32 matrix must give exactly what the float32 array gives through Gemm, so that
        // generate's tokens do not change when the weights are used from the file
        Random rnd = new Random(21);
        int[][] shapes = {{1, 1}, {3, 7}, {5, 17}, {67, 100}, {301, 768}, {130, 257}, {1031, 64}, {3001, 600}};
        int before = Parallel.threads();
        try {
            for (int[] s : shapes) {
                int rows = s[0], cols = s[1];
                float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.3f);
                PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32, w, rows, cols);
                for (int m : new int[]{1, 2, 3, 4, 5, 8, 9, 17}) {
                    float[] x = KernelTestSupport.randn(rnd, m * cols + 1, 1f);
                    for (ProductMode mode : ProductMode.values()) {
                        for (int threads : new int[]{1, 3}) {
                            Parallel.setThreads(threads);
                            float[] want = new float[m * rows], got = new float[m * rows];
                            try (ProductMode.Scope sc = ProductMode.use(mode)) {
                                Gemm.matmulNT(x, 1, w, 0, want, 0, m, rows, cols, false);
                                p.matmulNT(x, 1, m, got, 0);
                            }
                            assertThat(got).as("(%d, %d) m=%d %s threads %d", rows, cols, m, mode, threads).containsExactly(want);
                        }
                    }
                }
                float[] row = new float[cols];
                p.row(rows - 1, row, 0);
                assertThat(row).containsExactly(java.util.Arrays.copyOfRange(w, (rows - 1) * cols, rows * cols));
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void readBytesCountTheLayoutInMemory() {
        float[] w = new float[3 * 64];
        for (int i = 0; i < w.length; i++) w[i] = (i % 13 - 6) / 7f;
        // (halves in panels: the last panel's padding to 48 rows is read too)
        assertThat(PackedMatrix.encode(PackedMatrix.Format.BF16, w, 3, 64).readBytes()).isEqualTo((HalfLayout.PANEL ? 48 : 3) * 64 * 2);
        assertThat(PackedMatrix.encode(PackedMatrix.Format.BF16, w, 3, 64, HalfLayout.Layout.TILES).readBytes()).isEqualTo(3 * 64 * 2);
        assertThat(PackedMatrix.encode(PackedMatrix.Format.Q4_0, w, 3, 64).readBytes()).isEqualTo(3 * 2 * (16 + 4));
        assertThat(PackedMatrix.encode(PackedMatrix.Format.Q4_1, w, 3, 64).readBytes()).isEqualTo(3 * 2 * (16 + 8));
    }

    @Test
    void q8Blocks() {
        float[] w = new float[64];
        for (int i = 0; i < 32; i++) w[i] = (i - 16) / 16f;          // amax 1: scale 1/127
        w[40] = -2.54f;                                              // second block: amax 2.54, scale 0.02
        PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.Q8_0, w, 1, 64);
        assertThat(p.byteSize()).isEqualTo(68);
        assertThat(p.readBytes()).isEqualTo(72); // in memory each block's scale is a float32 beside its 32 codes
        float[] back = new float[64];
        p.row(0, back, 0);
        assertThat(back[0]).isEqualTo(-1f * Float.float16ToFloat(Float.floatToFloat16(1f / 127)) * 127);
        assertThat(back[40]).isCloseTo(-2.54f, org.assertj.core.data.Offset.offset(1e-3f));
        assertThat(back[41]).isZero();
        assertThatThrownBy(() -> PackedMatrix.encode(PackedMatrix.Format.Q8_0, new float[40], 1, 40)).hasMessageContaining("multiple of 32");
    }

    @Test
    void everyHalfLayoutGivesTheSameBits() {
        // plain rows (a file's), padded rows and tiles of four rows: the same weights and the same
        // bits of every product, on whole and partial tiles and a last group of 1 to 3 rows
        Random rnd = new Random(13);
        assertThat(HalfLayout.halfStride(512, true)).isEqualTo(2L * 512 + 64);
        assertThat(HalfLayout.halfStride(512 + 16, true)).isEqualTo(2L * 512 + 32);
        assertThat(HalfLayout.halfStride(512, false)).isEqualTo(2L * 512);
        for (int[] s : new int[][]{{7, 512}, {7, 1024}, {5, 37}, {6, 15}, {9, 33}, {4, 16}, {3, 100}, {1, 1}}) {
            int rows = s[0], cols = s[1];
            float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.5f);
            for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
                PackedMatrix plain = PackedMatrix.encode(f, w, rows, cols, HalfLayout.Layout.ROWS);
                for (HalfLayout.Layout layout : new HalfLayout.Layout[]{HalfLayout.Layout.PADDED, HalfLayout.Layout.TILES}) {
                    PackedMatrix other = PackedMatrix.encode(f, w, rows, cols, layout);
                    assertThat(other.tiled).isEqualTo(layout == HalfLayout.Layout.TILES);
                    assertThat(other.byteSize()).isEqualTo(plain.byteSize()); // the weights' bytes, as a file holds them
                    float[] a = new float[cols], b = new float[cols];
                    for (int r = 0; r < rows; r++) {
                        plain.row(r, a, 0);
                        other.row(r, b, 0);
                        assertThat(b).as("%s %s row %d", f, layout, r).containsExactly(a);
                        for (int k = 0; k < cols; k++) assertThat(other.weight(r, k)).isEqualTo(a[k]);
                    }
                    for (int m : new int[]{1, 3}) {
                        float[] x = KernelTestSupport.randn(rnd, m * cols, 1f);
                        float[] y0 = new float[m * rows], y1 = new float[m * rows], s0 = new float[m], s1 = new float[m];
                        plain.matmulNT(x, 0, m, y0, 0);
                        other.matmulNT(x, 0, m, y1, 0);
                        assertThat(y1).as("%s %s (%d, %d) m=%d", f, layout, rows, cols, m).containsExactly(y0);
                        PackedPaths.dotRowScalar(plain, rows - 1, x, 0, m, s0);
                        PackedPaths.dotRowScalar(other, rows - 1, x, 0, m, s1);
                        assertThat(s1).containsExactly(s0);
                    }
                }
            }
        }
    }

    @Test
    void tilesInterleaveFourRowsAVectorAtATime() {
        // (rows 6, cols 37) in tiles of T columns: the first group's rows take turns a tile at a
        // time, the narrower last tile (37 % T columns) too; the last group has two rows
        int T = HalfLayout.TILE, rows = 6, cols = 37, last = cols - cols % T;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = i;
        PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.BF16, w, rows, cols, HalfLayout.Layout.TILES);
        assertThat(p.tiled).isTrue();
        assertThat(p.bits.byteSize()).isEqualTo(2L * rows * cols);
        assertThat(HalfLayout.at(p, 0, 0)).isZero();
        assertThat(HalfLayout.at(p, 1, 0)).isEqualTo(2L * T);
        assertThat(HalfLayout.at(p, 3, 1)).isEqualTo(3 * 2L * T + 2);
        assertThat(HalfLayout.at(p, 0, T)).isEqualTo(2L * 4 * T);
        assertThat(HalfLayout.at(p, 0, last)).isEqualTo(2L * 4 * last);
        assertThat(HalfLayout.at(p, 2, last + 1)).isEqualTo(2L * 4 * last + 2L * 2 * (cols - last) + 2);
        assertThat(HalfLayout.at(p, 5, 0)).isEqualTo(2L * 4 * cols + 2L * T);
        assertThat(HalfLayout.at(p, 5, T + 1)).isEqualTo(2L * 4 * cols + 2L * 2 * T + 2L * T + 2);
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                assertThat(p.bits.get(PackedMatrix.LS, HalfLayout.at(p, r, k))).isEqualTo(Quantize.bf16(r * cols + k));
                assertThat(p.weight(r, k)).isEqualTo(Float.intBitsToFloat(Quantize.bf16(r * cols + k) << 16));
            }
        }
        // wider rows than TILE_COLS keep padded rows (four streams read faster there)
        // (unless -Dmyllm.packed.halfPanels=false, every width takes panels)
        assertThat(HalfLayout.layout(HalfLayout.TILE_COLS)).isEqualTo(HalfLayout.PANEL ? HalfLayout.Layout.PANELS : HalfLayout.TILES ? HalfLayout.Layout.TILES : HalfLayout.Layout.PADDED);
        assertThat(HalfLayout.layout(HalfLayout.TILE_COLS + 1)).isEqualTo(HalfLayout.PANEL ? HalfLayout.Layout.PANELS : HalfLayout.PAD ? HalfLayout.Layout.PADDED : HalfLayout.Layout.ROWS);
    }

    @Test
    void halfProductsGroupRowsAcrossQuartersWithTheBitsOfEachRowAlone() {
        // HalfKernels.product groups the i-th row of each quarter of a thread's range (row-major
        // layouts) or a tile group's four adjacent rows: on row counts
        // that split unevenly (rows left over, ranges not a multiple of 4) and with 1 to 3 threads,
        // every row of every input row must still be the scalar twin's bits for that row alone
        Random rnd = new Random(21);
        int before = Parallel.threads();
        try {
            for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
                for (int rows : new int[]{1, 3, 4, 5, 7, 17, 38, 131, 1001, 2791}) { // (the last two split over threads at 160 and 47 columns)
                    for (int cols : new int[]{16, 47, 160}) {
                        float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.3f);
                        for (PackedMatrix p : new PackedMatrix[]{PackedMatrix.encode(f, w, rows, cols, HalfLayout.Layout.TILES),
                                PackedMatrix.encode(f, w, rows, cols, HalfLayout.Layout.PADDED), mapped(f, w, rows, cols)}) {
                            for (int m : new int[]{1, 3}) {
                                float[] x = KernelTestSupport.randn(rnd, m * cols, 1f), twin = new float[m];
                                for (int threads = 1; threads <= 3; threads++) {
                                    Parallel.setThreads(threads);
                                    float[] y = new float[m * rows];
                                    p.matmulNT(x, 0, m, y, 0);
                                    for (int r = 0; r < rows; r++) {
                                        PackedPaths.dotRowScalar(p, r, x, 0, m, twin);
                                        for (int i = 0; i < m; i++) {
                                            assertThat(y[i * rows + r]).as("%s %dx%d m=%d threads %d row %d input %d", f, rows, cols, m, threads, r, i).isEqualTo(twin[i]);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The matrix {@link PackedMatrix#wrap} makes over a file's bytes (rows not padded) read in place ({@link PackedMatrix.Halves#MAPPED}). */
    private static PackedMatrix mapped(PackedMatrix.Format f, float[] w, int rows, int cols) {
        return PackedMatrix.wrap(f, rows, cols, FileHalvesTest.fileBytes(f, w, rows, cols), PackedMatrix.Halves.MAPPED);
    }

    @Test
    void sameResultWhateverTheThreads() {
        Random rnd = new Random(9);
        float[] w = KernelTestSupport.randn(rnd, 300 * 256, 0.3f);
        float[] x = KernelTestSupport.randn(rnd, 3 * 256, 1f);
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            PackedMatrix p = PackedMatrix.encode(f, w, 299, 256); // 299: groups of 4 rows split unevenly
            int before = Parallel.threads();
            float[] one = new float[897], many = new float[897];
            try {
                Parallel.setThreads(1);
                p.matmulNT(x, 0, 3, one, 0);
                Parallel.setThreads(4);
                p.matmulNT(x, 0, 3, many, 0);
            } finally {
                Parallel.setThreads(before);
            }
            assertThat(many).as(f.name()).containsExactly(one);
        }
    }

    @Test
    void laneSumsAddInAFixedOrder() {
        // upper half onto lower half, until one lane: ((l0 + l8) + (l4 + l12)) + ((l2 + l10) + (l6 + l14)) + ... for 16 lanes
        var sp = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        Random rnd = new Random(3);
        for (int t = 0; t < 200; t++) {
            float[] l = new float[sp.length()];
            for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
            float[] ref = l.clone();
            for (int w = ref.length / 2; w >= 1; w /= 2) {
                for (int i = 0; i < w; i++) ref[i] = ref[i] + ref[i + w];
            }
            // lanes stored at an offset, as the kernels store their accumulators
            float[] stored = new float[l.length + 5];
            System.arraycopy(l, 0, stored, 5, l.length);
            assertThat(PackedKernels.sumLanes(stored, 5)).isEqualTo(ref[0]);
        }
        // the four-row kernels' sum4: each of four vectors' lanes in that order too, at lanes R0..R3
        if (PackedKernels.OK && sp.length() == PackedKernels.L) {
            int[] at = {PackedKernels.R0, PackedKernels.R1, PackedKernels.R2, PackedKernels.R3};
            for (int t = 0; t < 200; t++) {
                var v = new jdk.incubator.vector.FloatVector[4];
                float[] want = new float[4];
                for (int j = 0; j < 4; j++) {
                    float[] l = new float[sp.length()];
                    for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
                    v[j] = jdk.incubator.vector.FloatVector.fromArray(sp, l, 0);
                    for (int w = l.length / 2; w >= 1; w /= 2) {
                        for (int i = 0; i < w; i++) l[i] = l[i] + l[i + w];
                    }
                    want[j] = l[0];
                }
                float[] got = PackedKernels.sum4(v[0], v[1], v[2], v[3]).toArray();
                for (int j = 0; j < 4; j++) assertThat(got[at[j]]).as("row %d", j).isEqualTo(want[j]);
            }
        }
    }

    @Test
    void sameBitsColdAndWarm() {
        // the first products run in the interpreter, the later ones compiled: the bits must not change
        Random rnd = new Random(11);
        float[] w = KernelTestSupport.randn(rnd, 19 * 160, 0.3f);
        w[7] = 1e-6f; // a subnormal half
        float[] x = KernelTestSupport.randn(rnd, 160, 1f);
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            PackedMatrix p = PackedMatrix.encode(f, w, 19, 160);
            float[] cold = new float[19], warm = new float[19];
            p.matmulNT(x, 0, 1, cold, 0);
            for (int i = 0; i < 4000; i++) p.matmulNT(x, 0, 1, warm, 0);
            assertThat(warm).as(f.name()).containsExactly(cold);
        }
    }

    @Test
    void everyFiniteHalfWidensExactly() {
        // all 65536 bit patterns (Inf/NaN zeroed), 64 a row, so each sits once at every place of a
        // load: a one-hot input picks each weight out through the products' widening (F16 with the
        // input pre-scaled, and one row at a time with each weight rescaled for an input of 8192)
        for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
            var bits = java.lang.foreign.Arena.ofAuto().allocate(2 * 65536, 64);
            for (int i = 0; i < 65536; i++) {
                boolean nonFinite = f == PackedMatrix.Format.F16 ? (i & 0x7C00) == 0x7C00 : (i & 0x7F80) == 0x7F80;
                bits.set(PackedMatrix.LS, 2L * i, (short) (nonFinite ? 0 : i));
            }
            for (PackedMatrix.Halves halves : PackedMatrix.Halves.values()) { // the file's rows, and their copy in tiles
                PackedMatrix p = PackedMatrix.wrap(f, 1024, 64, bits, halves);
                float[] y = new float[1024];
                for (float one : f == PackedMatrix.Format.F16 ? new float[]{1f, 8192f} : new float[]{1f}) {
                    for (int c = 0; c < 64; c++) {
                        float[] x = new float[64];
                        x[c] = one;
                        p.matmulNT(x, 0, 1, y, 0);
                        for (int r = 0; r < 1024; r++) {
                            float want = p.weight(r, c) * one + 0f, got = y[r] + 0f; // (+0 and -0 alike)
                            if (Float.floatToIntBits(got) != Float.floatToIntBits(want)) {
                                throw new AssertionError(f + " half 0x" + Integer.toHexString(r * 64 + c) + " times " + one + ": " + got + " want " + want);
                            }
                            if (halves == PackedMatrix.Halves.COPIED && c == 0 && r == 1) assertThat(p.weight(r, c)).isEqualTo(f == PackedMatrix.Format.F16 ? Float.float16ToFloat((short) 64) : Float.intBitsToFloat(64 << 16));
                        }
                    }
                }
            }
        }
    }

    @Test
    void wrapsFileBytes() {
        // F16 in place (Halves.MAPPED) reads the bytes (a change to them shows); copied (Halves.COPIED)
        // it does not (a change does not show); Q8_0 is repacked from 34-byte blocks
        Random rnd = new Random(13);
        float[] w = KernelTestSupport.randn(rnd, 3 * 64, 0.5f);
        var f16 = java.lang.foreign.Arena.ofAuto().allocate(2 * 3 * 64);
        for (int i = 0; i < w.length; i++) f16.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, Float.floatToFloat16(w[i]));
        PackedMatrix h = PackedMatrix.wrap(PackedMatrix.Format.F16, 3, 64, f16, PackedMatrix.Halves.MAPPED);
        PackedMatrix copy = PackedMatrix.wrap(PackedMatrix.Format.F16, 3, 64, f16, PackedMatrix.Halves.COPIED);
        for (PackedMatrix.Halves halves : PackedMatrix.Halves.values()) {
            assertThat(PackedMatrix.inPlace(PackedMatrix.Format.F16, halves)).isEqualTo(halves == PackedMatrix.Halves.MAPPED);
            assertThat(PackedMatrix.inPlace(PackedMatrix.Format.BF16, halves)).isEqualTo(halves == PackedMatrix.Halves.MAPPED);
            assertThat(PackedMatrix.inPlace(PackedMatrix.Format.F32, halves)).isTrue();
            assertThat(PackedMatrix.inPlace(PackedMatrix.Format.Q8_0, halves)).isFalse();
        }
        float[] row = new float[64];
        h.row(2, row, 0);
        assertThat(row[5]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(w[2 * 64 + 5])));
        f16.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * (2 * 64 + 5), Float.floatToFloat16(7f));
        h.row(2, row, 0);
        assertThat(row[5]).isEqualTo(7f);
        copy.row(2, row, 0);
        assertThat(row[5]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(w[2 * 64 + 5])));

        java.nio.ByteBuffer q = java.nio.ByteBuffer.allocate(3 * 2 * 34).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        dev.myllm.io.GgufType.Q8_0.quantize(w, 0, w.length, q);
        PackedMatrix fromFile = PackedMatrix.wrap(PackedMatrix.Format.Q8_0, 3, 64, java.lang.foreign.MemorySegment.ofArray(q.array()), PackedMatrix.Halves.MAPPED);
        PackedMatrix encoded = PackedMatrix.encode(PackedMatrix.Format.Q8_0, w, 3, 64);
        float[] a = new float[64], b = new float[64];
        for (int r = 0; r < 3; r++) {
            fromFile.row(r, a, 0);
            encoded.row(r, b, 0);
            assertThat(a).containsExactly(b);
        }
        assertThatThrownBy(() -> PackedMatrix.wrap(PackedMatrix.Format.Q8_0, 3, 64, java.lang.foreign.MemorySegment.ofArray(new byte[10]), PackedMatrix.Halves.MAPPED))
                .hasMessageContaining("needs 204 bytes");
    }

    @Test
    void rowsWidenToTheWeightsOneByOne() {
        // row() (embedding lookups, and the tiles that prompts multiply) widens the block types a block
        // at a time: exactly the values weight(r, k) gives, in every group of Q8_0's layout
        Random rnd = new Random(23);
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            PackedMatrix p = PackedMatrix.encode(f, KernelTestSupport.randn(rnd, 7 * 96, 0.5f), 7, 96);
            float[] row = new float[96];
            for (int r = 0; r < 7; r++) {
                p.row(r, row, 0);
                for (int k = 0; k < 96; k++) assertThat(row[k]).as("%s (%d, %d)", f, r, k).isEqualTo(p.weight(r, k));
            }
        }
    }

    @Test
    void q8GroupsKeepTheirScalesAmongTheirCodes() {
        // 7 rows: a group of four and a last group of three, each block's codes then its rows' scales;
        // from a file's 34-byte blocks or encoded, the same weights, and products with the bits of
        // the rows computed one by one whatever the threads
        Random rnd = new Random(17);
        int rows = 7, cols = 96;
        float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.5f);
        java.nio.ByteBuffer q = java.nio.ByteBuffer.allocate(rows * 3 * 34).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        dev.myllm.io.GgufType.Q8_0.quantize(w, 0, w.length, q);
        PackedMatrix fromFile = PackedMatrix.wrap(PackedMatrix.Format.Q8_0, rows, cols, java.lang.foreign.MemorySegment.ofArray(q.array()), PackedMatrix.Halves.MAPPED);
        PackedMatrix encoded = PackedMatrix.encode(PackedMatrix.Format.Q8_0, w, rows, cols);
        assertThat(fromFile.codes).hasSize(rows * cols / 32 * PackedMatrix.Q8_BLOCK).containsExactly(encoded.codes);
        // row 5 (the second of the last group of three), block 2: after the first group (4 rows, 3 blocks of
        // 36 bytes) and two blocks of this one, after row 4's codes; its scale after the block's 96 codes and row 4's scale
        assertThat(encoded.codeAt(5, 2)).isEqualTo(4L * 3 * 36 + 2 * 3 * 36 + 32);
        assertThat(encoded.scaleAt(5, 2)).isEqualTo(4L * 3 * 36 + 2 * 3 * 36 + 96 + 4);
        float[] x = KernelTestSupport.randn(rnd, cols, 1f), alone = new float[1];
        int before = Parallel.threads();
        try {
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                float[] y = new float[rows];
                fromFile.matmulNT(x, 0, 1, y, 0);
                for (int r = 0; r < rows; r++) {
                    if (Simd.ENABLED) PackedPaths.dotRowSimd(fromFile, r, x, 0, 1, alone);
                    else PackedPaths.dotRowScalar(fromFile, r, x, 0, 1, alone);
                    assertThat(y[r]).as("row %d, %d threads", r, threads).isEqualTo(alone[0]);
                    double ref = 0;
                    for (int k = 0; k < cols; k++) ref += (double) fromFile.weight(r, k) * x[k];
                    assertThat((double) y[r]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
    @Test
    void aDecodeProductAllocatesNoBuffers() {
        // decoding runs dozens of these a token: lanes and the F16 scaled input are per-thread
        // buffers made once, so what is left is a few small objects (the loop's lambda)
        Random rnd = new Random(4);
        float[] w = new float[768 * 768], x = new float[768], y = new float[768];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.02f;
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        int threads = Parallel.threads();
        Parallel.setThreads(1); // every allocation on this thread
        try (ProductMode.Scope s = ProductMode.use(ProductMode.ROWS)) {
            for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F32, PackedMatrix.Format.F16,
                    PackedMatrix.Format.BF16, PackedMatrix.Format.Q8_0, PackedMatrix.Format.Q4_0, PackedMatrix.Format.Q4_1,
                    PackedMatrix.Format.F32_PANELS}) {
                PackedMatrix p = PackedMatrix.encode(f, w, 768, 768);
                long least = SteadyAllocation.leastBytesPerCall(() -> p.matmulNT(x, 0, 1, y, 0), 300, 20);
                assertThat(least).as(f + ": bytes allocated per one-row 768 x 768 product").isLessThan(256);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }
}
