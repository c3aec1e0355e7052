package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Layer normalization over rows of C (biased variance, as PyTorch), forward and backward on float arrays. */
public final class LayerNormKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private LayerNormKernel() {
    }

    private static int rowGrain(int C) {
        return Math.max(1, 16384 / Math.max(1, C));
    }

    /**
     * out = (x - mean) * rstd * weight + bias per row.
     *
     * @param out    (N, C) written (not accumulated)
     * @param mean   (N) saved for backward, may be null
     * @param rstd   (N) 1/sqrt(var + eps), saved for backward, may be null
     * @param x      (N, C)
     * @param weight (C)
     * @param bias   (C)
     */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                               int N, int C, float eps) {
        long t0 = StepProfile.begin();
        if (Simd.ENABLED) forwardSimd(out, mean, rstd, x, weight, bias, N, C, eps);
        else forwardScalar(out, mean, rstd, x, weight, bias, N, C, eps);
        StepProfile.end(t0, "layerNorm forward", 0);
    }

    public static void forwardScalar(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                                     int N, int C, float eps) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float sum = 0f;
                for (int i = 0; i < C; i++) sum += x[o + i];
                float m = sum / C;
                float v = 0f;
                for (int i = 0; i < C; i++) {
                    float d = x[o + i] - m;
                    v = Math.fma(d, d, v);
                }
                v /= C;
                float r = 1f / (float) Math.sqrt(v + eps);
                for (int i = 0; i < C; i++) {
                    out[o + i] = Math.fma((x[o + i] - m) * r, weight[i], bias[i]);
                }
                if (mean != null) mean[n] = m;
                if (rstd != null) rstd[n] = r;
            }
        });
    }

    public static void forwardSimd(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                                   int N, int C, float eps) {
        int ub = F.loopBound(C);
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (; i < ub; i += L) acc = acc.add(FloatVector.fromArray(F, x, o + i));
                float sum = VecMath.sum(acc);
                for (; i < C; i++) sum += x[o + i];
                float m = sum / C;
                FloatVector mv = FloatVector.broadcast(F, m);
                acc = FloatVector.zero(F);
                for (i = 0; i < ub; i += L) {
                    FloatVector d = FloatVector.fromArray(F, x, o + i).sub(mv);
                    acc = d.fma(d, acc);
                }
                float v = VecMath.sum(acc);
                for (; i < C; i++) {
                    float d = x[o + i] - m;
                    v = Math.fma(d, d, v);
                }
                v /= C;
                float r = 1f / (float) Math.sqrt(v + eps);
                for (i = 0; i < ub; i += L) {
                    FloatVector xn = FloatVector.fromArray(F, x, o + i).sub(mv).mul(r);
                    xn.fma(FloatVector.fromArray(F, weight, i), FloatVector.fromArray(F, bias, i)).intoArray(out, o + i);
                }
                for (; i < C; i++) out[o + i] = Math.fma((x[o + i] - m) * r, weight[i], bias[i]);
                if (mean != null) mean[n] = m;
                if (rstd != null) rstd[n] = r;
            }
        });
    }

    /**
     * Accumulates the gradients of {@link #forward} (llm.c's layernorm_backward). dx is split over
     * rows; dweight and dbias are sums over rows, so they are split over columns and every column
     * adds its rows in order 0..N-1: bitwise the same for any thread count.
     *
     * @param dx      (N, C) += , may be null
     * @param dweight (C) += , may be null
     * @param dbias   (C) += , may be null
     * @param dout    (N, C)
     * @param x       (N, C)
     * @param weight  (C)
     * @param mean    (N) from forward
     * @param rstd    (N) from forward
     */
    public static void backward(float[] dx, float[] dweight, float[] dbias, float[] dout, float[] x, float[] weight,
                                float[] mean, float[] rstd, int N, int C) {
        long t0 = StepProfile.begin();
        if (Simd.ENABLED) backwardSimd(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C);
        else backwardScalar(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C);
        StepProfile.end(t0, "layerNorm backward", 0);
    }

    public static void backwardScalar(float[] dx, float[] dweight, float[] dbias, float[] dout, float[] x,
                                      float[] weight, float[] mean, float[] rstd, int N, int C) {
        if (dx != null) {
            Parallel.forRange(N, rowGrain(C), (s, e) -> {
                for (int n = s; n < e; n++) {
                    int o = n * C;
                    float m = mean[n], r = rstd[n];
                    float dnormMean = 0f, dnormNormMean = 0f;
                    for (int i = 0; i < C; i++) {
                        float norm = (x[o + i] - m) * r;
                        float dnorm = weight[i] * dout[o + i];
                        dnormMean += dnorm;
                        dnormNormMean = Math.fma(dnorm, norm, dnormNormMean);
                    }
                    dnormMean /= C;
                    dnormNormMean /= C;
                    for (int i = 0; i < C; i++) {
                        float norm = (x[o + i] - m) * r;
                        float dnorm = weight[i] * dout[o + i];
                        dx[o + i] += r * (dnorm - dnormMean - norm * dnormNormMean);
                    }
                }
            });
        }
        if (dweight != null || dbias != null) {
            Parallel.forRange(C, 64, (cs, ce) -> {
                for (int n = 0; n < N; n++) {
                    int o = n * C;
                    float m = mean[n], r = rstd[n];
                    for (int i = cs; i < ce; i++) {
                        float g = dout[o + i];
                        if (dbias != null) dbias[i] += g;
                        if (dweight != null) dweight[i] = Math.fma((x[o + i] - m) * r, g, dweight[i]);
                    }
                }
            });
        }
    }

    public static void backwardSimd(float[] dx, float[] dweight, float[] dbias, float[] dout, float[] x,
                                    float[] weight, float[] mean, float[] rstd, int N, int C) {
        int ub = F.loopBound(C);
        if (dx != null) {
            Parallel.forRange(N, rowGrain(C), (s, e) -> {
                for (int n = s; n < e; n++) {
                    int o = n * C;
                    float m = mean[n], r = rstd[n];
                    FloatVector mv = FloatVector.broadcast(F, m);
                    FloatVector accMean = FloatVector.zero(F), accNorm = FloatVector.zero(F);
                    int i = 0;
                    for (; i < ub; i += L) {
                        FloatVector norm = FloatVector.fromArray(F, x, o + i).sub(mv).mul(r);
                        FloatVector dnorm = FloatVector.fromArray(F, weight, i).mul(FloatVector.fromArray(F, dout, o + i));
                        accMean = accMean.add(dnorm);
                        accNorm = dnorm.fma(norm, accNorm);
                    }
                    float dnormMean = VecMath.sum(accMean), dnormNormMean = VecMath.sum(accNorm);
                    for (; i < C; i++) {
                        float norm = (x[o + i] - m) * r;
                        float dnorm = weight[i] * dout[o + i];
                        dnormMean += dnorm;
                        dnormNormMean = Math.fma(dnorm, norm, dnormNormMean);
                    }
                    dnormMean /= C;
                    dnormNormMean /= C;
                    FloatVector dm = FloatVector.broadcast(F, dnormMean), dnm = FloatVector.broadcast(F, dnormNormMean);
                    for (i = 0; i < ub; i += L) {
                        FloatVector norm = FloatVector.fromArray(F, x, o + i).sub(mv).mul(r);
                        FloatVector dnorm = FloatVector.fromArray(F, weight, i).mul(FloatVector.fromArray(F, dout, o + i));
                        FloatVector d = dnorm.sub(dm).sub(norm.mul(dnm)).mul(r);
                        FloatVector.fromArray(F, dx, o + i).add(d).intoArray(dx, o + i);
                    }
                    for (; i < C; i++) {
                        float norm = (x[o + i] - m) * r;
                        float dnorm = weight[i] * dout[o + i];
                        dx[o + i] += r * (dnorm - dnormMean - norm * dnormNormMean);
                    }
                }
            });
        }
        if (dweight != null || dbias != null) {
            // Column chunks of whole vectors so the lanewise sums match the scalar twin bit for bit.
            int chunks = (C + L - 1) / L;
            Parallel.forRange(chunks, 4, (ks, ke) -> {
                int cs = ks * L, ce = Math.min(C, ke * L);
                int vEnd = cs + (ce - cs) / L * L;
                for (int n = 0; n < N; n++) {
                    int o = n * C;
                    float m = mean[n], r = rstd[n];
                    FloatVector mv = FloatVector.broadcast(F, m);
                    int i = cs;
                    for (; i < vEnd; i += L) {
                        FloatVector g = FloatVector.fromArray(F, dout, o + i);
                        if (dbias != null) FloatVector.fromArray(F, dbias, i).add(g).intoArray(dbias, i);
                        if (dweight != null) {
                            FloatVector norm = FloatVector.fromArray(F, x, o + i).sub(mv).mul(r);
                            norm.fma(g, FloatVector.fromArray(F, dweight, i)).intoArray(dweight, i);
                        }
                    }
                    for (; i < ce; i++) {
                        float g = dout[o + i];
                        if (dbias != null) dbias[i] += g;
                        if (dweight != null) dweight[i] = Math.fma((x[o + i] - m) * r, g, dweight[i]);
                    }
                }
            });
        }
    }
}
