package dev.myllm.model;

import dev.myllm.tensor.Heads;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Records the causal softmax weights of the attention layers during one forward pass on this
 * thread, for inspection (the book's attention-weight pictures on a real model). Outside
 * {@link #record} nothing is recorded and the attention layers pay one thread-local read.
 * The weights are computed from the very queries and keys that forward pass uses, by the
 * engine's attention kernel, without dropout.
 */
public final class AttentionRecorder {
    private static final ThreadLocal<AttentionRecorder> CURRENT = new ThreadLocal<>();

    private final boolean[] wanted;
    private final float[][] weights;
    private final int[] heads;
    private int seqLen;
    private int layer;

    private AttentionRecorder(int layers, int[] which) {
        this.wanted = new boolean[layers];
        for (int l : which) {
            if (l < 0 || l >= layers) throw new IllegalArgumentException("layer " + l + " outside [0, " + layers + ")");
            wanted[l] = true;
        }
        this.weights = new float[layers][];
        this.heads = new int[layers];
    }

    /** What one recorded pass gives back: the forward pass's result and the weights per layer. */
    public record Recording<R>(R result, AttentionRecorder weights) {
    }

    /**
     * Runs {@code pass} (one forward pass of a model with {@code layers} layers, batch 1) and
     * records the weights of the layers in {@code which}. Layers count in the order their
     * attention runs, which is the model's block order.
     */
    public static <R> Recording<R> record(int layers, int[] which, Supplier<R> pass) {
        AttentionRecorder r = new AttentionRecorder(layers, which);
        AttentionRecorder outer = CURRENT.get();
        CURRENT.set(r);
        try {
            return new Recording<>(pass.get(), r);
        } finally {
            if (outer == null) CURRENT.remove();
            else CURRENT.set(outer);
        }
    }

    /** The recorder of the pass running on this thread, or null (the usual case). */
    static AttentionRecorder current() {
        return CURRENT.get();
    }

    /** Called by each attention layer with its fused projection {@code (1, T, 3C)}. */
    void attention(Tensor qkv, int numHeads) {
        int l = layer++;
        if (l >= wanted.length || !wanted[l]) return;
        if (qkv.dim(0) != 1) throw new IllegalStateException("attention weights are recorded for batch 1 only, got " + qkv.dim(0));
        Tensor[] h = Heads.splitQkv(qkv, numHeads);          // q, k: (1, H, T, hd)
        // the engine's attention kernel: its scores, mask and softmax, without dropout
        weights[l] = Ops.causalAttentionWeights(h[0], h[1]).data();
        int t = qkv.dim(1);
        heads[l] = numHeads;
        seqLen = t;
    }

    /** Whether layer {@code l} was asked for and recorded. */
    public boolean has(int l) {
        return l >= 0 && l < weights.length && weights[l] != null;
    }

    /** Weight of query {@code i} on key {@code j} in head {@code h} of layer {@code l} (0 when j &gt; i). */
    public float weight(int l, int h, int i, int j) {
        return weights[l][(h * seqLen + i) * seqLen + j];
    }

    /** Layer {@code l}'s weights {@code (H, T, T)} row-major (a copy). */
    public float[] layer(int l) {
        return Arrays.copyOf(weights[l], weights[l].length);
    }

    public int heads(int l) {
        return heads[l];
    }

    public int seqLen() {
        return seqLen;
    }
}
