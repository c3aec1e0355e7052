package dev.myllm.train;

import dev.myllm.model.GPTConfig;
import dev.myllm.tensor.Ops;
import dev.myllm.util.ByteSizes;
import java.util.Locale;

/**
 * The memory a GPT training run needs, estimated before it starts from the shapes alone: the
 * weights and their gradients, AdamW's two moments, and the activations one micro-batch keeps
 * from forward to backward (as the engine allocates them: the fused head and loss, tiled
 * attention, GELU recomputed). A lower bound: where the exact figure is uncertain it counts less, never more, and it
 * counts no margin for the JVM's young generation and work buffers (192 MiB of one refused runs of gpt2-tiny that ran in
 * a heap of 200 MB), so a run it refuses certainly does not fit (one it passes may still run short).
 */
public record MemoryEstimate(long weightBytes, long optimizerBytes, long activationBytes) {
    /** Total bytes of heap the run needs at least. */
    public long totalBytes() {
        return weightBytes + optimizerBytes + activationBytes;
    }

    /** Training every parameter of {@code cfg} with AdamW on micro-batches of {@code batch × context} tokens. */
    public static MemoryEstimate training(GPTConfig cfg, int batch, int context) {
        return training(cfg, batch, context, false);
    }

    /** As above; with {@code checkpoint} each block keeps only its input and recomputes the rest in backward. */
    public static MemoryEstimate training(GPTConfig cfg, int batch, int context, boolean checkpoint) {
        long params = cfg.parameterCount();
        return new MemoryEstimate(2 * params * Float.BYTES, 2 * params * Float.BYTES,
                activationFloats(cfg, batch, context, checkpoint) * Float.BYTES);
    }

    /**
     * Floats a training step holds at its peak, at least: what the forward pass keeps for backward, plus half the
     * gradients backward has in flight at once (a block's worth; the rest are handed back early).
     */
    static long activationFloats(GPTConfig cfg, int batch, int context) {
        return activationFloats(cfg, batch, context, false);
    }

    /**
     * As above; with {@code checkpoint} the blocks keep only their outputs (C per token each), and
     * the peak adds one block's activations, recomputed in backward, and its input's gradient.
     */
    static long activationFloats(GPTConfig cfg, int batch, int context, boolean checkpoint) {
        long n = (long) batch * context;
        long head = Ops.linearCrossEntropyFloats((int) n, cfg.vocabSize(), cfg.embDim(), true);
        // half of backward's gradients in flight: the whole count came to a few percent over the measured peak
        // (MemoryEstimateTest), and this is to stay below what a step holds, as FineTuningMemory does
        return n * (forwardFloatsPerToken(cfg, checkpoint) + backwardFloatsPerToken(cfg) / 2) + head;
    }

    /**
     * Floats per token the forward pass keeps for backward up to the final LayerNorm (no output head): the embeddings,
     * every block's activations (with {@code checkpoint} only their outputs, plus one block recomputed in backward and
     * its input's gradient), and the final LayerNorm's.
     */
    public static long forwardFloatsPerToken(GPTConfig cfg, boolean checkpoint) {
        long c = cfg.embDim(), h = cfg.nHeads();
        boolean dropout = cfg.dropRate() > 0;
        // per block: ln_1 (C + mean, rstd), qkv (3C), attention (C + one lse per head), c_proj (C), add (C),
        // ln_2 (C + 2), c_fc (4C), c_proj on GELU (C), add (C), and two dropout outputs when on
        long perBlock = 14 * c + h + 4 + (dropout ? 2 * c : 0);
        long embeddings = 3 * c + (dropout ? c : 0);
        long finalNorm = c + 2;
        long blocks = checkpoint ? cfg.nLayers() * c + perBlock + c : cfg.nLayers() * perBlock;
        return blocks + embeddings + finalNorm;
    }

    /** Floats per token of the gradients backward has in flight at once through a block: the residual's, the feed-forward network's 4C buffers and their neighbours. */
    public static long backwardFloatsPerToken(GPTConfig cfg) {
        return 12L * cfg.embDim();
    }

    /** Whether the estimate fits in {@code heapBytes}. */
    public boolean fits(long heapBytes) {
        return totalBytes() <= heapBytes;
    }

    /** For example "about 3.5 GiB: weights and gradients 0.9 GiB, AdamW state 0.9 GiB, activations 1.4 GiB" ({@link ByteSizes}). */
    public String describe() {
        return "about " + ByteSizes.of(totalBytes()) + ": " + parts();
    }

    private String parts() {
        return String.format(Locale.ROOT, "weights and gradients %s, AdamW state %s, activations %s",
                ByteSizes.of(weightBytes), ByteSizes.of(optimizerBytes), ByteSizes.of(activationBytes));
    }

    /**
     * The one-line refusal when the run cannot fit, or null when it fits: names the batch, what it needs, the heap,
     * then {@code remedy}, what to change in the caller's own terms (a command's options, the library's settings).
     */
    public String refusal(int batch, int context, long heapBytes, String remedy) {
        return refusal("batch " + batch + " × " + context, heapBytes, remedy);
    }

    /** As above for a run named by {@code run} (for example "batch 8 × 256"), which the line starts with. */
    public String refusal(String run, long heapBytes, String remedy) {
        if (fits(heapBytes)) return null;
        String[] sizes = ByteSizes.apart(totalBytes(), heapBytes);
        return String.format(Locale.ROOT, "%s needs %s of memory (%s) but the Java heap is %s; %s", run, sizes[0], parts(), sizes[1], remedy);
    }
}
