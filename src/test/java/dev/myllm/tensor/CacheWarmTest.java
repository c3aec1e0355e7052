package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Warming the weights before a decode product ({@link CacheWarm}) only reads them: with warm
 * chunks of every size (a fraction of a group, one group, a few, all of them, off), the float32
 * array path ({@link GemmSmall#nt}) and the mapped F32 path ({@link PackedMatrix#matmulNT} in
 * {@link ProductMode#ROWS}) give every element {@link GemmSmall#dotReference}'s bits, for one to
 * nine rows, K off the vector width, N off the group, one and three threads.
 */
class CacheWarmTest {
    private static final int THREADS = Parallel.threads();
    private static final int CHUNK = CacheWarm.chunkBytes;
    private static final int L = Simd.F.length();

    @AfterEach
    void restore() {
        Parallel.setThreads(THREADS);
        CacheWarm.chunkBytes = CHUNK;
    }

    @Test
    void warmedProductsAreTheReferenceBitForBit() {
        SplittableRandom rnd = new SplittableRandom(23);
        int checked = 0;
        for (int[] s : new int[][]{{1, 37}, {100, 2 * L + 5}, {301, 8 * L + 3}, {53, 3 * L}}) {
            int N = s[0], K = s[1];
            float[] b = GemmTest.random(rnd, 2 + N * K);
            float[] bOnly = java.util.Arrays.copyOfRange(b, 2, b.length);
            PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32, bOnly, N, K);
            for (int M = 1; M <= 9; M++) {
                float[] a = GemmTest.random(rnd, 1 + M * K);
                float[] want = new float[M * N];
                for (int m = 0; m < M; m++) {
                    for (int n = 0; n < N; n++) want[m * N + n] = GemmSmall.dotReference(a, 1 + m * K, b, 2 + n * K, K);
                }
                // a part of a group, one group, a few groups, more than the whole matrix, off
                for (int chunk : new int[]{100, 12 * K, 40 * K + 4, 1 << 24, 0}) {
                    CacheWarm.chunkBytes = chunk;
                    for (int threads : new int[]{1, 3}) {
                        Parallel.setThreads(threads);
                        float[] c = new float[3 + M * N];
                        GemmSmall.nt(a, 1, b, 2, c, 3, M, N, K, false);
                        assertThat(java.util.Arrays.copyOfRange(c, 3, c.length))
                                .as("array M=%d N=%d K=%d chunk=%d threads=%d", M, N, K, chunk, threads).containsExactly(want);
                        checked++;
                        // (without SIMD the mapped matrix takes Gemm's scalar twin, as the float32
                        // array does, not GemmSmall's lanes: f32IsTheFloatArrayBitForBit checks that)
                        if (!Simd.ENABLED) continue;
                        float[] y = new float[M * N];
                        try (ProductMode.Scope sc = ProductMode.use(ProductMode.ROWS)) {
                            p.matmulNT(a, 1, M, y, 0);
                        }
                        assertThat(y).as("mapped M=%d N=%d K=%d chunk=%d threads=%d", M, N, K, chunk, threads).containsExactly(want);
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(4 * 9 * 5 * 2);
    }

    @Test
    void chunksAreWholeRowsAndOffIsZero() {
        CacheWarm.chunkBytes = 1000;
        assertThat(CacheWarm.rowsPerChunk(300)).isEqualTo(3);
        assertThat(CacheWarm.rowsPerChunk(4000)).isEqualTo(1);
        CacheWarm.chunkBytes = 0;
        assertThat(CacheWarm.rowsPerChunk(300)).isZero();
    }

    @Test
    void touchingReadsEveryLineAndChangesNothing() {
        // the sink moves by the loaded values (so the loads are real), the array is left as it was
        float[] a = new float[1000];
        for (int i = 0; i < a.length; i++) a[i] = i;
        float[] before = a.clone();
        int s0 = CacheWarm.sink;
        CacheWarm.touch(a, 0, 16);
        assertThat(CacheWarm.sink - s0).isEqualTo(Float.floatToRawIntBits(0f) + Float.floatToRawIntBits(15f));
        CacheWarm.touch(a, 5, 5);
        assertThat(a).containsExactly(before);
    }
}
