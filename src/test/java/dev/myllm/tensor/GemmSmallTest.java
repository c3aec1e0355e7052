package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The few-row product of decode steps ({@link ProductMode#ROWS}): each row of C is bitwise what
 * the one-row product gives for that row, for every row count (one, two, three-row passes and
 * their mixes), ragged column groups, K around the vector width, offsets, accumulation and thread
 * counts; and it and its scalar twin agree with a double-precision reference.
 */
class GemmSmallTest {
    private static final int THREADS = Parallel.threads();
    private static final int L = Simd.F.length();
    /** K around one and two vector widths and past them, so every odd-block and tail case occurs. */
    private static final int[] KS = {1, L - 1, L, L + 1, 2 * L - 1, 2 * L, 2 * L + 1, 3 * L, 3 * L + 5, 4 * L + 1, 7 * L + 3};
    private static final int[] NS = {1, 3, 4, 5, 9, 14};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    @Test
    void everyRowHasItsOneRowBitsForAnyRowCount() {
        SplittableRandom rnd = new SplittableRandom(11);
        int rows = 19; // one-row, pairs, three-row passes and every remainder, past 16
        int checked = 0;
        for (int threads : new int[]{1, 2}) {
            Parallel.setThreads(threads);
            for (int K : KS) {
                for (int N : NS) {
                    int aOff = 3, bOff = 5, cOff = 2;
                    float[] a = GemmTest.random(rnd, aOff + rows * K), b = GemmTest.random(rnd, bOff + N * K);
                    float[] c0 = GemmTest.random(rnd, cOff + rows * N);
                    for (boolean acc : new boolean[]{false, true}) {
                        float[][] alone = new float[rows][];
                        for (int r = 0; r < rows; r++) {
                            alone[r] = Arrays.copyOfRange(c0, cOff + r * N, cOff + (r + 1) * N);
                            GemmSmall.nt(a, aOff + r * K, b, bOff, alone[r], 0, 1, N, K, acc);
                        }
                        for (int m = 2; m <= rows; m++) {
                            float[] c = c0.clone();
                            GemmSmall.nt(a, aOff, b, bOff, c, cOff, m, N, K, acc);
                            for (int r = 0; r < m; r++) {
                                assertThat(Arrays.copyOfRange(c, cOff + r * N, cOff + (r + 1) * N))
                                        .as("row %d of %d, N=%d K=%d acc=%s threads=%d", r, m, N, K, acc, threads)
                                        .isEqualTo(alone[r]);
                            }
                            // nothing outside the product is touched
                            assertThat(Arrays.copyOfRange(c, 0, cOff)).isEqualTo(Arrays.copyOfRange(c0, 0, cOff));
                            assertThat(Arrays.copyOfRange(c, cOff + m * N, c.length)).isEqualTo(Arrays.copyOfRange(c0, cOff + m * N, c0.length));
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * KS.length * NS.length * 2 * (rows - 1));
    }

    @Test
    void rowsReadFromALineAlignedCopyGiveTheSameBits() {
        assertThat(Aligned.floatOffset()).as("the test JVM aligns objects, so the copy is taken").isGreaterThanOrEqualTo(0);
        SplittableRandom rnd = new SplittableRandom(17);
        int checked = 0;
        try {
            for (int threads : new int[]{1, 2}) {
                Parallel.setThreads(threads);
                for (int M : new int[]{4, 5, 8, 9, 16, 17, 64, 65}) {
                    for (int K : new int[]{L - 1, L + 1, 3 * L + 5, 48, 768, 1025}) {
                        for (int N : new int[]{3, 5, 14}) {
                            int aOff = 3, bOff = 5, cOff = 2;
                            float[] a = GemmTest.random(rnd, aOff + M * K), b = GemmTest.random(rnd, bOff + N * K);
                            float[] bias = GemmTest.random(rnd, N), c0 = GemmTest.random(rnd, cOff + M * N);
                            for (boolean acc : new boolean[]{false, true}) {
                                float[][] c = new float[2][];
                                for (int copy = 0; copy < 2; copy++) {
                                    GemmSmall.alignRows = copy == 1;
                                    c[copy] = c0.clone();
                                    GemmSmall.nt(a, aOff, b, bOff, c[copy], cOff, M, N, K, acc, acc ? null : bias, false);
                                }
                                assertThat(c[1]).as("M=%d N=%d K=%d acc=%s threads=%d", M, N, K, acc, threads).isEqualTo(c[0]);
                                checked++;
                            }
                        }
                    }
                }
            }
        } finally {
            GemmSmall.alignRows = true;
        }
        assertThat(checked).isEqualTo(2 * 8 * 6 * 3 * 2);
    }

    @Test
    void aBiasAddedAsTheElementsAreStoredIsBitwiseTheSeparateAdd() {
        // Gemm.matmulNT with a bias against the product then Elementwise.addToRows, in every product
        // mode (the few-row kernels add it as they store, the packed one in a pass after), for row
        // counts with one, two and three passes and leftovers, ragged column groups, K around the
        // vector width, one to three threads; the bias holds -0 and values that round the sum
        SplittableRandom rnd = new SplittableRandom(23);
        int checked = 0;
        for (int threads : new int[]{1, 2, 3}) {
            Parallel.setThreads(threads);
            for (ProductMode mode : ProductMode.values()) {
                for (int M : new int[]{1, 2, 3, 7, 8, 9, 17}) {
                    for (int N : new int[]{1, 2, 3, 4, 5, 50}) {
                        for (int K : new int[]{1, L - 1, L, L + 1, 3 * L + 5, 48 * L}) {
                            int aOff = 1, bOff = 2, cOff = 3;
                            float[] a = GemmTest.random(rnd, aOff + M * K), b = GemmTest.random(rnd, bOff + N * K);
                            float[] bias = GemmTest.random(rnd, N + 2);
                            bias[0] = -0f;
                            if (N > 1) bias[1] = 1e-9f;
                            float[] separate = GemmTest.random(rnd, cOff + M * N + 4), fused = separate.clone();
                            try (ProductMode.Scope s = ProductMode.use(mode)) {
                                Gemm.matmulNT(a, aOff, b, bOff, separate, cOff, M, N, K, false);
                                Elementwise.addToRows(Simd.ENABLED, separate, cOff, bias, M, N);
                                Gemm.matmulNT(a, aOff, b, bOff, fused, cOff, M, N, K, bias);
                            }
                            assertThat(fused).as("%s M=%d N=%d K=%d threads=%d", mode, M, N, K, threads).isEqualTo(separate);
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(3 * ProductMode.values().length * 7 * 6 * 6);
    }

    @Test
    void aGeluAppliedToEachFinishedChunkIsBitwiseTheSeparatePass() {
        // Gemm.matmulNT with a bias and GELU against the product, Elementwise.addToRows and
        // GeluKernel.forward: sizes that are multiples of the vector width (GELU inside the
        // few-row kernels, chunk by chunk) and sizes that are not (a pass after), every product
        // mode, one to three threads, chunks of warmed weights small enough that a product has many
        SplittableRandom rnd = new SplittableRandom(29);
        int savedChunk = CacheWarm.chunkBytes;
        int checked = 0;
        try {
            CacheWarm.chunkBytes = 4096;
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                for (ProductMode mode : ProductMode.values()) {
                    for (int M : new int[]{1, 2, 3, 8, 9}) {
                        for (int N : new int[]{L, 3 * L, 50, 16 * L + 3}) {
                            for (int K : new int[]{1, L + 1, 4 * L, 24 * L}) {
                                int aOff = 2, bOff = 1, cOff = 5;
                                float[] a = GemmTest.random(rnd, aOff + M * K), b = GemmTest.random(rnd, bOff + N * K);
                                for (int i = 0; i < a.length; i += 7) a[i] *= 8f; // some sums far out on both sides of GELU
                                float[] bias = GemmTest.random(rnd, N);
                                float[] separate = GemmTest.random(rnd, cOff + M * N + 3), fused = separate.clone();
                                try (ProductMode.Scope s = ProductMode.use(mode)) {
                                    Gemm.matmulNT(a, aOff, b, bOff, separate, cOff, M, N, K, false);
                                    Elementwise.addToRows(Simd.ENABLED, separate, cOff, bias, M, N);
                                    GeluKernel.forward(separate, cOff, separate, cOff, M * N);
                                    Gemm.matmulNT(a, aOff, b, bOff, fused, cOff, M, N, K, bias, true);
                                }
                                assertThat(fused).as("%s M=%d N=%d K=%d threads=%d", mode, M, N, K, threads).isEqualTo(separate);
                                checked++;
                            }
                        }
                    }
                }
            }
        } finally {
            CacheWarm.chunkBytes = savedChunk;
        }
        assertThat(checked).isEqualTo(3 * ProductMode.values().length * 5 * 4 * 4);
    }

    @Test
    void everyElementIsTheReferenceOrderBitForBit() {
        // every M from 1 to 17 (one pass of 8, 4 or 2 rows with repeated rows, two and three passes),
        // N not a multiple of the group, K not a multiple of the vector width, one and three threads
        SplittableRandom rnd = new SplittableRandom(17);
        int checked = 0;
        for (int threads : new int[]{1, 3}) {
            Parallel.setThreads(threads);
            for (int K : new int[]{1, L - 1, L, 4 * L, 37, 100, 8 * L + 3}) { // (4L: whole vectors only, as in decoding)
                for (int N : new int[]{1, 2, 3, 4, 5, 6, 7, 13}) {
                    for (int M = 1; M <= 17; M++) {
                        float[] a = GemmTest.random(rnd, 1 + M * K), b = GemmTest.random(rnd, 2 + N * K);
                        float[] c0 = GemmTest.random(rnd, 3 + M * N);
                        boolean acc = (M + N) % 2 == 0;
                        float[] c = c0.clone();
                        GemmSmall.nt(a, 1, b, 2, c, 3, M, N, K, acc);
                        for (int m = 0; m < M; m++) {
                            for (int n = 0; n < N; n++) {
                                float s = GemmSmall.dotReference(a, 1 + m * K, b, 2 + n * K, K);
                                float want = acc ? c0[3 + m * N + n] + s : s;
                                assertThat(c[3 + m * N + n]).as("M=%d N=%d K=%d (%d, %d) threads=%d", M, N, K, m, n, threads)
                                        .isEqualTo(want);
                            }
                        }
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * 7 * 8 * 17);
    }

    @Test
    void theLaneTreeOfEightAccumulatorsAtOnceIsTheOneAtATimeTree() {
        SplittableRandom rnd = new SplittableRandom(19);
        float[] lanes = new float[8 * L + 3];
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (rnd.nextDouble(-1, 1) * Math.pow(2, rnd.nextInt(-20, 20)));
        float[] out = new float[3 + Math.max(8, L)];
        GemmSmall.sumLanes8(lanes, 3, out, 3);
        float[] got = new float[8];
        for (int e = 0; e < 8; e++) got[e] = out[3 + GemmSmall.sumAt(e)];
        float[] want = new float[8];
        for (int e = 0; e < 8; e++) want[e] = GemmSmall.treeSum(lanes, 3 + e * L);
        assertThat(got).isEqualTo(want);
    }

    @Test
    void blocksHandedOutToThreadsGiveTheSameBitsAsOneThread() {
        SplittableRandom rnd = new SplittableRandom(13);
        int N = 4001, K = 67; // a ragged last group, many blocks of groups for every row count
        float[] a = GemmTest.random(rnd, 9 * K), b = GemmTest.random(rnd, N * K);
        for (int M = 1; M <= 9; M++) {
            float[] first = null;
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                float[] c = new float[M * N];
                GemmSmall.nt(a, 0, b, 0, c, 0, M, N, K, false);
                if (first == null) first = c;
                else assertThat(c).as("M=%d threads=%d", M, threads).isEqualTo(first);
            }
            for (int r = 0; r < M; r++) {
                float[] one = new float[N];
                GemmSmall.nt(a, r * K, b, 0, one, 0, 1, N, K, false);
                assertThat(Arrays.copyOfRange(first, r * N, (r + 1) * N)).as("row %d of %d", r, M).isEqualTo(one);
            }
        }
    }

    @Test
    void rowsModeProductsMatchTheScalarTwinAndADoubleReference() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int K : KS) {
            for (int M : new int[]{1, 2, 3, 4, 5, 7, 8, 11, 16}) {
                int N = NS[(K + M) % NS.length] + 4;
                float[] a = GemmTest.random(rnd, M * K), b = GemmTest.random(rnd, N * K), c0 = GemmTest.random(rnd, M * N);
                boolean acc = (K + M) % 2 == 1;
                double[] ref = GemmTest.reference(GemmTest.Kind.NT, a, 0, b, 0, c0, 0, M, N, K, acc);
                double[] mag = GemmTest.magnitude(GemmTest.Kind.NT, a, 0, b, 0, c0, 0, M, N, K, acc);
                float[] rows = c0.clone(), scalar = c0.clone();
                try (ProductMode.Scope s = ProductMode.use(ProductMode.ROWS)) {
                    Gemm.matmulNT(a, 0, b, 0, rows, 0, M, N, K, acc);
                }
                Gemm.matmulNTScalar(a, 0, b, 0, scalar, 0, M, N, K, acc);
                for (int i = 0; i < M * N; i++) {
                    double tol = 1e-6 + 4 * (K + 2) * 6e-8 * mag[i];
                    assertThat((double) rows[i]).as("simd M=%d N=%d K=%d at %d", M, N, K, i).isCloseTo(ref[i], within(tol));
                    assertThat((double) scalar[i]).as("scalar M=%d N=%d K=%d at %d", M, N, K, i).isCloseTo(ref[i], within(tol));
                }
            }
        }
    }
}
