package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * One decode query of one sequence over all its heads at once, reading the sequence's cache
 * {@code (capacity, H, D)} row after row: the keys eight positions at a time for every head, then
 * the values position by position for four heads at a time. A batched decode step with many
 * sequences gives each thread whole sequences this way, so a thread reads each cache as one
 * stream instead of a pair of heads' {@code 2D} of every row; in a scratch harness (8 sequences
 * at positions 64–190, 12 layers, two threads, the two paths alternating step by step in one JVM)
 * it took 0.82–0.87x the time of the pairs of heads.
 *
 * <p>Every head gets exactly {@link CachedAttention#query}'s operations in the same order, so the
 * result is bitwise the same as the pairs' (and as one sequence's decode step): its scores come
 * from {@link CachedAttention#scoresAndSum} over the same blocks of keys (whole blocks of eight
 * from position 0, then the rest), its softmax from the same {@code max}, {@code exps} and sum in
 * double in position order, and its weighted sum of values from the same chain of multiply-adds
 * per element, in position order, as {@link CachedAttention#weightedSum}.
 */
final class DecodeAttention {
    private DecodeAttention() {
    }

    /** Each thread's rows of scores, then weights, one per head, and a last row for the heads' 1/Σ. */
    private static final ThreadLocal<float[][]> ROWS = ThreadLocal.withInitial(() -> new float[0][0]);

    /** The calling thread's {@code heads + 1} rows: one per head, at least {@code n} long, and a last one for the 1/Σ. */
    static float[][] rows(int heads, int n) {
        float[][] w = ROWS.get();
        if (w.length < heads + 1) {
            w = java.util.Arrays.copyOf(w, heads + 1);
            ROWS.set(w);
        }
        int size = Math.max(n, heads);
        for (int h = 0; h <= heads; h++) if (w[h] == null || w[h].length < size) w[h] = new float[Math.max(size, w[h] == null ? 0 : 2 * w[h].length)];
        return w;
    }

    /**
     * One new token of each of the {@code n} sequences ({@link #attend}, a sequence a task): each thread
     * takes a contiguous part of the sequences, weighted by the positions they read, then what is left of the others'.
     */
    static void each(float[] x, int heads, float[][] kCaches, float[][] vCaches, int[] past, int c, int d, float scale,
                                   int longest, float[] out) {
        int n = kCaches.length;
        long[] weight = new long[n];
        for (int s = 0; s < n; s++) weight[s] = past[s] + 1;
        ContiguousClaims claims = new ContiguousClaims(weight, Math.min(n, Parallel.threads()));
        Parallel.forRange(claims.count(), 1, (part, partEnd) -> {
            float[][] rows = rows(heads, longest + Simd.F.length());
            for (int s; (s = claims.next(part)) >= 0; ) {
                attend(x, s * 3 * c, kCaches[s], vCaches[s], past[s] + 1, heads, d, scale, rows, out, s * c);
            }
        });
    }

    /**
     * The query at {@code x[qOff..qOff + C)} ({@code C = heads·d}, head h at {@code qOff + h·d}) against the
     * first {@code visible} positions of the caches (position j, head h at {@code j·C + h·d}), into
     * {@code out[oOff..oOff + C)}; {@code rows} from {@link #rows}{@code (heads, visible + a vector)}.
     */
    static void attend(float[] x, int qOff, float[] kCache, float[] vCache, int visible, int heads, int d, float scale,
                       float[][] rows, float[] out, int oOff) {
        attend(x, qOff, kCache, vCache, visible, heads, 0, heads, d, scale, rows, out, oOff);
    }

    /** {@link #attend}, heads {@code [h0, h1)} only (their columns of {@code out}): one sequence's step shared by the threads. */
    static void attend(float[] x, int qOff, float[] kCache, float[] vCache, int visible, int heads, int h0, int h1, int d, float scale,
                       float[][] rows, float[] out, int oOff) {
        int c = heads * d, whole = visible & ~7;
        // scores: each block of eight positions for every head while its rows are in L1
        for (int j = 0; j < whole; j += 8) {
            for (int h = h0; h < h1; h++) CachedAttention.scoresAndSum(x, qOff + h * d, kCache, h * d, c, j, j + 8, d, scale, rows[h], null);
        }
        float[] inv = rows[heads];
        for (int h = h0; h < h1; h++) {
            float[] w = rows[h];
            if (whole < visible) CachedAttention.scoresAndSum(x, qOff + h * d, kCache, h * d, c, whole, visible, d, scale, w, null);
            CachedAttention.exps(w, CachedAttention.max(w, visible), visible);
            double z = 0;
            for (int j = 0; j < visible; j++) z += w[j];
            inv[h] = (float) (1 / z);
        }
        int l = Simd.F.length(), h = h0;
        if (Simd.ENABLED && d == 4 * l) {
            for (; h + 4 <= h1; h += 4) values4(rows, inv, h, vCache, visible, c, d, out, oOff + h * d);
        }
        for (; h < h1; h++) CachedAttention.weightedSum(rows[h], inv[h], vCache, h * d, c, visible, d, out, oOff + h * d);
    }

    /**
     * Heads {@code h0..h0+3} (of four vectors each) of {@code out = Σ_j (w_h[j]·inv_h)·v_j}, in position order: {@link
     * CachedAttention#weightedSum}'s chain for each of the sixteen vectors, the four heads' values of a position read together.
     */
    private static void values4(float[][] rows, float[] inv, int h0, float[] vCache, int visible, int c, int d, float[] out, int o) {
        int l = Simd.F.length();
        float[] w0 = rows[h0], w1 = rows[h0 + 1], w2 = rows[h0 + 2], w3 = rows[h0 + 3];
        float i0 = inv[h0], i1 = inv[h0 + 1], i2 = inv[h0 + 2], i3 = inv[h0 + 3];
        FloatVector z = FloatVector.zero(Simd.F);
        FloatVector y00 = z, y01 = z, y02 = z, y03 = z, y10 = z, y11 = z, y12 = z, y13 = z;
        FloatVector y20 = z, y21 = z, y22 = z, y23 = z, y30 = z, y31 = z, y32 = z, y33 = z;
        for (int j = 0, v = h0 * d; j < visible; j++, v += c) {
            FloatVector a0 = FloatVector.broadcast(Simd.F, w0[j] * i0), a1 = FloatVector.broadcast(Simd.F, w1[j] * i1);
            FloatVector a2 = FloatVector.broadcast(Simd.F, w2[j] * i2), a3 = FloatVector.broadcast(Simd.F, w3[j] * i3);
            y00 = FloatVector.fromArray(Simd.F, vCache, v).fma(a0, y00);
            y01 = FloatVector.fromArray(Simd.F, vCache, v + l).fma(a0, y01);
            y02 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l).fma(a0, y02);
            y03 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l).fma(a0, y03);
            y10 = FloatVector.fromArray(Simd.F, vCache, v + d).fma(a1, y10);
            y11 = FloatVector.fromArray(Simd.F, vCache, v + d + l).fma(a1, y11);
            y12 = FloatVector.fromArray(Simd.F, vCache, v + d + 2 * l).fma(a1, y12);
            y13 = FloatVector.fromArray(Simd.F, vCache, v + d + 3 * l).fma(a1, y13);
            y20 = FloatVector.fromArray(Simd.F, vCache, v + 2 * d).fma(a2, y20);
            y21 = FloatVector.fromArray(Simd.F, vCache, v + 2 * d + l).fma(a2, y21);
            y22 = FloatVector.fromArray(Simd.F, vCache, v + 2 * d + 2 * l).fma(a2, y22);
            y23 = FloatVector.fromArray(Simd.F, vCache, v + 2 * d + 3 * l).fma(a2, y23);
            y30 = FloatVector.fromArray(Simd.F, vCache, v + 3 * d).fma(a3, y30);
            y31 = FloatVector.fromArray(Simd.F, vCache, v + 3 * d + l).fma(a3, y31);
            y32 = FloatVector.fromArray(Simd.F, vCache, v + 3 * d + 2 * l).fma(a3, y32);
            y33 = FloatVector.fromArray(Simd.F, vCache, v + 3 * d + 3 * l).fma(a3, y33);
        }
        y00.intoArray(out, o); y01.intoArray(out, o + l); y02.intoArray(out, o + 2 * l); y03.intoArray(out, o + 3 * l);
        y10.intoArray(out, o + d); y11.intoArray(out, o + d + l); y12.intoArray(out, o + d + 2 * l); y13.intoArray(out, o + d + 3 * l);
        y20.intoArray(out, o + 2 * d); y21.intoArray(out, o + 2 * d + l); y22.intoArray(out, o + 2 * d + 2 * l); y23.intoArray(out, o + 2 * d + 3 * l);
        y30.intoArray(out, o + 3 * d); y31.intoArray(out, o + 3 * d + l); y32.intoArray(out, o + 3 * d + 2 * l); y33.intoArray(out, o + 3 * d + 3 * l);
    }
}
