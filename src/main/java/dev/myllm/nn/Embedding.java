package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/** A lookup table of {@code num} vectors of size {@code dim}: ids in, rows out (PyTorch's {@code nn.Embedding}). */
public final class Embedding extends Module {
    private final Tensor weight;

    /** Weight normal(0, {@code std}); PyTorch's default is std 1, GPT-2's 0.02 (token) and 0.01 (position). */
    public Embedding(int num, int dim, Rng rng, float std) {
        this.weight = parameter("weight", Tensor.normal(rng, 0f, std, num, dim));
    }

    /** ids of shape {@code idShape} → {@code (idShape.., dim)}. */
    public Tensor forward(int[] ids, int... idShape) {
        return Ops.embedding(weight, ids, idShape);
    }

    /** The table {@code (num, dim)}. */
    public Tensor weight() {
        return weight;
    }
}
