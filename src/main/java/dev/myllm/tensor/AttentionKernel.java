package dev.myllm.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused causal self-attention over (B, H, T, D) row-major q, k, v: scores q·kᵀ/√D, causal mask,
 * softmax, optional counter-based dropout on the weights, weighted sum of v, keeping the weights
 * (what {@code Ops.attentionWeights} shows), and a one-token decode step over a KV cache. Training's
 * forward and backward are {@link FlashAttention}'s, which keeps no weights.
 */
public final class AttentionKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private AttentionKernel() {
    }

    /**
     * dst[dOff + j] = scale · (a[ao..ao+D) · b[bBase + j·D ..]) for j &lt; count: q·kᵀ of one row,
     * or dout·vᵀ. Four keys at a time share each load of the query and keep four independent
     * fma chains in flight.
     */
    private static void rowDots(boolean simd, float[] a, int ao, float[] b, int bBase, int D, int count, float scale,
                                float[] dst, int dOff) {
        int j = 0;
        if (simd) {
            int ub = F.loopBound(D);
            for (; j + 4 <= count; j += 4) {
                int b0 = bBase + j * D, b1 = b0 + D, b2 = b1 + D, b3 = b2 + D;
                FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
                FloatVector s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
                int d = 0;
                for (; d < ub; d += L) {
                    FloatVector av = FloatVector.fromArray(F, a, ao + d);
                    s0 = av.fma(FloatVector.fromArray(F, b, b0 + d), s0);
                    s1 = av.fma(FloatVector.fromArray(F, b, b1 + d), s1);
                    s2 = av.fma(FloatVector.fromArray(F, b, b2 + d), s2);
                    s3 = av.fma(FloatVector.fromArray(F, b, b3 + d), s3);
                }
                float r0 = VecMath.sum(s0), r1 = VecMath.sum(s1), r2 = VecMath.sum(s2), r3 = VecMath.sum(s3);
                for (; d < D; d++) {
                    float ad = a[ao + d];
                    r0 += ad * b[b0 + d];
                    r1 += ad * b[b1 + d];
                    r2 += ad * b[b2 + d];
                    r3 += ad * b[b3 + d];
                }
                dst[dOff + j] = r0 * scale;
                dst[dOff + j + 1] = r1 * scale;
                dst[dOff + j + 2] = r2 * scale;
                dst[dOff + j + 3] = r3 * scale;
            }
        }
        for (; j < count; j++) dst[dOff + j] = dot(simd, a, ao, b, bBase + j * D, D) * scale;
    }

    /**
     * out[oo..oo+D) (= or +=) Σ_{j &lt; count} w[wo + j] · x[xBase + j·D ..]: the weighted sum of
     * rows. Loops run column block outer, rows inner, so the partial sums stay in registers
     * (four accumulators) instead of going through memory once per row.
     */
    private static void weightedRows(boolean simd, float[] w, int wo, float[] x, int xBase, int D, int count,
                                     float[] out, int oo, boolean accumulate) {
        int d = 0;
        if (simd) {
            int ub = F.loopBound(D);
            for (; d < ub; d += L) {
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                int j = 0, xo = xBase + d;
                for (; j + 4 <= count; j += 4, xo += 4 * D) {
                    a0 = FloatVector.fromArray(F, x, xo).fma(FloatVector.broadcast(F, w[wo + j]), a0);
                    a1 = FloatVector.fromArray(F, x, xo + D).fma(FloatVector.broadcast(F, w[wo + j + 1]), a1);
                    a2 = FloatVector.fromArray(F, x, xo + 2 * D).fma(FloatVector.broadcast(F, w[wo + j + 2]), a2);
                    a3 = FloatVector.fromArray(F, x, xo + 3 * D).fma(FloatVector.broadcast(F, w[wo + j + 3]), a3);
                }
                for (; j < count; j++, xo += D) a0 = FloatVector.fromArray(F, x, xo).fma(FloatVector.broadcast(F, w[wo + j]), a0);
                FloatVector r = a0.add(a1).add(a2.add(a3));
                if (accumulate) r = r.add(FloatVector.fromArray(F, out, oo + d));
                r.intoArray(out, oo + d);
            }
        }
        for (; d < D; d++) {
            float acc = 0f;
            for (int j = 0; j < count; j++) acc = Math.fma(w[wo + j], x[xBase + j * D + d], acc);
            out[oo + d] = accumulate ? out[oo + d] + acc : acc;
        }
    }

    private static float dot(boolean simd, float[] a, int ao, float[] b, int bo, int n) {
        return simd ? VecMath.dot(a, ao, b, bo, n) : VecMath.dotScalar(a, ao, b, bo, n);
    }

    /** Softmax of row[o..o+n) in place (max-subtracted). */
    private static void softmaxInPlace(boolean simd, float[] row, int o, int n) {
        float max;
        float sum;
        if (simd) {
            max = VecMath.max(row, o, n);
            sum = VecMath.expStore(row, o, max, row, o, n);
            SoftmaxKernel.scale(row, o, n, 1f / sum);
        } else {
            max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, row[o + j]);
            sum = 0f;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(row[o + j] - max);
                row[o + j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int j = 0; j < n; j++) row[o + j] *= inv;
        }
    }

    /**
     * Causal attention forward. The dropout mask of weight (b, h, i, j) is
     * {@code DropoutHash.keep(seed, ((b·H + h)·T + i)·T + j, threshold(p))}: its index in att.
     *
     * @param out (B, H, T, D) written
     * @param att (B, H, T, T) written: softmax probabilities before dropout, 0 for j &gt; i; saved
     *            for backward. May be null when no backward follows (a scratch row is used).
     * @param q   (B, H, T, D)
     * @param k   (B, H, T, D)
     * @param v   (B, H, T, D)
     * @param dropoutP probability of dropping an attention weight (0 = no dropout)
     * @param seed     the dropout seed; backward must get the same one
     */
    public static void forward(float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H, int T, int D,
                               float dropoutP, long seed) {
        forward(Simd.ENABLED, out, att, q, k, v, B, H, T, D, dropoutP, seed);
    }

    public static void forwardScalar(float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H, int T,
                                     int D, float dropoutP, long seed) {
        forward(false, out, att, q, k, v, B, H, T, D, dropoutP, seed);
    }

    public static void forwardSimd(float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H, int T,
                                   int D, float dropoutP, long seed) {
        forward(true, out, att, q, k, v, B, H, T, D, dropoutP, seed);
    }

    /** Forward with a given dropout mask over att's (B, H, T, T) indices, or none when {@code mask} is null. */
    public static void forward(float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H, int T, int D,
                               DropoutMask mask) {
        forward(Simd.ENABLED, out, att, q, k, v, B, H, T, D, mask);
    }

    private static DropoutMask mask(float dropoutP, long seed) {
        return dropoutP > 0f ? DropoutMask.hashed(dropoutP, seed) : null;
    }

    private static void forward(boolean simd, float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H,
                                int T, int D, float dropoutP, long seed) {
        forward(simd, out, att, q, k, v, B, H, T, D, mask(dropoutP, seed));
    }

    private static void forward(boolean simd, float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H,
                                int T, int D, DropoutMask mask) {
        float scale = (float) (1.0 / Math.sqrt(D));
        boolean dropout = mask != null;
        float dscale = dropout ? mask.scale() : 1f;
        // Rows (b, h, i) are independent; a row costs about i·D, so aim for ~32k multiply-adds per task.
        int grain = Math.max(1, 32768 / Math.max(1, T * D));
        Parallel.forRange(B * H * T, grain, (s, e) -> {
            float[] scratch = att == null ? new float[T] : null;
            float[] dropped = dropout ? new float[T] : null; // weights after the mask, for the weighted sum
            boolean[] keep = dropout ? new boolean[T] : null;
            for (int r = s; r < e; r++) {
                int bh = r / T, i = r % T;
                int base = bh * T * D;
                int qo = base + i * D;
                float[] row = att == null ? scratch : att;
                int ao = att == null ? 0 : r * T; // r = bh·T + i, so r·T is the row's offset in att
                rowDots(simd, q, qo, k, base, D, i + 1, scale, row, ao);
                softmaxInPlace(simd, row, ao, i + 1);
                if (att != null) Arrays.fill(att, ao + i + 1, ao + T, 0f);
                if (dropout) {
                    mask.keep(simd, (long) r * T, i + 1, keep, 0);
                    for (int j = 0; j <= i; j++) dropped[j] = keep[j] ? row[ao + j] * dscale : 0f;
                    weightedRows(simd, dropped, 0, v, base, D, i + 1, out, qo, false);
                } else {
                    weightedRows(simd, row, ao, v, base, D, i + 1, out, qo, false);
                }
            }
        });
    }
}
