package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GemmTest {
    /** Which of the three products; the layout of A and B follows from it. */
    enum Kind { NT, NN, TN }

    /** One of the products under test, with the common argument list. */
    @FunctionalInterface
    interface Product {
        void run(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int M, int N, int K, boolean acc);
    }

    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    static Product simd(Kind kind) {
        return switch (kind) {
            case NT -> Gemm::matmulNT;
            case NN -> Gemm::matmulNN;
            case TN -> Gemm::matmulTN;
        };
    }

    static Product scalar(Kind kind) {
        return switch (kind) {
            case NT -> Gemm::matmulNTScalar;
            case NN -> Gemm::matmulNNScalar;
            case TN -> Gemm::matmulTNScalar;
        };
    }

    /** The reference: double-precision sums; A and B read through the kind's layout. */
    static double[] reference(Kind kind, float[] a, int aOff, float[] b, int bOff, float[] c0, int cOff,
                              int M, int N, int K, boolean acc) {
        double[] out = new double[M * N];
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                double s = acc ? c0[cOff + m * N + n] : 0.0;
                for (int k = 0; k < K; k++) {
                    float av = kind == Kind.TN ? a[aOff + k * M + m] : a[aOff + m * K + k];
                    float bv = kind == Kind.NT ? b[bOff + n * K + k] : b[bOff + k * N + n];
                    s += (double) av * bv;
                }
                out[m * N + n] = s;
            }
        }
        return out;
    }

    /** Same as the reference's Σ|a·b| (plus |c0|): the scale that rounding errors are relative to. */
    static double[] magnitude(Kind kind, float[] a, int aOff, float[] b, int bOff, float[] c0, int cOff,
                              int M, int N, int K, boolean acc) {
        float[] absA = abs(a), absB = abs(b), absC = abs(c0);
        return reference(kind, absA, aOff, absB, bOff, absC, cOff, M, N, K, acc);
    }

    static float[] abs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
        return y;
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }

    static List<int[]> shapes() {
        int[] small = {1, 3, 7, 17, 63, 129};
        List<int[]> out = new ArrayList<>();
        for (int m : small) for (int n : small) for (int k : small) {
            if ((m * 31 + n * 7 + k) % 3 == 0 || m == 1 || (m == 129 && n == 129)) out.add(new int[]{m, n, k});
        }
        out.add(new int[]{1000, 17, 63});
        out.add(new int[]{7, 1000, 129});
        out.add(new int[]{63, 129, 1000});
        out.add(new int[]{129, 63, 1000});
        out.add(new int[]{1, 1000, 1000});
        out.add(new int[]{17, 3, 1000});
        out.add(new int[]{300, 500, 600});   // several k blocks and an uneven partition
        return out;
    }

    @Test
    void simdAndScalarMatchDoubleReferenceOnAwkwardShapes() {
        SplittableRandom rnd = new SplittableRandom(42);
        int checked = 0;
        for (Kind kind : Kind.values()) {
            for (int[] s : shapes()) {
                int M = s[0], N = s[1], K = s[2];
                boolean acc = (M + N + K) % 2 == 0;
                int aOff = rnd.nextInt(5), bOff = rnd.nextInt(5), cOff = rnd.nextInt(5);
                float[] a = random(rnd, aOff + M * K + 3);
                float[] b = random(rnd, bOff + K * N + 2);
                float[] c0 = random(rnd, cOff + M * N + 4);
                double[] ref = reference(kind, a, aOff, b, bOff, c0, cOff, M, N, K, acc);
                double[] mag = magnitude(kind, a, aOff, b, bOff, c0, cOff, M, N, K, acc);
                float[] cv = c0.clone(), cs = c0.clone();
                simd(kind).run(a, aOff, b, bOff, cv, cOff, M, N, K, acc);
                scalar(kind).run(a, aOff, b, bOff, cs, cOff, M, N, K, acc);
                String where = kind + " M=" + M + " N=" + N + " K=" + K + " acc=" + acc;
                for (int i = 0; i < M * N; i++) {
                    // float32 sums of K terms: error bound ~ K·eps·Σ|a·b|; a loose multiple of it
                    double tol = 1e-6 + 4 * (K + 2) * 6e-8 * mag[i];
                    assertThat((double) cv[cOff + i]).as("simd %s at %d", where, i).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(tol));
                    assertThat((double) cs[cOff + i]).as("scalar %s at %d", where, i).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(tol));
                }
                // untouched around the output slice
                for (int i = 0; i < cOff; i++) assertThat(cv[i]).isEqualTo(c0[i]);
                for (int i = cOff + M * N; i < c0.length; i++) assertThat(cv[i]).isEqualTo(c0[i]);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(150);
    }

    @Test
    void resultsAreBitwiseIdenticalForAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(7);
        // {63, 64, 300}: split by columns on 2 threads but by rows on 3 (only 2 column tiles);
        // {1100, 1200, 64} and {64, 200, 17000}: A too tall or too big to share, fixed ranges per thread
        int[][] shapes = {{256, 300, 520}, {40, 1000, 300}, {1000, 40, 300}, {3, 2000, 300}, {2, 700, 1000},
                {129, 129, 129}, {63, 64, 300}, {1100, 1200, 64}, {64, 200, 17000}};
        for (Kind kind : Kind.values()) {
            for (int[] s : shapes) {
                int M = s[0], N = s[1], K = s[2];
                float[] a = random(rnd, M * K), b = random(rnd, K * N), c0 = random(rnd, M * N);
                float[][] first = new float[2][];
                for (int t : new int[]{1, 2, 3, 1}) {
                    Parallel.setThreads(t);
                    for (int acc = 0; acc < 2; acc++) {
                        float[] c = c0.clone();
                        simd(kind).run(a, 0, b, 0, c, 0, M, N, K, acc == 1);
                        if (first[acc] == null) first[acc] = c;
                        else assertThat(c).as("%s %s threads=%d acc=%d", kind, java.util.Arrays.toString(s), t, acc)
                                .isEqualTo(first[acc]);
                    }
                }
            }
        }
    }

    @Test
    void packedPanelsGiveTheSameBitsWhereverTheirBuffersStart() {
        SplittableRandom rnd = new SplittableRandom(9);
        // shared packed A and B, per-thread packing, B micro-panels packed just before use, edge tiles
        int[][] shapes = {{256, 300, 520}, {40, 1000, 300}, {1000, 40, 300}, {129, 129, 129}, {1100, 1200, 64}, {64, 200, 17000}};
        int first = GemmDriver.packBase;
        try {
            for (int t : new int[]{1, 2}) {
                Parallel.setThreads(t);
                for (int[] s : shapes) {
                    int M = s[0], N = s[1], K = s[2];
                    float[] a = random(rnd, M * K), b = random(rnd, N * K), c0 = random(rnd, M * N);
                    float[] expected = null;
                    for (int base : new int[]{0, Aligned.base(), 5, 15}) {
                        GemmDriver.packBase = base;
                        float[] c = c0.clone();
                        GemmDriver.run(a, 0, K, 1, b, 0, 1, K, c, 0, M, N, K, true); // C += A·Bᵀ
                        if (expected == null) expected = c;
                        else assertThat(c).as("%s base=%d threads=%d", java.util.Arrays.toString(s), base, t).isEqualTo(expected);
                    }
                    assertThat(expected).isNotEqualTo(c0);
                }
            }
        } finally {
            GemmDriver.packBase = first;
        }
    }

    @Test
    void splitSideDependsOnThreadCountOnlyWhenTilesAreScarce() {
        // 63 × 64 as 16-lane tiles (8 of MR rows, 2 of NR columns; the tile counts are arguments, so
        // the case holds whatever the vector width the tests run with)
        assertThat(GemmDriver.splitByColumns(63, 64, 8, 2, 2)).isTrue();
        assertThat(GemmDriver.splitByColumns(63, 64, 8, 2, 3)).isFalse();
        assertThat(GemmDriver.splitByColumns(256, 2304, 32, 72, 2)).isTrue();     // forward: W's rows split
        assertThat(GemmDriver.splitByColumns(50304, 768, 6288, 24, 2)).isFalse(); // LM-head dW: rows split
    }

    @Test
    void knownSmallProduct() {
        // A = [[1,2],[3,4]] (M=2, K=2); W = [[1,0],[0,1],[1,1]] (N=3, K=2): X·Wᵀ = [[1,2,3],[3,4,7]]
        float[] a = {1, 2, 3, 4};
        float[] w = {1, 0, 0, 1, 1, 1};
        float[] c = new float[6];
        Gemm.matmulNT(a, 0, w, 0, c, 0, 2, 3, 2, false);
        assertThat(c).containsExactly(1, 2, 3, 3, 4, 7);
        Gemm.matmulNT(a, 0, w, 0, c, 0, 2, 3, 2, true);
        assertThat(c).containsExactly(2, 4, 6, 6, 8, 14);
        // Aᵀ·B with A = (K=2, M=2) [[1,2],[3,4]], B = (K=2, N=1) [[1],[1]]: [[4],[6]]
        float[] d = new float[2];
        Gemm.matmulTN(a, 0, new float[]{1, 1}, 0, d, 0, 2, 1, 2, false);
        assertThat(d).containsExactly(4, 6);
        // K = 0: C = 0 unless accumulating
        float[] e = {5, 5};
        Gemm.matmulNN(new float[0], 0, new float[0], 0, e, 0, 1, 2, 0, true);
        assertThat(e).containsExactly(5, 5);
        Gemm.matmulNN(new float[0], 0, new float[0], 0, e, 0, 1, 2, 0, false);
        assertThat(e).containsExactly(0, 0);
    }

    @Test
    void rejectsBadArgumentsWithClearMessages() {
        float[] x = new float[12];
        assertThatThrownBy(() -> Gemm.matmulNT(x, 0, x, 0, x, 0, 3, 4, 5, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("matmulNT: a (M, K) needs 15 floats from offset 0 but has length 12");
        assertThatThrownBy(() -> Gemm.matmulNN(x, 0, new float[7], 0, x, 0, 2, 4, 2, false))
                .hasMessageContaining("matmulNN: b (K, N) needs 8 floats");
        assertThatThrownBy(() -> Gemm.matmulTN(x, 0, x, 0, x, 5, 2, 4, 1, false))
                .hasMessageContaining("matmulTN: c (M, N) needs 8 floats from offset 5");
        assertThatThrownBy(() -> Gemm.matmulNT(x, -1, x, 0, x, 0, 1, 1, 1, false))
                .hasMessageContaining("a offset must be >= 0, got -1");
        assertThatThrownBy(() -> Gemm.matmulNT(x, 0, x, 0, x, 0, -2, 1, 1, false))
                .hasMessageContaining("sizes must be >= 0, got M=-2");
        assertThatThrownBy(() -> Gemm.matmulNN(null, 0, x, 0, x, 0, 1, 1, 1, false))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("matmulNN: a is null");
    }

    @Test
    void microKernelAndItsScalarTwinGiveTheSameBits() {
        SplittableRandom r = new SplittableRandom(41);
        int mr = GemmKernel.MR, nr = GemmKernel.NR, ldc = nr + 5;
        for (int kc : new int[]{0, 1, 7, 64, 257}) {
            float[] ap = new float[3 + kc * mr], bp = new float[2 + kc * nr], c0 = new float[4 + mr * ldc];
            for (int i = 0; i < ap.length; i++) ap[i] = (float) r.nextGaussian();
            for (int i = 0; i < bp.length; i++) bp[i] = (float) r.nextGaussian();
            for (int i = 0; i < c0.length; i++) c0[i] = (float) r.nextGaussian();
            for (boolean overwrite : new boolean[]{true, false}) {
                float[] c1 = c0.clone(), c2 = c0.clone();
                GemmKernel.tile(ap, 3, bp, 2, kc, c1, 4, ldc, overwrite);
                GemmKernel.tileScalar(ap, 3, bp, 2, kc, c2, 4, ldc, overwrite);
                assertThat(c1).as("kc=%d overwrite=%s", kc, overwrite).isEqualTo(c2);
                if (kc > 0) assertThat(c1).as("the tile wrote something").isNotEqualTo(c0);
            }
        }
    }

    @Test
    void packingAnNtOperandGivesItsTransposeWhateverTheBlockSizes() {
        // B is (N, K) row-major (the NT product): panel p·NR + j holds B[n0 + j, pc + p]; whole 16 × 16
        // blocks go through the register transpose, k tails and partial panels element by element
        SplittableRandom r = new SplittableRandom(5);
        int nr = GemmKernel.NR;
        for (int[] s : new int[][]{{70, 300, 3, 1, 256}, {2 * nr, 64, 0, 0, 16}, {nr, 40, 7, 5, 17}, {nr + 1, 33, 0, 2, 31}, {5, 16, 1, 0, 15}}) {
            int n = s[0], k = s[1], n0 = s[2], pc = s[3], kc = s[4], bOff = 3, nc = n - n0;
            float[] b = random(r, bOff + n * k);
            int panels = (nc + nr - 1) / nr;
            float[] dst = new float[2 + panels * kc * nr];
            java.util.Arrays.fill(dst, Float.NaN); // padding must be written as zeros, not left
            GemmPack.packB(b, bOff, 1, k, n0, nc, pc, kc, dst, 2);
            for (int q = 0; q < panels; q++) {
                for (int p = 0; p < kc; p++) {
                    for (int j = 0; j < nr; j++) {
                        int col = q * nr + j;
                        float want = col < nc ? b[bOff + (n0 + col) * k + pc + p] : 0f;
                        assertThat(dst[2 + q * kc * nr + p * nr + j]).as("n=%d k=%d panel %d p=%d j=%d", n, k, q, p, j).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void registerTransposeOfOneBlock() {
        org.junit.jupiter.api.Assumptions.assumeTrue(GemmPack.VECTOR_TRANSPOSE, "16-lane vectors only");
        float[] b = new float[20 * 21];
        for (int i = 0; i < b.length; i++) b[i] = i;
        float[] dst = new float[1 + 16 * 19];
        GemmPack.transpose16(b, 2, 21, dst, 1, 19);
        for (int j = 0; j < 16; j++) {
            for (int p = 0; p < 16; p++) assertThat(dst[1 + p * 19 + j]).as("j=%d p=%d", j, p).isEqualTo(b[2 + j * 21 + p]);
        }
    }

    @Test
    void packingAnNnOrNtLeftOperandGivesItsTransposeWhateverTheBlockSizes() {
        // A is (M, K) row-major: panel q holds rows q·MR.. as (kc, MR); pairs of full panels go through
        // the register transpose, a last odd or partial panel and the k tails element by element
        SplittableRandom r = new SplittableRandom(6);
        int mr = GemmKernel.MR;
        for (int[] s : new int[][]{{40, 300, 3, 1, 256}, {16, 64, 0, 0, 16}, {2 * mr + 3, 40, 2, 5, 17}, {33, 33, 0, 2, 31}, {5, 16, 1, 0, 15}}) {
            int m = s[0], k = s[1], m0 = s[2], pc = s[3], kc = s[4], aOff = 2, mc = m - m0;
            float[] a = random(r, aOff + m * k);
            int panels = (mc + mr - 1) / mr;
            float[] dst = new float[1 + panels * kc * mr];
            java.util.Arrays.fill(dst, Float.NaN);
            GemmPack.packA(a, aOff, k, 1, m0, mc, pc, kc, dst, 1);
            for (int q = 0; q < panels; q++) {
                for (int p = 0; p < kc; p++) {
                    for (int i = 0; i < mr; i++) {
                        int row = q * mr + i;
                        float want = row < mc ? a[aOff + (m0 + row) * k + pc + p] : 0f;
                        assertThat(dst[1 + q * kc * mr + p * mr + i]).as("m=%d k=%d panel %d p=%d i=%d", m, k, q, p, i).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void packingATnLeftOperandCopiesItsColumnsWhateverTheBlockSizes() {
        // A is (K, M) row-major (the TN product): panel q holds columns q·MR.. as (kc, MR); pairs of
        // full panels in tiles of 96 columns, two k steps at a time (an odd last one alone), a last
        // full panel as runs of MR floats, a partial panel element by element
        SplittableRandom r = new SplittableRandom(7);
        int mr = GemmKernel.MR;
        for (int[] s : new int[][]{{40, 300, 3, 1, 256}, {16, 64, 0, 0, 16}, {2 * mr + 3, 40, 2, 5, 17}, {33, 33, 0, 2, 31}, {5, 16, 1, 0, 15},
                                   {140, 77, 4, 2, 75}, {250, 9, 1, 0, 9}}) {
            int m = s[0], k = s[1], m0 = s[2], pc = s[3], kc = s[4], aOff = 2, mc = m - m0;
            float[] a = random(r, aOff + m * k);
            int panels = (mc + mr - 1) / mr;
            float[] dst = new float[1 + panels * kc * mr];
            java.util.Arrays.fill(dst, Float.NaN);
            GemmPack.packA(a, aOff, 1, m, m0, mc, pc, kc, dst, 1);
            for (int q = 0; q < panels; q++) {
                for (int p = 0; p < kc; p++) {
                    for (int i = 0; i < mr; i++) {
                        int col = q * mr + i;
                        float want = col < mc ? a[aOff + (pc + p) * m + m0 + col] : 0f;
                        assertThat(dst[1 + q * kc * mr + p * mr + i]).as("m=%d k=%d panel %d p=%d i=%d", m, k, q, p, i).isEqualTo(want);
                    }
                }
            }
        }
    }
}
