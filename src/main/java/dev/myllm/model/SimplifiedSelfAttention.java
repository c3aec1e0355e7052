package dev.myllm.model;

import dev.myllm.nn.Module;
import dev.myllm.tensor.Tensor;

/**
 * Self-attention without trainable weights (the book's section 3.3): every input attends to
 * every input with weights {@code softmax(x·xᵀ)}, and its context vector is the weighted sum of
 * the inputs.
 */
public final class SimplifiedSelfAttention extends Module {
    /** Attention weights {@code (.., T, T)} of inputs {@code (.., T, d)}: row i is how much token i attends to each token. */
    public Tensor attentionWeights(Tensor inputs) {
        Tensor scores = inputs.matmul(inputs.transpose(-2, -1)); // (.., T, T) dot products
        return scores.softmax();                                  // normalized along each row
    }

    /** Context vectors {@code (.., T, d)}: each row is the attention-weighted sum of all inputs. */
    public Tensor forward(Tensor inputs) {
        return attentionWeights(inputs).matmul(inputs);
    }
}
