package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/** A lookup table of {@code num} vectors of size {@code dim}: ids in, rows out (PyTorch's {@code nn.Embedding}). */
public final class Embedding extends Module {
    private Tensor weight; // shape only once dropped for a packed table (dropFloatWeight)
    private PackedMatrix packed; // inference table in 16 or 8 bits; null: the float32 weight

    /** Weight normal(0, {@code std}); PyTorch's default is std 1, GPT-2's 0.02 (token) and 0.01 (position). */
    public Embedding(int num, int dim, Rng rng, float std) {
        this.weight = parameter("weight", rng == null && UnfilledMatrices.active() ? Tensor.shapeOnly(num, dim) : Tensor.normal(rng, 0f, std, num, dim));
    }

    /** ids of shape {@code idShape} → {@code (idShape.., dim)}. */
    public Tensor forward(int[] ids, int... idShape) {
        if (packed != null) return packed.embedding(ids, idShape);
        return Ops.embedding(weight, ids, idShape);
    }

    /** {@code x·Wᵀ}: the table used as a tied output head, from the packed table when there is one. */
    public Tensor attend(Tensor x) {
        return packed != null ? packed.linear(x, null) : Ops.linear(x, weight, null);
    }

    /** Looks rows up in {@code p} (the table in 16 or 8 bits) instead of the float32 weight: inference only; null undoes it. */
    public void usePacked(PackedMatrix p) {
        if (p == null && weight.data().length != weight.size()) throw new IllegalStateException("the float32 table was dropped; it cannot be used again");
        if (p != null && (p.rows() != weight.dim(0) || p.cols() != weight.dim(1))) {
            throw new IllegalArgumentException("packed table (" + p.rows() + ", " + p.cols() + ") does not fit this embedding " + java.util.Arrays.toString(weight.shape()));
        }
        this.packed = p;
    }

    /** Forgets the float32 table and keeps its shape: lookups and the tied head read the packed table from now on. */
    public void dropFloatWeight() {
        if (packed == null) throw new IllegalStateException("no packed table to compute from");
        weight = Tensor.shapeOnly(weight.shape());
        replaceParameter("weight", weight);
    }

    /** The packed table in use, or null. */
    public PackedMatrix packed() {
        return packed;
    }

    /** The table {@code (num, dim)}. */
    public Tensor weight() {
        return weight;
    }
}
