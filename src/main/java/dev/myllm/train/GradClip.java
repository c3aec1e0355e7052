package dev.myllm.train;

import dev.myllm.tensor.Tensor;
import java.util.Collection;

/** Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * The L2 norm of all gradients together. Sums squares in double, parameter by parameter in
     * the given order, so the result does not depend on the thread count.
     */
    public static double globalNorm(Collection<Tensor> params) {
        double sum = 0;
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g == null) continue;
            float[] d = g.data();
            for (float x : d) sum += (double) x * x;
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global norm exceeds
     * {@code maxNorm}; returns the norm before clipping.
     */
    public static double clip(Collection<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max norm must be positive, got " + maxNorm);
        double norm = globalNorm(params);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            float c = (float) coef;
            for (Tensor p : params) {
                Tensor g = p.grad();
                if (g == null) continue;
                float[] d = g.data();
                for (int i = 0; i < d.length; i++) d[i] *= c;
            }
        }
        return norm;
    }
}
