package dev.myllm.model;

import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * Self-attention with trainable weights, scaled dot-product attention (the book's
 * {@code SelfAttention_v2}, section 3.4): queries, keys and values are linear projections of the
 * inputs, and the scores are divided by √d_out so the softmax does not saturate.
 */
public final class SelfAttention extends Module {
    private final Linear wQuery;
    private final Linear wKey;
    private final Linear wValue;

    public SelfAttention(int dIn, int dOut, boolean qkvBias, Rng rng) {
        this.wQuery = child("W_query", new Linear(dIn, dOut, qkvBias, rng));
        this.wKey = child("W_key", new Linear(dIn, dOut, qkvBias, rng));
        this.wValue = child("W_value", new Linear(dIn, dOut, qkvBias, rng));
    }

    /** Attention weights {@code (.., T, T)} for inputs {@code (.., T, d_in)}. */
    public Tensor attentionWeights(Tensor x) {
        Tensor queries = wQuery.forward(x);                           // (.., T, d_out)
        Tensor keys = wKey.forward(x);                                // (.., T, d_out)
        Tensor scores = queries.matmul(keys.transpose(-2, -1));       // (.., T, T)
        return scores.scale((float) (1 / Math.sqrt(keys.dim(-1)))).softmax();
    }

    /** Context vectors {@code (.., T, d_out)}. */
    public Tensor forward(Tensor x) {
        return attentionWeights(x).matmul(wValue.forward(x));
    }

    public Linear wQuery() {
        return wQuery;
    }

    public Linear wKey() {
        return wKey;
    }

    public Linear wValue() {
        return wValue;
    }
}
