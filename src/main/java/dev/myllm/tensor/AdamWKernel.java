package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One AdamW update on flat float arrays, with PyTorch's operation order (torch.optim.AdamW,
 * single-tensor CPU path) so parameters stay within float rounding of torch.
 *
 * <p>Per element, in float: {@code p *= (1 - lr·wd)}; {@code m = lerp(m, g, 1-β1)} (an fma, as
 * ATen's vectorized lerp); {@code v = v·β2 + ((1-β2)·g)·g}; {@code denom = sqrt(v)/sqrt(bc2) + eps};
 * {@code p += (-(lr/bc1))·m / denom}. The scalars (1 - lr·wd, lr/bc1, sqrt(bc2)) are computed in
 * double, as Python does, and rounded to float once, as ATen does.
 */
public final class AdamWKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private AdamWKernel() {
    }

    /**
     * Updates param, m and v in place for elements [0, n).
     *
     * @param param (n), grad (n), m (n) first moment, v (n) second moment
     * @param bc1   bias correction 1 − β1^t (t = 1 on the first step)
     * @param bc2   bias correction 1 − β2^t
     */
    public static void step(float[] param, float[] grad, float[] m, float[] v, int n, double lr, double beta1,
                            double beta2, double eps, double weightDecay, double bc1, double bc2) {
        step(Simd.ENABLED, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    /** Same as the other overload with the bias corrections of step t (1-based) computed as torch does. */
    public static void step(float[] param, float[] grad, float[] m, float[] v, int n, double lr, double beta1,
                            double beta2, double eps, double weightDecay, int t) {
        step(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, 1 - Math.pow(beta1, t), 1 - Math.pow(beta2, t));
    }

    public static void stepScalar(float[] param, float[] grad, float[] m, float[] v, int n, double lr, double beta1,
                                  double beta2, double eps, double weightDecay, double bc1, double bc2) {
        step(false, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    /**
     * As {@link #step(float[], float[], float[], float[], int, double, double, double, double, double, double, double)},
     * and sets the gradient to zero in the same pass (it is in cache then): the optimizer's next
     * zeroing has nothing left to do, which saves a pass over every gradient per step.
     */
    public static void stepAndClear(boolean simd, float[] param, float[] grad, float[] m, float[] v, int n, double lr,
                                    double beta1, double beta2, double eps, double weightDecay, double bc1, double bc2) {
        step(simd, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2, true);
    }

    public static void stepSimd(float[] param, float[] grad, float[] m, float[] v, int n, double lr, double beta1,
                                double beta2, double eps, double weightDecay, double bc1, double bc2) {
        step(true, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    private static void step(boolean simd, float[] param, float[] grad, float[] m, float[] v, int n, double lr,
                             double beta1, double beta2, double eps, double weightDecay, double bc1, double bc2) {
        step(simd, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2, false);
    }

    private static void step(boolean simd, float[] param, float[] grad, float[] m, float[] v, int n, double lr,
                             double beta1, double beta2, double eps, double weightDecay, double bc1, double bc2,
                             boolean clear) {
        final boolean decay = weightDecay != 0;
        final float decayF = (float) (1 - lr * weightDecay);
        final float w1 = (float) (1 - beta1);
        // ATen's lerp: start + w·(end − start) when |w| < 0.5, else end + (w − 1)·(end − start).
        final boolean smallW = Math.abs(w1) < 0.5f;
        final float coeff = smallW ? w1 : w1 - 1f;
        final float b2 = (float) beta2;
        final float c2 = (float) (1 - beta2);
        final float bc2Sqrt = (float) Math.sqrt(bc2);
        final float epsF = (float) eps;
        final float negStep = (float) -(lr / bc1);
        int chunks = (n + L - 1) / L;
        Parallel.forRange(chunks, 4096 / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            if (simd) {
                FloatVector zero = FloatVector.zero(F);
                int ub = i + F.loopBound(e - i);
                for (; i < ub; i += L) {
                    FloatVector p = FloatVector.fromArray(F, param, i);
                    FloatVector g = FloatVector.fromArray(F, grad, i);
                    FloatVector mv = FloatVector.fromArray(F, m, i);
                    FloatVector vv = FloatVector.fromArray(F, v, i);
                    if (decay) p = p.mul(decayF);
                    FloatVector diff = g.sub(mv);
                    mv = diff.fma(FloatVector.broadcast(F, coeff), smallW ? mv : g);
                    vv = vv.mul(b2).add(g.mul(c2).mul(g));
                    FloatVector denom = vv.sqrt().div(bc2Sqrt).add(epsF);
                    p = p.add(mv.mul(negStep).div(denom));
                    p.intoArray(param, i);
                    mv.intoArray(m, i);
                    vv.intoArray(v, i);
                    if (clear) zero.intoArray(grad, i);
                }
            }
            for (; i < e; i++) {
                float p = param[i], g = grad[i];
                if (decay) p *= decayF;
                float mi = Math.fma(coeff, g - m[i], smallW ? m[i] : g);
                float vi = v[i] * b2 + c2 * g * g;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + epsF;
                param[i] = p + negStep * mi / denom;
                m[i] = mi;
                v[i] = vi;
                if (clear) grad[i] = 0f;
            }
        });
    }
}
