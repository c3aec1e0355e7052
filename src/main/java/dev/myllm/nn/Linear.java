package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * A fully connected layer {@code y = x·Wᵀ + b} with the weight stored {@code [out, in]} as in
 * PyTorch's {@code nn.Linear}.
 *
 * <p>Two initializations: PyTorch's default (weight and bias uniform in ±1/√in, used by the book's
 * teaching modules) and GPT-2's (weight normal(0, std), bias zero, used by {@code GPTModel}).
 */
public final class Linear extends Module {
    private Tensor weight; // shape only once dropped for packed weights (dropFloatWeight)
    private final Tensor bias;
    private UnaryOperator<Tensor> adapter; // a low-rank update added to the output (LoRA), or null
    private PackedMatrix packed; // inference weights in 16 or 8 bits; null: the float32 weight

    /** PyTorch's default initialization: weight and bias uniform in {@code [-1/√in, 1/√in)}. */
    public Linear(int in, int out, boolean bias, Rng rng) {
        float bound = (float) (1 / Math.sqrt(in));
        this.weight = parameter("weight", Tensor.uniform(rng, -bound, bound, out, in));
        this.bias = bias ? parameter("bias", Tensor.uniform(rng, -bound, bound, out)) : null;
    }

    /** GPT-2's initialization: weight normal(0, {@code std}), bias zero. */
    public Linear(int in, int out, boolean bias, Rng rng, float std) {
        this.weight = parameter("weight", rng == null && UnfilledMatrices.active() ? Tensor.shapeOnly(out, in) : Tensor.normal(rng, 0f, std, out, in));
        this.bias = bias ? parameter("bias", Tensor.of(new float[out], out)) : null;
    }

    /** x {@code (.., in)} → {@code (.., out)}. */
    public Tensor forward(Tensor x) {
        Tensor y = packed != null ? packed.linear(x, bias) : Ops.linear(x, weight, bias);
        return adapter == null ? y : y.add(adapter.apply(x));
    }

    /** Adds {@code adapter(x)} to every output from now on (appendix E's LoRA update); null removes it. */
    public void setAdapter(UnaryOperator<Tensor> adapter) {
        this.adapter = adapter;
    }

    /** The adapter set by {@link #setAdapter}, or null. */
    public UnaryOperator<Tensor> adapter() {
        return adapter;
    }

    /** Computes from {@code p} (the weight in 16 or 8 bits) instead of the float32 weight: inference only; null undoes it. */
    public void usePacked(PackedMatrix p) {
        if (p == null && weight.data().length != weight.size()) throw new IllegalStateException("the float32 weight was dropped; it cannot be used again");
        if (p != null && (p.rows() != outFeatures() || p.cols() != inFeatures())) {
            throw new IllegalArgumentException("packed weight (" + p.rows() + ", " + p.cols() + ") does not fit Linear(" + inFeatures() + ", " + outFeatures() + ")");
        }
        this.packed = p;
    }

    /**
     * Forgets the float32 weight (its memory goes back to the heap) and keeps only its shape: the
     * layer computes from its packed weight from now on. Inference only; there is no way back.
     */
    public void dropFloatWeight() {
        if (packed == null) throw new IllegalStateException("no packed weight to compute from");
        weight = Tensor.shapeOnly(weight.shape());
        replaceParameter("weight", weight);
    }

    /** The packed weight in use, or null. */
    public PackedMatrix packed() {
        return packed;
    }

    /** The weight {@code (out, in)}. */
    public Tensor weight() {
        return weight;
    }

    /** The bias {@code (out)}, or null. */
    public Tensor bias() {
        return bias;
    }

    public int inFeatures() {
        return weight.dim(1);
    }

    public int outFeatures() {
        return weight.dim(0);
    }
}
