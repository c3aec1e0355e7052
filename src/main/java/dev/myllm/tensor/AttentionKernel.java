package dev.myllm.tensor;

import java.util.Arrays;

/**
 * Fused causal self-attention over (B, H, T, D) row-major q, k, v: scores q·kᵀ/√D, causal mask,
 * softmax, optional counter-based dropout on the weights, weighted sum of v; forward, backward and
 * a one-token decode step over a KV cache.
 */
public final class AttentionKernel {
    private AttentionKernel() {
    }

    private static float dot(boolean simd, float[] a, int ao, float[] b, int bo, int n) {
        return simd ? VecMath.dot(a, ao, b, bo, n) : VecMath.dotScalar(a, ao, b, bo, n);
    }

    private static void axpy(boolean simd, float alpha, float[] x, int xo, float[] y, int yo, int n) {
        if (simd) VecMath.axpy(alpha, x, xo, y, yo, n);
        else VecMath.axpyScalar(alpha, x, xo, y, yo, n);
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

    private static void forward(boolean simd, float[] out, float[] att, float[] q, float[] k, float[] v, int B, int H,
                                int T, int D, float dropoutP, long seed) {
        float scale = (float) (1.0 / Math.sqrt(D));
        boolean dropout = dropoutP > 0f;
        int thr = DropoutHash.threshold(dropoutP);
        float dscale = DropoutHash.scale(dropoutP);
        // Rows (b, h, i) are independent; a row costs about i·D, so aim for ~32k multiply-adds per task.
        int grain = Math.max(1, 32768 / Math.max(1, T * D));
        Parallel.forRange(B * H * T, grain, (s, e) -> {
            float[] scratch = att == null ? new float[T] : null;
            for (int r = s; r < e; r++) {
                int bh = r / T, i = r % T;
                int base = bh * T * D;
                int qo = base + i * D;
                float[] row = att == null ? scratch : att;
                int ao = att == null ? 0 : r * T; // r = bh·T + i, so r·T is the row's offset in att
                for (int j = 0; j <= i; j++) row[ao + j] = dot(simd, q, qo, k, base + j * D, D) * scale;
                softmaxInPlace(simd, row, ao, i + 1);
                if (att != null) Arrays.fill(att, ao + i + 1, ao + T, 0f);
                Arrays.fill(out, qo, qo + D, 0f);
                long dropBase = (long) r * T;
                for (int j = 0; j <= i; j++) {
                    float w = row[ao + j];
                    if (dropout) {
                        if (!DropoutHash.keep(seed, dropBase + j, thr)) continue;
                        w *= dscale;
                    }
                    axpy(simd, w, v, base + j * D, out, qo, D);
                }
            }
        });
    }

    /**
     * Causal attention backward, accumulating into dq, dk, dv (any may be null). Work is split over
     * (b, h) pairs only: within one head every row adds into dk and dv of earlier positions, so one
     * thread owns a whole head and adds in row order, the same for any thread count.
     *
     * @param dq   (B, H, T, D) +=
     * @param dk   (B, H, T, D) +=
     * @param dv   (B, H, T, D) +=
     * @param dout (B, H, T, D)
     * @param att  (B, H, T, T) from forward
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                float[] att, int B, int H, int T, int D, float dropoutP, long seed) {
        backward(Simd.ENABLED, dq, dk, dv, dout, q, k, v, att, B, H, T, D, dropoutP, seed);
    }

    public static void backwardScalar(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k,
                                      float[] v, float[] att, int B, int H, int T, int D, float dropoutP, long seed) {
        backward(false, dq, dk, dv, dout, q, k, v, att, B, H, T, D, dropoutP, seed);
    }

    public static void backwardSimd(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k,
                                    float[] v, float[] att, int B, int H, int T, int D, float dropoutP, long seed) {
        backward(true, dq, dk, dv, dout, q, k, v, att, B, H, T, D, dropoutP, seed);
    }

    private static void backward(boolean simd, float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k,
                                 float[] v, float[] att, int B, int H, int T, int D, float dropoutP, long seed) {
        float scale = (float) (1.0 / Math.sqrt(D));
        boolean dropout = dropoutP > 0f;
        int thr = DropoutHash.threshold(dropoutP);
        float dscale = DropoutHash.scale(dropoutP);
        boolean needScores = dq != null || dk != null;
        Parallel.forRange(B * H, 1, (s, e) -> {
            float[] datt = new float[T]; // (T) d loss / d att for the current row
            for (int bh = s; bh < e; bh++) {
                int base = bh * T * D;
                for (int i = 0; i < T; i++) {
                    int qo = base + i * D;
                    int ao = (bh * T + i) * T;
                    // Through the weighted sum: w = att · mask · 1/(1-p); dv_j += w·dout_i, datt_j = mask·scale·(dout_i · v_j).
                    for (int j = 0; j <= i; j++) {
                        boolean kept = !dropout || DropoutHash.keep(seed, (long) ao + j, thr);
                        float w = kept ? (dropout ? att[ao + j] * dscale : att[ao + j]) : 0f;
                        if (dv != null && w != 0f) axpy(simd, w, dout, qo, dv, base + j * D, D);
                        if (needScores) {
                            float g = kept ? dot(simd, dout, qo, v, base + j * D, D) : 0f;
                            datt[j] = dropout ? g * dscale : g;
                        }
                    }
                    if (!needScores) continue;
                    // Through the softmax: dscore_j = att_j · (datt_j − Σ att·datt), then the 1/√D scale.
                    float sum = dot(simd, att, ao, datt, 0, i + 1);
                    for (int j = 0; j <= i; j++) {
                        float ds = att[ao + j] * (datt[j] - sum) * scale;
                        if (ds == 0f) continue;
                        if (dq != null) axpy(simd, ds, k, base + j * D, dq, qo, D);
                        if (dk != null) axpy(simd, ds, q, qo, dk, base + j * D, D);
                    }
                }
            }
        });
    }

    /**
     * One decoding step: attention of a single new query over the first {@code tLen} positions of
     * a KV cache (the new token's own k and v must already be stored at position tLen − 1). No
     * mask is needed (every cached position is in the past) and there is no dropout.
     *
     * @param out    (H, D) written
     * @param q      (H, D) the new token's query
     * @param kCache (H, tMax, D): head h, position t at (h·tMax + t)·D
     * @param vCache (H, tMax, D)
     */
    public static void forwardQuery(float[] out, float[] q, float[] kCache, float[] vCache, int H, int tLen, int tMax,
                                    int D) {
        forwardQuery(Simd.ENABLED, out, q, kCache, vCache, H, tLen, tMax, D);
    }

    public static void forwardQueryScalar(float[] out, float[] q, float[] kCache, float[] vCache, int H, int tLen,
                                          int tMax, int D) {
        forwardQuery(false, out, q, kCache, vCache, H, tLen, tMax, D);
    }

    public static void forwardQuerySimd(float[] out, float[] q, float[] kCache, float[] vCache, int H, int tLen,
                                        int tMax, int D) {
        forwardQuery(true, out, q, kCache, vCache, H, tLen, tMax, D);
    }

    private static void forwardQuery(boolean simd, float[] out, float[] q, float[] kCache, float[] vCache, int H,
                                     int tLen, int tMax, int D) {
        if (tLen < 1 || tLen > tMax) throw new IllegalArgumentException("tLen " + tLen + " outside [1, " + tMax + "]");
        float scale = (float) (1.0 / Math.sqrt(D));
        // A head costs ~2·tLen·D; fork only when there is enough work to pay for it.
        int grain = Math.max(1, 65536 / Math.max(1, 2 * tLen * D));
        Parallel.forRange(H, grain, (s, e) -> {
            float[] scores = new float[tLen];
            for (int h = s; h < e; h++) {
                int qo = h * D;
                int cb = h * tMax * D;
                for (int t = 0; t < tLen; t++) scores[t] = dot(simd, q, qo, kCache, cb + t * D, D) * scale;
                softmaxInPlace(simd, scores, 0, tLen);
                Arrays.fill(out, qo, qo + D, 0f);
                for (int t = 0; t < tLen; t++) axpy(simd, scores[t], vCache, cb + t * D, out, qo, D);
            }
        });
    }
}
