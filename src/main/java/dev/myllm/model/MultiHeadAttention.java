package dev.myllm.model;

import dev.myllm.nn.DropoutSource;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.CachedAttention;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * Causal multi-head attention as it runs for real (the book's {@code MultiHeadAttention},
 * section 3.6.2): one fused projection {@code c_attn} makes queries, keys and values of all heads
 * at once, the fused attention op masks, normalizes (with dropout on the weights) and mixes per
 * head, and {@code c_proj} projects the concatenated heads. Names follow Hugging Face GPT-2.
 */
public final class MultiHeadAttention extends Module {
    private final int dOut;
    private final int numHeads;
    private final float dropP;
    private final DropoutSource dropoutSource;
    private final Linear cAttn;
    private final Linear cProj;

    /**
     * GPT-2 initialization: weights normal(0, {@code std}); the output projection normal(0,
     * {@code projStd}); biases zero.
     */
    public MultiHeadAttention(int dIn, int dOut, int numHeads, float dropout, boolean qkvBias,
                              Rng rng, float std, float projStd, Rng dropoutRng) {
        this(dIn, dOut, numHeads, dropout, qkvBias, rng, std, projStd, new DropoutSource(dropoutRng));
    }

    /** As above, with the model's shared source of dropout masks. */
    public MultiHeadAttention(int dIn, int dOut, int numHeads, float dropout, boolean qkvBias,
                              Rng rng, float std, float projStd, DropoutSource dropoutSource) {
        if (dOut % numHeads != 0) throw new IllegalArgumentException("d_out " + dOut + " is not divisible by " + numHeads + " heads");
        this.dOut = dOut;
        this.numHeads = numHeads;
        this.dropP = dropout;
        this.dropoutSource = dropoutSource;
        this.cAttn = child("c_attn", new Linear(dIn, 3 * dOut, qkvBias, rng, std));
        this.cProj = child("c_proj", new Linear(dOut, dOut, true, rng, projStd));
    }

    /** {@code (B, T, d_in)} → {@code (B, T, d_out)}. */
    public Tensor forward(Tensor x) {
        Tensor qkv = cAttn.forward(x);                            // (B, T, 3·d_out)
        AttentionRecorder recorder = AttentionRecorder.current(); // null unless a pass is being inspected
        if (recorder != null) recorder.attention(qkv, numHeads);
        boolean drop = isTraining() && dropP > 0;
        int b = qkv.dim(0), t = qkv.dim(1);
        // per head: softmax(q·kᵀ/√hd, causal) · v, read from and written to rows of heads side by side;
        // the dropout mask is over (B, H, T, T)
        Tensor ctx = Ops.causalSelfAttention(qkv, numHeads, drop ? dropoutSource.next(dropP, b * numHeads * t * t) : null);
        return cProj.forward(ctx);                                // (B, T, d_out)
    }

    /**
     * Inference with a KV cache: {@code x} {@code (B, Tn, d_in)} holds only the new tokens; their
     * keys and values are appended to layer {@code layer} of the cache at its current length.
     */
    public Tensor forward(Tensor x, KVCache cache, int layer) {
        Tensor qkv = cAttn.forward(x);                            // (B, Tn, 3·d_out)
        Tensor ctx = CachedAttention.attend(qkv, numHeads, cache.keys(layer), cache.values(layer),
                cache.capacity(), cache.length());                // (B, Tn, d_out), heads concatenated
        return cProj.forward(ctx);
    }

    /**
     * One decode step of several sequences, each with its own cache: row b of {@code x}
     * {@code (B, 1, d_in)} is the new token of the sequence cached in {@code caches[b]}, at that
     * cache's current length.
     */
    public Tensor forward(Tensor x, KVCache[] caches, int layer) {
        int[] ones = new int[caches.length];
        java.util.Arrays.fill(ones, 1);
        return forward(x, caches, ones, layer);
    }

    /**
     * New tokens of several sequences side by side, each with its own cache (batched prefill):
     * the rows of {@code x} {@code (1, ΣTn, d_in)} are {@code lengths[0]} tokens of the sequence
     * cached in {@code caches[0]}, then {@code lengths[1]} of the next, and so on.
     */
    public Tensor forward(Tensor x, KVCache[] caches, int[] lengths, int layer) {
        int b = caches.length;
        float[][] k = new float[b][], v = new float[b][];
        int[] capacity = new int[b], past = new int[b];
        for (int i = 0; i < b; i++) {
            k[i] = caches[i].keys(layer);
            v[i] = caches[i].values(layer);
            capacity[i] = caches[i].capacity();
            past[i] = caches[i].length();
        }
        Tensor qkv = cAttn.forward(x);                            // (B, 1, 3·d_out)
        return cProj.forward(CachedAttention.attendEach(qkv, numHeads, k, v, capacity, past, lengths));
    }

    public Linear cAttn() {
        return cAttn;
    }

    public Linear cProj() {
        return cProj;
    }

    public int numHeads() {
        return numHeads;
    }
}
