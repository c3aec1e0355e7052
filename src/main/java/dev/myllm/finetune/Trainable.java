package dev.myllm.finetune;

import dev.myllm.model.GPTModel;
import java.util.Locale;

/**
 * What fine-tuning trains (the book's {@code --trainable_layers}); everything else is frozen and
 * costs nothing: no gradient buffer, no optimizer state, no weight-gradient product, and backward
 * stops below the lowest trainable layer.
 */
public enum Trainable {
    /** The new head only (the book's {@code last_layer}). */
    HEAD,
    /** The last block, the final LayerNorm and the head (the book's default: 7,090,946 on gpt2-small, 2 classes). */
    LAST_BLOCK,
    /** The last two blocks, the final LayerNorm and the head. */
    LAST_TWO_BLOCKS,
    /** Everything. */
    ALL,
    /** Only LoRA adapters on every linear map, the head's included (appendix E). */
    LORA;

    /** {@code head}, {@code last-block}, {@code last-two-blocks}, {@code all} or {@code lora}. */
    public static Trainable parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown choice '" + s + "'; choose head, last-block, last-two-blocks, all or lora");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Freezes and unfreezes the classifier's parameters for this choice (LoRA adapters must be added first for {@link #LORA}). */
    public void apply(GPTClassifier c) {
        if (this == LORA && c.lora() == null) throw new IllegalStateException("add LoRA adapters before freezing for LoRA");
        c.setTrainable(this == ALL);
        int n = c.config().nLayers();
        switch (this) {
            case HEAD -> c.score().setTrainable(true);
            case LAST_BLOCK, LAST_TWO_BLOCKS -> {
                for (int i = Math.max(0, n - (this == LAST_BLOCK ? 1 : 2)); i < n; i++) c.transformer().block(i).setTrainable(true);
                c.transformer().finalNorm().setTrainable(true);
                c.score().setTrainable(true);
            }
            case LORA -> c.lora().setTrainable(true);
            case ALL -> { }
        }
    }

    /**
     * Freezes a language model being instruction- or preference-tuned (chapter 7, DPO) but this choice's part: the
     * last one or two blocks with the final LayerNorm (the tied embedding stays frozen), or everything; for {@link #LORA}
     * the model stays as {@link LoRAModel} froze it and its adapters train. A language model has no new head, so
     * {@link #HEAD} is refused. Call before the optimizer is made, so that frozen tensors get no state.
     *
     * @param m the GPT
     */
    public void apply(GPTModel m) {
        int n = m.config().nLayers();
        int keep = switch (this) {
            case ALL, LORA -> n; // LoRA froze the model itself
            case LAST_BLOCK -> 1;
            case LAST_TWO_BLOCKS -> 2;
            case HEAD -> throw new IllegalArgumentException("a language model has no new head to train alone; choose all, last-block, last-two-blocks or lora");
        };
        if (this == ALL || this == LORA) return;
        // the last blocks and the final norm train, the embeddings (and a tied head) stay frozen, even when the model has
        // no more blocks than that
        m.setTrainable(false);
        for (int i = Math.max(0, n - keep); i < n; i++) m.block(i).setTrainable(true);
        m.finalNorm().setTrainable(true);
    }

    /** Number of scalar parameters that train. */
    public static long trainableCount(GPTClassifier c) {
        long n = 0;
        for (var t : c.parameters()) if (t.requiresGrad()) n += t.size();
        return n;
    }
}
