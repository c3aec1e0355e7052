package dev.myllm.model;

import dev.myllm.nn.Dropout;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * Causal (masked) self-attention on a batch (the book's {@code CausalAttention}, section 3.5):
 * scores above the diagonal are set to −∞ before the softmax so a token never sees the future,
 * and dropout is applied to the attention weights while training.
 */
public final class CausalAttention extends Module {
    private final Linear wQuery;
    private final Linear wKey;
    private final Linear wValue;
    private final Dropout dropout;

    /** Weights initialized as PyTorch's {@code nn.Linear}; {@code dropoutRng} draws the dropout masks. */
    public CausalAttention(int dIn, int dOut, float dropout, boolean qkvBias, Rng rng, Rng dropoutRng) {
        this.wQuery = child("W_query", new Linear(dIn, dOut, qkvBias, rng));
        this.wKey = child("W_key", new Linear(dIn, dOut, qkvBias, rng));
        this.wValue = child("W_value", new Linear(dIn, dOut, qkvBias, rng));
        this.dropout = child("dropout", new Dropout(dropout, dropoutRng));
    }

    /** Attention weights {@code (B, T, T)} for inputs {@code (B, T, d_in)}, after the mask and dropout. */
    public Tensor attentionWeights(Tensor x) {
        Tensor queries = wQuery.forward(x);                                  // (B, T, d_out)
        Tensor keys = wKey.forward(x);                                       // (B, T, d_out)
        Tensor scores = queries.matmul(keys.transpose(-2, -1));              // (B, T, T)
        Tensor masked = scores.maskedFillCausal(Float.NEGATIVE_INFINITY);    // future → −∞ → weight 0
        Tensor weights = masked.scale((float) (1 / Math.sqrt(keys.dim(-1)))).softmax();
        return dropout.forward(weights);
    }

    /** Context vectors {@code (B, T, d_out)}. */
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
