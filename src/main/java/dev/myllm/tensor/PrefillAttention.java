package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Prefill's attention over the KV cache four consecutive queries of one sequence and head at a
 * time, each query's every output bitwise what {@link CachedAttention#query} gives it alone.
 */
final class PrefillAttention {
    private PrefillAttention() {
    }

    /** Queries taken together. */
    static final int GROUP = 4;

    /** Each thread's rows of scores, then weights, one per query of a group. */
    private static final ThreadLocal<float[][]> ROWS = ThreadLocal.withInitial(() -> new float[GROUP][0]);

    /** The calling thread's {@link #GROUP} rows, each at least {@code n} long. */
    static float[][] rows(int n) {
        float[][] w = ROWS.get();
        for (int r = 0; r < GROUP; r++) if (w[r].length < n) w[r] = new float[Math.max(n, 2 * w[r].length)];
        return w;
    }

    /**
     * {@code count} consecutive queries of one sequence and head: query r is at {@code x[qOff + r·qStride..+d)},
     * sees the first {@code visible0 + r} cached positions (position j's key and value at {@code base + j·ps})
     * and writes {@code out[oOff + r·oStride..+d)}. The
     * first {@code count % GROUP} (the shortest) go alone through {@link CachedAttention#query} (with
     * {@code w}), the rest in groups ({@code rows}: {@link #rows} of the longest visible plus a vector).
     */
    static void attend(float[] x, int qOff, int qStride, float[] kCache, float[] vCache, int base, int ps, int visible0, int count,
                       int d, float scale, float[] w, float[][] rows, float[] out, int oOff, int oStride) {
        int r = 0;
        for (; r < count % GROUP; r++) {
            CachedAttention.query(x, qOff + r * qStride, kCache, vCache, base, ps, visible0 + r, d, scale, w, out, oOff + r * oStride);
        }
        float[] kt = r < count && PrefillScores.ENABLED ? PrefillScores.transpose(kCache, base, ps, visible0 + count - 1, d) : null;
        for (; r < count; r += GROUP) {
            group(x, qOff + r * qStride, qStride, kCache, vCache, base, ps, kt, visible0 + r, d, scale, rows, out, oOff + r * oStride, oStride);
        }
    }

    /**
     * Four queries seeing {@code v0}, {@code v0+1}, {@code v0+2}, {@code v0+3} positions, step by step as
     * {@link CachedAttention#query} takes one, so each gets the same operations in the same order:
     * its scores ({@link CachedAttention#dot}'s each, whichever block a key falls in: {@link PrefillScores}
     * with sixteen lanes, else {@link #scores}); its maximum and exps over its
     * own row; its sum in double over positions in order (the four chains side by side); the
     * weights times {@code inv} once (the float product query broadcasts); then the four weighted
     * sums in one pass over the values, sixteen chains of multiply-adds instead of four, each
     * value vector loaded once for the four, the positions only later queries see at the end.
     */
    private static void group(float[] x, int qOff, int qStride, float[] kCache, float[] vCache, int base, int ps, float[] kt, int v0,
                              int d, float scale, float[][] rows, float[] out, int oOff, int oStride) {
        float[] w0 = rows[0], w1 = rows[1], w2 = rows[2], w3 = rows[3];
        if (kt != null) {
            PrefillScores.scores4(x, qOff, qStride, kt, 0, (v0 + 3 + PrefillScores.KEYS - 1) / PrefillScores.KEYS, d, scale, w0, w1, w2, w3);
        } else {
            scores(x, qOff, qStride, kCache, base, ps, v0, d, scale, w0, w1, w2, w3);
        }
        CachedAttention.exps(w0, CachedAttention.max(w0, v0), v0);
        CachedAttention.exps(w1, CachedAttention.max(w1, v0 + 1), v0 + 1);
        CachedAttention.exps(w2, CachedAttention.max(w2, v0 + 2), v0 + 2);
        CachedAttention.exps(w3, CachedAttention.max(w3, v0 + 3), v0 + 3);
        double z0 = 0, z1 = 0, z2 = 0, z3 = 0;
        for (int j = 0; j < v0; j++) {
            z0 += w0[j];
            z1 += w1[j];
            z2 += w2[j];
            z3 += w3[j];
        }
        z1 += w1[v0];
        z2 += w2[v0];
        z2 += w2[v0 + 1];
        z3 += w3[v0];
        z3 += w3[v0 + 1];
        z3 += w3[v0 + 2];
        times(w0, (float) (1 / z0), v0);
        times(w1, (float) (1 / z1), v0 + 1);
        times(w2, (float) (1 / z2), v0 + 2);
        times(w3, (float) (1 / z3), v0 + 3);
        weightedSums(w0, w1, w2, w3, vCache, base, ps, v0, d, out, oOff, oStride);
    }

    /** Where {@link PrefillScores} does not run: the four queries' scores by {@link CachedAttention#scoresAndSum}, a piece of keys at a time for all four so the piece stays in L1. */
    private static void scores(float[] x, int qOff, int qStride, float[] kCache, int base, int ps, int v0, int d, float scale,
                               float[] w0, float[] w1, float[] w2, float[] w3) {
        int q1 = qOff + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int piece = Math.max(8, (4096 / d) & ~7); // 16 KB of keys
        for (int c = 0; c < v0; c += piece) {
            int e = Math.min(v0, c + piece);
            CachedAttention.scoresAndSum(x, qOff, kCache, base, ps, c, e, d, scale, w0, null);
            CachedAttention.scoresAndSum(x, q1, kCache, base, ps, c, e, d, scale, w1, null);
            CachedAttention.scoresAndSum(x, q2, kCache, base, ps, c, e, d, scale, w2, null);
            CachedAttention.scoresAndSum(x, q3, kCache, base, ps, c, e, d, scale, w3, null);
        }
        CachedAttention.scoresAndSum(x, q1, kCache, base, ps, v0, v0 + 1, d, scale, w1, null);
        CachedAttention.scoresAndSum(x, q2, kCache, base, ps, v0, v0 + 2, d, scale, w2, null);
        CachedAttention.scoresAndSum(x, q3, kCache, base, ps, v0, v0 + 3, d, scale, w3, null);
    }

    /** {@code w[j] *= inv} for {@code j < n}: the products {@link CachedAttention#weightedSum} broadcasts. */
    static void times(float[] w, float inv, int n) {
        int j = 0;
        if (Simd.ENABLED) {
            FloatVector a = FloatVector.broadcast(Simd.F, inv);
            for (int end = Simd.F.loopBound(n), l = Simd.F.length(); j < end; j += l) FloatVector.fromArray(Simd.F, w, j).mul(a).intoArray(w, j);
        }
        for (; j < n; j++) w[j] *= inv;
    }

    /**
     * {@code out} row r {@code = Σ_j wr[j]·v_j} over the first {@code v0 + r} positions, in position order:
     * {@link CachedAttention#weightedSum} of each row (its weights already times its {@code inv}), bit for bit.
     */
    static void weightedSums(float[] w0, float[] w1, float[] w2, float[] w3, float[] vCache, int base, int ps, int v0, int d, float[] out,
                             int oOff, int oStride) {
        int o1 = oOff + oStride, o2 = o1 + oStride, o3 = o2 + oStride, i = 0;
        if (Simd.ENABLED && d >= Simd.F.length()) {
            int l = Simd.F.length(), end = Simd.F.loopBound(d);
            for (; i + 4 * l <= end; i += 4 * l) {
                FloatVector y00 = FloatVector.zero(Simd.F), y01 = y00, y02 = y00, y03 = y00, y10 = y00, y11 = y00, y12 = y00, y13 = y00;
                FloatVector y20 = y00, y21 = y00, y22 = y00, y23 = y00, y30 = y00, y31 = y00, y32 = y00, y33 = y00;
                int v = base + i;
                for (int j = 0; j < v0; j++, v += ps) {
                    FloatVector x0 = FloatVector.fromArray(Simd.F, vCache, v), x1 = FloatVector.fromArray(Simd.F, vCache, v + l);
                    FloatVector x2 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l), x3 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l);
                    FloatVector a0 = FloatVector.broadcast(Simd.F, w0[j]), a1 = FloatVector.broadcast(Simd.F, w1[j]);
                    FloatVector a2 = FloatVector.broadcast(Simd.F, w2[j]), a3 = FloatVector.broadcast(Simd.F, w3[j]);
                    y00 = x0.fma(a0, y00);
                    y01 = x1.fma(a0, y01);
                    y02 = x2.fma(a0, y02);
                    y03 = x3.fma(a0, y03);
                    y10 = x0.fma(a1, y10);
                    y11 = x1.fma(a1, y11);
                    y12 = x2.fma(a1, y12);
                    y13 = x3.fma(a1, y13);
                    y20 = x0.fma(a2, y20);
                    y21 = x1.fma(a2, y21);
                    y22 = x2.fma(a2, y22);
                    y23 = x3.fma(a2, y23);
                    y30 = x0.fma(a3, y30);
                    y31 = x1.fma(a3, y31);
                    y32 = x2.fma(a3, y32);
                    y33 = x3.fma(a3, y33);
                }
                // position v0 (queries 1-3 see it), v0+1 (2, 3), v0+2 (3)
                FloatVector x0 = FloatVector.fromArray(Simd.F, vCache, v), x1 = FloatVector.fromArray(Simd.F, vCache, v + l);
                FloatVector x2 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l), x3 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l);
                FloatVector a1 = FloatVector.broadcast(Simd.F, w1[v0]), a2 = FloatVector.broadcast(Simd.F, w2[v0]), a3 = FloatVector.broadcast(Simd.F, w3[v0]);
                y10 = x0.fma(a1, y10);
                y11 = x1.fma(a1, y11);
                y12 = x2.fma(a1, y12);
                y13 = x3.fma(a1, y13);
                y20 = x0.fma(a2, y20);
                y21 = x1.fma(a2, y21);
                y22 = x2.fma(a2, y22);
                y23 = x3.fma(a2, y23);
                y30 = x0.fma(a3, y30);
                y31 = x1.fma(a3, y31);
                y32 = x2.fma(a3, y32);
                y33 = x3.fma(a3, y33);
                v += ps;
                x0 = FloatVector.fromArray(Simd.F, vCache, v);
                x1 = FloatVector.fromArray(Simd.F, vCache, v + l);
                x2 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l);
                x3 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l);
                a2 = FloatVector.broadcast(Simd.F, w2[v0 + 1]);
                a3 = FloatVector.broadcast(Simd.F, w3[v0 + 1]);
                y20 = x0.fma(a2, y20);
                y21 = x1.fma(a2, y21);
                y22 = x2.fma(a2, y22);
                y23 = x3.fma(a2, y23);
                y30 = x0.fma(a3, y30);
                y31 = x1.fma(a3, y31);
                y32 = x2.fma(a3, y32);
                y33 = x3.fma(a3, y33);
                v += ps;
                a3 = FloatVector.broadcast(Simd.F, w3[v0 + 2]);
                y30 = FloatVector.fromArray(Simd.F, vCache, v).fma(a3, y30);
                y31 = FloatVector.fromArray(Simd.F, vCache, v + l).fma(a3, y31);
                y32 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l).fma(a3, y32);
                y33 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l).fma(a3, y33);
                y00.intoArray(out, oOff + i);
                y01.intoArray(out, oOff + i + l);
                y02.intoArray(out, oOff + i + 2 * l);
                y03.intoArray(out, oOff + i + 3 * l);
                y10.intoArray(out, o1 + i);
                y11.intoArray(out, o1 + i + l);
                y12.intoArray(out, o1 + i + 2 * l);
                y13.intoArray(out, o1 + i + 3 * l);
                y20.intoArray(out, o2 + i);
                y21.intoArray(out, o2 + i + l);
                y22.intoArray(out, o2 + i + 2 * l);
                y23.intoArray(out, o2 + i + 3 * l);
                y30.intoArray(out, o3 + i);
                y31.intoArray(out, o3 + i + l);
                y32.intoArray(out, o3 + i + 2 * l);
                y33.intoArray(out, o3 + i + 3 * l);
            }
            for (; i < end; i += l) {
                FloatVector y0 = FloatVector.zero(Simd.F), y1 = y0, y2 = y0, y3 = y0;
                int v = base + i;
                for (int j = 0; j < v0; j++, v += ps) {
                    FloatVector x0 = FloatVector.fromArray(Simd.F, vCache, v);
                    y0 = x0.fma(FloatVector.broadcast(Simd.F, w0[j]), y0);
                    y1 = x0.fma(FloatVector.broadcast(Simd.F, w1[j]), y1);
                    y2 = x0.fma(FloatVector.broadcast(Simd.F, w2[j]), y2);
                    y3 = x0.fma(FloatVector.broadcast(Simd.F, w3[j]), y3);
                }
                FloatVector x0 = FloatVector.fromArray(Simd.F, vCache, v);
                y1 = x0.fma(FloatVector.broadcast(Simd.F, w1[v0]), y1);
                y2 = x0.fma(FloatVector.broadcast(Simd.F, w2[v0]), y2);
                y3 = x0.fma(FloatVector.broadcast(Simd.F, w3[v0]), y3);
                x0 = FloatVector.fromArray(Simd.F, vCache, v + ps);
                y2 = x0.fma(FloatVector.broadcast(Simd.F, w2[v0 + 1]), y2);
                y3 = x0.fma(FloatVector.broadcast(Simd.F, w3[v0 + 1]), y3);
                y3 = FloatVector.fromArray(Simd.F, vCache, v + 2 * ps).fma(FloatVector.broadcast(Simd.F, w3[v0 + 2]), y3);
                y0.intoArray(out, oOff + i);
                y1.intoArray(out, o1 + i);
                y2.intoArray(out, o2 + i);
                y3.intoArray(out, o3 + i);
            }
        }
        // the scalar twin, and the elements past the last whole vector: weightedSum's plain chains
        for (; i < d; i++) {
            out[oOff + i] = scalarSum(w0, vCache, base + i, v0, ps);
            out[o1 + i] = scalarSum(w1, vCache, base + i, v0 + 1, ps);
            out[o2 + i] = scalarSum(w2, vCache, base + i, v0 + 2, ps);
            out[o3 + i] = scalarSum(w3, vCache, base + i, v0 + 3, ps);
        }
    }

    /** {@code Σ_j a[j]·vCache[v + j·ps]} for {@code j < n}, a float chain in position order. */
    private static float scalarSum(float[] a, float[] vCache, int v, int n, int ps) {
        float y = 0f;
        for (int j = 0; j < n; j++, v += ps) y += a[j] * vCache[v];
        return y;
    }
}
