package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Prefill takes a head's queries four at a time ({@link PrefillAttention}, {@link PrefillScores});
 * each row must still be bitwise what it gets fed alone, one token at a time as in decoding, and a
 * prompt prefilled in chunks must equal it prefilled at once (the server prefills in chunks of any
 * size and must equal {@code generate}). Run with {@code -Dmyllm.simd=false} too, for the scalar twins.
 */
class CachedAttentionPrefillTest {
    @Test
    void prefillRowsAreBitwiseTheRowsFedOneAtATimeOnAwkwardShapes() {
        SplittableRandom rnd = new SplittableRandom(41);
        int l = Simd.F.length(), before = Parallel.threads();
        try (var g = GradMode.noGrad()) {
            for (int heads : new int[]{1, 2, 3, 5}) {
                for (int d : new int[]{1, 3, l - 1, l + 1, 4 * l, 4 * l + 3, 8 * l}) {
                    if (d < 1) continue;
                    for (int threads = 1; threads <= 3; threads++) {
                        Parallel.setThreads(threads);
                        for (int past : new int[]{0, 1, 13}) {
                            for (int t : new int[]{1, 2, 3, 5, 7, 8, 9, 17, 64}) {
                                if (heads * d > 64 && t == 64 && threads > 1) continue; // the largest once per shape
                                checkAttend(rnd, heads, d, past, t);
                            }
                        }
                        // several sequences side by side, as the server prefills: every length and past above
                        checkAttendEach(rnd, heads, d, new int[]{0, 1, 13, 0, 13, 1, 0, 1, 13}, new int[]{1, 2, 3, 5, 7, 8, 9, 17, 64});
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void aPromptPrefilledInChunksEqualsItPrefilledAtOnce() {
        SplittableRandom rnd = new SplittableRandom(42);
        int l = Simd.F.length();
        try (var g = GradMode.noGrad()) {
            for (int d : new int[]{3, l + 1, 4 * l, 4 * l + 3}) {
                int heads = 3, c = heads * d, n = 17, cap = n + 2;
                float[] qkv = GemmTest.random(rnd, n * 3 * c);
                float[] k = GemmTest.random(rnd, heads * cap * d), v = GemmTest.random(rnd, heads * cap * d);
                float[] k1 = k.clone(), v1 = v.clone(), k2 = k.clone(), v2 = v.clone();
                float[] once = CachedAttention.attend(Tensor.of(qkv.clone(), new int[]{1, n, 3 * c}), heads, k, v, cap, 0).toArray();
                float[] chunked = new float[n * c], each = new float[n * c];
                int past = 0;
                for (int len : new int[]{5, 12}) {
                    float[] part = Arrays.copyOfRange(qkv, past * 3 * c, (past + len) * 3 * c);
                    System.arraycopy(CachedAttention.attend(Tensor.of(part, new int[]{1, len, 3 * c}), heads, k1, v1, cap, past).toArray(),
                            0, chunked, past * c, len * c);
                    System.arraycopy(CachedAttention.attendEach(Tensor.of(part.clone(), new int[]{1, len, 3 * c}), heads, new float[][]{k2},
                            new float[][]{v2}, new int[]{cap}, new int[]{past}, new int[]{len}).toArray(), 0, each, past * c, len * c);
                    past += len;
                }
                assertThat(chunked).as("d=%d attend 5 + 12", d).isEqualTo(once);
                assertThat(each).as("d=%d attendEach 5 + 12", d).isEqualTo(once);
                assertThat(k1).isEqualTo(k);
                assertThat(v2).isEqualTo(v);
            }
        }
    }

    /** Two sequences' prefill of {@code t} rows through attend against each row fed alone through attend. */
    private static void checkAttend(SplittableRandom rnd, int heads, int d, int past, int t) {
        int b = 2, c = heads * d, cap = past + t + 1;
        float[] qkv = GemmTest.random(rnd, b * t * 3 * c);
        float[] k = GemmTest.random(rnd, b * heads * cap * d), v = GemmTest.random(rnd, b * heads * cap * d);
        float[] k1 = k.clone(), v1 = v.clone();
        float[] got = CachedAttention.attend(Tensor.of(qkv, new int[]{b, t, 3 * c}), heads, k, v, cap, past).toArray();
        float[] want = oneAtATime(qkv, b, t, heads, d, k1, v1, cap, past);
        assertThat(got).as("attend heads=%d d=%d threads=%d past=%d t=%d", heads, d, Parallel.threads(), past, t).isEqualTo(want);
        assertThat(k).isEqualTo(k1);
        assertThat(v).isEqualTo(v1);
    }

    /** Sequences of the given pasts and lengths through attendEach side by side, each against its rows fed alone (also {@link CachedAttentionPairsTest}'s check). */
    static void checkAttendEach(SplittableRandom rnd, int heads, int d, int[] past, int[] lengths) {
        int n = past.length, c = heads * d, rows = 0;
        for (int len : lengths) rows += len;
        float[][] k = new float[n][], v = new float[n][], k1 = new float[n][], v1 = new float[n][];
        int[] capacity = new int[n];
        for (int s = 0; s < n; s++) {
            capacity[s] = past[s] + lengths[s] + s % 3;
            k[s] = GemmTest.random(rnd, heads * capacity[s] * d);
            v[s] = GemmTest.random(rnd, heads * capacity[s] * d);
            k1[s] = k[s].clone();
            v1[s] = v[s].clone();
        }
        float[] qkv = GemmTest.random(rnd, rows * 3 * c);
        float[] got = CachedAttention.attendEach(Tensor.of(qkv, new int[]{1, rows, 3 * c}), heads, k, v, capacity, past, lengths).toArray();
        for (int s = 0, row = 0; s < n; row += lengths[s], s++) {
            float[] own = Arrays.copyOfRange(qkv, row * 3 * c, (row + lengths[s]) * 3 * c);
            float[] want = oneAtATime(own, 1, lengths[s], heads, d, k1[s], v1[s], capacity[s], past[s]);
            assertThat(Arrays.copyOfRange(got, row * c, (row + lengths[s]) * c))
                    .as("attendEach heads=%d d=%d threads=%d sequence %d (%d cached, %d new)", heads, d, Parallel.threads(), s, past[s], lengths[s])
                    .isEqualTo(want);
            assertThat(k[s]).isEqualTo(k1[s]);
            assertThat(v[s]).isEqualTo(v1[s]);
        }
    }

    /** The rows of qkv {@code (b, t, 3C)} fed one token at a time (decode's path), each batch row with its own part of the caches. */
    private static float[] oneAtATime(float[] qkv, int b, int t, int heads, int d, float[] k, float[] v, int cap, int past) {
        int c = heads * d;
        float[] out = new float[b * t * c];
        for (int i = 0; i < t; i++) {
            float[] row = new float[b * 3 * c];
            for (int bi = 0; bi < b; bi++) System.arraycopy(qkv, (bi * t + i) * 3 * c, row, bi * 3 * c, 3 * c);
            float[] o = CachedAttention.attend(Tensor.of(row, new int[]{b, 1, 3 * c}), heads, k, v, cap, past + i).toArray();
            for (int bi = 0; bi < b; bi++) System.arraycopy(o, bi * c, out, (bi * t + i) * c, c);
        }
        return out;
    }
}
