package dev.myllm.model;

import dev.myllm.nn.Module;
import dev.myllm.nn.ModuleList;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head attention as a stack of independent {@link CausalAttention} heads whose outputs are
 * concatenated (the book's {@code MultiHeadAttentionWrapper}, section 3.6.1): simple, and slow
 * because every head runs its own projections.
 */
public final class MultiHeadAttentionWrapper extends Module {
    private final ModuleList<CausalAttention> heads = child("heads", new ModuleList<>());

    /** {@code numHeads} heads of width {@code dOut} each, so the output is {@code numHeads·dOut} wide. */
    public MultiHeadAttentionWrapper(int dIn, int dOut, float dropout, int numHeads, boolean qkvBias, Rng rng, Rng dropoutRng) {
        for (int h = 0; h < numHeads; h++) heads.add(new CausalAttention(dIn, dOut, dropout, qkvBias, rng, dropoutRng));
    }

    /** {@code (B, T, d_in)} → {@code (B, T, numHeads·d_out)}. */
    public Tensor forward(Tensor x) {
        List<Tensor> outs = new ArrayList<>();
        for (CausalAttention head : heads) outs.add(head.forward(x)); // each (B, T, d_out)
        return Tensor.concat(outs, -1);
    }

    public CausalAttention head(int i) {
        return heads.get(i);
    }

    public int numHeads() {
        return heads.size();
    }
}
