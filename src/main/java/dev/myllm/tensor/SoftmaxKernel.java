package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Softmax and log-softmax over the last dimension of (N, C) rows, forward and backward, max-subtracted for stability. */
public final class SoftmaxKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private SoftmaxKernel() {
    }

    private static int rowGrain(int C) {
        return Math.max(1, 8192 / Math.max(1, C));
    }

    /** out = softmax(x) per row; out, x (N, C); out is written and may alias x. */
    public static void softmaxForward(float[] out, float[] x, int N, int C) {
        if (Simd.ENABLED) softmaxForwardSimd(out, x, N, C);
        else softmaxForwardScalar(out, x, N, C);
    }

    public static void softmaxForwardScalar(float[] out, float[] x, int N, int C) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < C; i++) max = Math.max(max, x[o + i]);
                float sum = 0f;
                for (int i = 0; i < C; i++) {
                    float ev = (float) Math.exp(x[o + i] - max);
                    out[o + i] = ev;
                    sum += ev;
                }
                float inv = 1f / sum;
                for (int i = 0; i < C; i++) out[o + i] *= inv;
            }
        });
    }

    public static void softmaxForwardSimd(float[] out, float[] x, int N, int C) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float max = VecMath.max(x, o, C);
                float inv = 1f / VecMath.expStore(x, o, max, out, o, C);
                scale(out, o, C, inv);
            }
        });
    }

    static void scale(float[] a, int o, int n, float c) {
        int i = 0;
        int ub = F.loopBound(n);
        for (; i < ub; i += L) FloatVector.fromArray(F, a, o + i).mul(c).intoArray(a, o + i);
        for (; i < n; i++) a[o + i] *= c;
    }

    /** dx += out ⊙ (dout − Σ out·dout) per row; dx, out (saved softmax), dout (N, C). */
    public static void softmaxBackward(float[] dx, float[] out, float[] dout, int N, int C) {
        if (Simd.ENABLED) softmaxBackwardSimd(dx, out, dout, N, C);
        else softmaxBackwardScalar(dx, out, dout, N, C);
    }

    public static void softmaxBackwardScalar(float[] dx, float[] out, float[] dout, int N, int C) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float dot = VecMath.dotScalar(out, o, dout, o, C);
                for (int i = 0; i < C; i++) dx[o + i] = Math.fma(out[o + i], dout[o + i] - dot, dx[o + i]);
            }
        });
    }

    public static void softmaxBackwardSimd(float[] dx, float[] out, float[] dout, int N, int C) {
        int ub = F.loopBound(C);
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float dot = VecMath.dot(out, o, dout, o, C);
                int i = 0;
                for (; i < ub; i += L) {
                    FloatVector y = FloatVector.fromArray(F, out, o + i);
                    FloatVector g = FloatVector.fromArray(F, dout, o + i).sub(dot);
                    y.fma(g, FloatVector.fromArray(F, dx, o + i)).intoArray(dx, o + i);
                }
                for (; i < C; i++) dx[o + i] = Math.fma(out[o + i], dout[o + i] - dot, dx[o + i]);
            }
        });
    }

    /** out = x − max − log Σ e^(x − max) per row; out, x (N, C); out may alias x. */
    public static void logSoftmaxForward(float[] out, float[] x, int N, int C) {
        if (Simd.ENABLED) logSoftmaxForwardSimd(out, x, N, C);
        else logSoftmaxForwardScalar(out, x, N, C);
    }

    public static void logSoftmaxForwardScalar(float[] out, float[] x, int N, int C) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < C; i++) max = Math.max(max, x[o + i]);
                double sum = 0;
                for (int i = 0; i < C; i++) sum += Math.exp(x[o + i] - max);
                float shift = max + (float) Math.log(sum);
                for (int i = 0; i < C; i++) out[o + i] = x[o + i] - shift;
            }
        });
    }

    public static void logSoftmaxForwardSimd(float[] out, float[] x, int N, int C) {
        int ub = F.loopBound(C);
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float max = VecMath.max(x, o, C);
                float shift = max + (float) Math.log(VecMath.expSum(x, o, max, C));
                int i = 0;
                for (; i < ub; i += L) FloatVector.fromArray(F, x, o + i).sub(shift).intoArray(out, o + i);
                for (; i < C; i++) out[o + i] = x[o + i] - shift;
            }
        });
    }

    /** dx += dout − e^out · Σ dout per row; dx, out (saved log-softmax), dout (N, C). */
    public static void logSoftmaxBackward(float[] dx, float[] out, float[] dout, int N, int C) {
        if (Simd.ENABLED) logSoftmaxBackwardSimd(dx, out, dout, N, C);
        else logSoftmaxBackwardScalar(dx, out, dout, N, C);
    }

    public static void logSoftmaxBackwardScalar(float[] dx, float[] out, float[] dout, int N, int C) {
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                float sum = 0f;
                for (int i = 0; i < C; i++) sum += dout[o + i];
                for (int i = 0; i < C; i++) dx[o + i] += dout[o + i] - (float) Math.exp(out[o + i]) * sum;
            }
        });
    }

    public static void logSoftmaxBackwardSimd(float[] dx, float[] out, float[] dout, int N, int C) {
        int ub = F.loopBound(C);
        Parallel.forRange(N, rowGrain(C), (s, e) -> {
            for (int n = s; n < e; n++) {
                int o = n * C;
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (; i < ub; i += L) acc = acc.add(FloatVector.fromArray(F, dout, o + i));
                float sum = VecMath.sum(acc);
                for (; i < C; i++) sum += dout[o + i];
                FloatVector negSum = FloatVector.broadcast(F, -sum);
                for (i = 0; i < ub; i += L) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, out, o + i));
                    FloatVector d = p.fma(negSum, FloatVector.fromArray(F, dout, o + i));
                    FloatVector.fromArray(F, dx, o + i).add(d).intoArray(dx, o + i);
                }
                for (; i < C; i++) dx[o + i] += dout[o + i] - (float) Math.exp(out[o + i]) * sum;
            }
        });
    }
}
