package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mean cross-entropy of logits against integer targets with an ignore index (fused log-softmax +
 * NLL), forward and backward; backward recomputes the softmax from the saved log-sum-exp, so no
 * (N, V) probability array is ever kept.
 */
public final class CrossEntropyKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** PyTorch's default ignore index. */
    public static final int IGNORE_INDEX = -100;

    private CrossEntropyKernel() {
    }

    /** Number of rows whose target is not {@code ignoreIndex}: the divisor of the mean. */
    public static int countValid(int[] targets, int N, int ignoreIndex) {
        int c = 0;
        for (int n = 0; n < N; n++) if (targets[n] != ignoreIndex) c++;
        return c;
    }

    /**
     * Returns mean over non-ignored rows of lse(logits[n]) − logits[n, targets[n]], or NaN when
     * every row is ignored (as PyTorch). Per-row losses are summed in double in row order, so the
     * result does not depend on the thread count.
     *
     * @param logits  (N, V)
     * @param targets (N) class ids in [0, V) or ignoreIndex
     * @param lse     (N) written: log Σ_v e^logits[n, v] (0 for ignored rows), for backward; may be null
     * @throws IllegalArgumentException for a target outside [0, V) that is not ignoreIndex
     */
    public static float forward(float[] logits, int[] targets, int N, int V, int ignoreIndex, float[] lse) {
        return forward(logits, targets, N, V, ignoreIndex, lse, Simd.ENABLED);
    }

    public static float forwardScalar(float[] logits, int[] targets, int N, int V, int ignoreIndex, float[] lse) {
        return forward(logits, targets, N, V, ignoreIndex, lse, false);
    }

    public static float forwardSimd(float[] logits, int[] targets, int N, int V, int ignoreIndex, float[] lse) {
        return forward(logits, targets, N, V, ignoreIndex, lse, true);
    }

    private static float forward(float[] logits, int[] targets, int N, int V, int ignoreIndex, float[] lse,
                                 boolean simd) {
        for (int n = 0; n < N; n++) {
            int t = targets[n];
            if (t != ignoreIndex && (t < 0 || t >= V)) {
                throw new IllegalArgumentException("target " + t + " at row " + n + " is outside [0, " + V
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
        double[] rowLoss = new double[N];
        Parallel.forRange(N, Math.max(1, 16384 / Math.max(1, V)), (s, e) -> {
            for (int n = s; n < e; n++) {
                int t = targets[n];
                if (t == ignoreIndex) {
                    if (lse != null) lse[n] = 0f;
                    continue;
                }
                double l = simd ? lseSimd(logits, n * V, V) : lseScalar(logits, n * V, V);
                if (lse != null) lse[n] = (float) l;
                rowLoss[n] = l - logits[n * V + t];
            }
        });
        double total = 0;
        int count = 0;
        for (int n = 0; n < N; n++) {
            if (targets[n] == ignoreIndex) continue;
            total += rowLoss[n];
            count++;
        }
        return count == 0 ? Float.NaN : (float) (total / count);
    }

    /** max + log Σ e^(x − max) of one row with a double sum. */
    static double lseScalar(float[] x, int o, int V) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) max = Math.max(max, x[o + i]);
        double s = 0;
        for (int i = 0; i < V; i++) s += Math.exp(x[o + i] - max);
        return max + Math.log(s);
    }

    static double lseSimd(float[] x, int o, int V) {
        float max = VecMath.max(x, o, V);
        return max + Math.log(VecMath.expSum(x, o, max, V));
    }

    /**
     * dlogits[n, v] += (e^(logits[n, v] − lse[n]) − [v == targets[n]]) · dloss / count, where count
     * = {@link #countValid}: the kernel itself divides by the number of non-ignored rows, so the
     * caller passes the upstream gradient of the mean loss unchanged (1 for a plain loss.backward()).
     * Ignored rows get no gradient.
     *
     * @param dlogits (N, V) accumulated
     * @param logits  (N, V)
     * @param targets (N)
     * @param lse     (N) from forward
     */
    public static void backward(float[] dlogits, float[] logits, int[] targets, float[] lse, int N, int V,
                                int ignoreIndex, float dloss) {
        if (Simd.ENABLED) backwardSimd(dlogits, logits, targets, lse, N, V, ignoreIndex, dloss);
        else backwardScalar(dlogits, logits, targets, lse, N, V, ignoreIndex, dloss);
    }

    public static void backwardScalar(float[] dlogits, float[] logits, int[] targets, float[] lse, int N, int V,
                                      int ignoreIndex, float dloss) {
        int count = countValid(targets, N, ignoreIndex);
        if (count == 0) return;
        float scale = dloss / count;
        Parallel.forRange(N, Math.max(1, 8192 / Math.max(1, V)), (s, e) -> {
            for (int n = s; n < e; n++) {
                int t = targets[n];
                if (t == ignoreIndex) continue;
                int o = n * V;
                float l = lse[n];
                for (int i = 0; i < V; i++) {
                    dlogits[o + i] = Math.fma((float) Math.exp(logits[o + i] - l), scale, dlogits[o + i]);
                }
                dlogits[o + t] -= scale;
            }
        });
    }

    public static void backwardSimd(float[] dlogits, float[] logits, int[] targets, float[] lse, int N, int V,
                                    int ignoreIndex, float dloss) {
        int count = countValid(targets, N, ignoreIndex);
        if (count == 0) return;
        float scale = dloss / count;
        int ub = F.loopBound(V);
        Parallel.forRange(N, Math.max(1, 8192 / Math.max(1, V)), (s, e) -> {
            for (int n = s; n < e; n++) {
                int t = targets[n];
                if (t == ignoreIndex) continue;
                int o = n * V;
                FloatVector lv = FloatVector.broadcast(F, lse[n]);
                FloatVector sc = FloatVector.broadcast(F, scale);
                int i = 0;
                for (; i < ub; i += L) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, logits, o + i).sub(lv));
                    p.fma(sc, FloatVector.fromArray(F, dlogits, o + i)).intoArray(dlogits, o + i);
                }
                for (; i < V; i++) {
                    dlogits[o + i] = Math.fma((float) Math.exp(logits[o + i] - lse[n]), scale, dlogits[o + i]);
                }
                dlogits[o + t] -= scale;
            }
        });
    }
}
