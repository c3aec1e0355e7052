package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;

/**
 * Layer normalization over the last dimension with biased variance, then a trainable scale and
 * shift; the parameters are named {@code weight} and {@code bias} as in Hugging Face GPT-2
 * (the book calls them {@code scale} and {@code shift}).
 */
public final class LayerNorm extends Module {
    /** GPT-2's epsilon. */
    public static final float DEFAULT_EPS = 1e-5f;

    private final Tensor weight;
    private final Tensor bias;
    private final float eps;

    public LayerNorm(int dim) {
        this(dim, DEFAULT_EPS);
    }

    public LayerNorm(int dim, float eps) {
        float[] ones = new float[dim];
        java.util.Arrays.fill(ones, 1f);
        this.weight = parameter("weight", Tensor.of(ones, dim));
        this.bias = parameter("bias", Tensor.of(new float[dim], dim));
        this.eps = eps;
    }

    /** x {@code (.., C)} → normalized {@code (.., C)}. */
    public Tensor forward(Tensor x) {
        return Ops.layerNorm(x, weight, bias, eps);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public float eps() {
        return eps;
    }
}
