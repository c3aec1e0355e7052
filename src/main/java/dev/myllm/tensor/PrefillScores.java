package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Prefill's scores of four queries against sixteen keys at a time, from keys transposed so that a
 * vector holds one element of sixteen keys: each score comes out bitwise {@link CachedAttention#dot}
 * times the scale, with no lane shuffles.
 *
 * <p>Why it is the same arithmetic: {@code dot} keeps an accumulator whose lane {@code i} is the chain of
 * multiply-adds {@code q[i+16m]·k[i+16m]} over {@code m} in order, then adds its lanes in a fixed tree (lane
 * {@code i} plus lane {@code i+8}, then {@code +4}, {@code +2}, {@code +1}; {@link VecMath#sum}), then the
 * elements past the last whole vector one at a time. Here vector {@code a_i} holds, for sixteen keys
 * side by side, that same chain of lane {@code i} (a broadcast query element times one element of the
 * sixteen keys), and the tree adds whole vectors {@code a_i + a_{i+8}} and so on in the same pairs. The
 * eight-keys-at-a-time kernel spends about 2.5 ns a score at D = 64 (for 4 multiply-adds; its lane shuffles,
 * most likely); this one about 1.8 ns in the same measurement (keys in L1), each key vector
 * loaded serving four queries. What holds it there is not known (no hardware counters here): not the
 * broadcasts (two queries by two blocks, half the broadcasts a multiply-add, was no faster), and unrolling
 * the inner loop fully made the method too big for C1 (compile skipped: it ran ~60x slower for a while).
 */
final class PrefillScores {
    private PrefillScores() {
    }

    /** Keys per block: one vector. The kernel's tree is written for sixteen lanes (AVX-512); other widths take {@link CachedAttention#scoresAndSum}. */
    static final int KEYS = 16;

    /** Whether {@link #scores4} runs on this machine. */
    static final boolean ENABLED = Simd.ENABLED && Simd.F.length() == KEYS;

    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[4 * 4 * KEYS]);

    /**
     * The first {@code n} keys of one head ({@code k[base + p·ps + e]}) transposed by blocks of sixteen:
     * element {@code e} of key {@code 16b + j} at {@code [(b·d + e)·16 + j]}; the lanes past {@code n} of the last block are zero.
     * Returns the calling thread's buffer.
     */
    static float[] transpose(float[] k, int base, int ps, int n, int d) {
        int blocks = (n + KEYS - 1) / KEYS, size = blocks * KEYS * d;
        float[] kt = TRANSPOSED.get();
        if (kt.length < size) {
            kt = new float[Math.max(size, 2 * kt.length)];
            TRANSPOSED.set(kt);
        }
        for (int p = 0; p < n; p++) {
            int dst = (p / KEYS) * KEYS * d + p % KEYS, src = base + p * ps;
            for (int e = 0; e < d; e++, dst += KEYS) kt[dst] = k[src + e];
        }
        for (int p = n; p < blocks * KEYS; p++) {
            for (int e = 0, dst = (p / KEYS) * KEYS * d + p % KEYS; e < d; e++, dst += KEYS) kt[dst] = 0f;
        }
        return kt;
    }

    /**
     * {@code wr[j] = dot(q_r, k_j)·scale} for the keys of blocks {@code [b0, b1)} (all sixteen of each: the
     * rows have room, and the scores past a query's visible positions are never read), for the four queries
     * {@code q_r = x[qOff + r·qStride..+d)}; {@code kt} from {@link #transpose}.
     */
    static void scores4(float[] x, int qOff, int qStride, float[] kt, int b0, int b1, int d, float scale,
                        float[] w0, float[] w1, float[] w2, float[] w3) {
        int q1 = qOff + qStride, q2 = q1 + qStride, q3 = q2 + qStride, end = Simd.F.loopBound(d);
        float[] u = SUMS.get(); // u[(r·4 + i)·16..]: query r's sum of leaves i, i+8, i+4, i+12
        for (int b = b0; b < b1; b++) {
            int kb = b * KEYS * d;
            if (end > 0) {
                for (int i = 0; i < 4; i++) {
                    // leaves i, i+8, i+4, i+12 of the four queries: sixteen chains of multiply-adds
                    FloatVector a00 = FloatVector.zero(Simd.F), a08 = a00, a04 = a00, a012 = a00, a10 = a00, a18 = a00, a14 = a00, a112 = a00;
                    FloatVector a20 = a00, a28 = a00, a24 = a00, a212 = a00, a30 = a00, a38 = a00, a34 = a00, a312 = a00;
                    for (int e = i, t = kb + i * KEYS; e < end; e += KEYS, t += KEYS * KEYS) {
                        FloatVector k0 = FloatVector.fromArray(Simd.F, kt, t), k8 = FloatVector.fromArray(Simd.F, kt, t + 8 * KEYS);
                        FloatVector k4 = FloatVector.fromArray(Simd.F, kt, t + 4 * KEYS), k12 = FloatVector.fromArray(Simd.F, kt, t + 12 * KEYS);
                        a00 = FloatVector.broadcast(Simd.F, x[qOff + e]).fma(k0, a00);
                        a08 = FloatVector.broadcast(Simd.F, x[qOff + e + 8]).fma(k8, a08);
                        a04 = FloatVector.broadcast(Simd.F, x[qOff + e + 4]).fma(k4, a04);
                        a012 = FloatVector.broadcast(Simd.F, x[qOff + e + 12]).fma(k12, a012);
                        a10 = FloatVector.broadcast(Simd.F, x[q1 + e]).fma(k0, a10);
                        a18 = FloatVector.broadcast(Simd.F, x[q1 + e + 8]).fma(k8, a18);
                        a14 = FloatVector.broadcast(Simd.F, x[q1 + e + 4]).fma(k4, a14);
                        a112 = FloatVector.broadcast(Simd.F, x[q1 + e + 12]).fma(k12, a112);
                        a20 = FloatVector.broadcast(Simd.F, x[q2 + e]).fma(k0, a20);
                        a28 = FloatVector.broadcast(Simd.F, x[q2 + e + 8]).fma(k8, a28);
                        a24 = FloatVector.broadcast(Simd.F, x[q2 + e + 4]).fma(k4, a24);
                        a212 = FloatVector.broadcast(Simd.F, x[q2 + e + 12]).fma(k12, a212);
                        a30 = FloatVector.broadcast(Simd.F, x[q3 + e]).fma(k0, a30);
                        a38 = FloatVector.broadcast(Simd.F, x[q3 + e + 8]).fma(k8, a38);
                        a34 = FloatVector.broadcast(Simd.F, x[q3 + e + 4]).fma(k4, a34);
                        a312 = FloatVector.broadcast(Simd.F, x[q3 + e + 12]).fma(k12, a312);
                    }
                    // the tree's first two levels: (a_i + a_{i+8}) + (a_{i+4} + a_{i+12})
                    a00.add(a08).add(a04.add(a012)).intoArray(u, i * KEYS);
                    a10.add(a18).add(a14.add(a112)).intoArray(u, (4 + i) * KEYS);
                    a20.add(a28).add(a24.add(a212)).intoArray(u, (8 + i) * KEYS);
                    a30.add(a38).add(a34.add(a312)).intoArray(u, (12 + i) * KEYS);
                }
            }
            int j = b * KEYS;
            if (end == d) { // no elements past the last whole vector: the tree's last two levels here (a call each was a sixth of the time)
                sum(u, 0, scale, w0, j);
                sum(u, 4 * KEYS, scale, w1, j);
                sum(u, 8 * KEYS, scale, w2, j);
                sum(u, 12 * KEYS, scale, w3, j);
                continue;
            }
            finish(x, qOff, kt, kb, end, d, scale, u, 0, w0, j);
            finish(x, q1, kt, kb, end, d, scale, u, 4 * KEYS, w1, j);
            finish(x, q2, kt, kb, end, d, scale, u, 8 * KEYS, w2, j);
            finish(x, q3, kt, kb, end, d, scale, u, 12 * KEYS, w3, j);
        }
    }

    /** {@code w[j..j+16) = ((u0 + u2) + (u1 + u3))·scale}, the vectors {@code u_i} at {@code u[uo + 16i..]}. */
    private static void sum(float[] u, int uo, float scale, float[] w, int j) {
        FloatVector.fromArray(Simd.F, u, uo).add(FloatVector.fromArray(Simd.F, u, uo + 2 * KEYS))
                .add(FloatVector.fromArray(Simd.F, u, uo + KEYS).add(FloatVector.fromArray(Simd.F, u, uo + 3 * KEYS))).mul(scale).intoArray(w, j);
    }

    /** One query's block: the tree's last two levels ({@code (u0 + u2) + (u1 + u3)}), the elements past the last whole vector, the scale. */
    private static void finish(float[] x, int q, float[] kt, int kb, int end, int d, float scale, float[] u, int uo, float[] w, int j) {
        FloatVector r = FloatVector.zero(Simd.F);
        if (end > 0) {
            r = FloatVector.fromArray(Simd.F, u, uo).add(FloatVector.fromArray(Simd.F, u, uo + 2 * KEYS))
                    .add(FloatVector.fromArray(Simd.F, u, uo + KEYS).add(FloatVector.fromArray(Simd.F, u, uo + 3 * KEYS)));
        }
        for (int e = end; e < d; e++) r = r.add(FloatVector.broadcast(Simd.F, x[q + e]).mul(FloatVector.fromArray(Simd.F, kt, kb + e * KEYS)));
        r.mul(scale).intoArray(w, j);
    }
}
