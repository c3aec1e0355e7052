package dev.myllm.model;

import dev.myllm.nn.Dropout;
import dev.myllm.nn.DropoutSource;
import dev.myllm.nn.FeedForward;
import dev.myllm.nn.LayerNorm;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * One GPT-2 transformer block (the book's section 4.5): pre-LayerNorm attention and feed-forward
 * sublayers, each followed by dropout and added back to its input through a shortcut connection.
 */
public final class TransformerBlock extends Module {
    private final LayerNorm ln1;
    private final MultiHeadAttention attn;
    private final LayerNorm ln2;
    private final FeedForward mlp;
    private final Dropout dropShortcut;

    public TransformerBlock(GPTConfig cfg, Rng rng, float std, float projStd, Rng dropoutRng) {
        this(cfg, rng, std, projStd, new DropoutSource(dropoutRng));
    }

    /** As above, with the model's shared source of dropout masks. */
    public TransformerBlock(GPTConfig cfg, Rng rng, float std, float projStd, DropoutSource dropoutRng) {
        this.ln1 = child("ln_1", new LayerNorm(cfg.embDim(), cfg.layerNormEps()));
        this.attn = child("attn", new MultiHeadAttention(cfg.embDim(), cfg.embDim(), cfg.nHeads(), cfg.dropRate(),
                cfg.qkvBias(), rng, std, projStd, dropoutRng));
        this.ln2 = child("ln_2", new LayerNorm(cfg.embDim(), cfg.layerNormEps()));
        this.mlp = child("mlp", new FeedForward(cfg.embDim(), cfg.hiddenDim(), rng, std, projStd));
        this.dropShortcut = new Dropout(cfg.dropRate(), dropoutRng);
        child("drop_shortcut", dropShortcut); // no parameters; registered so train()/eval() reach it
    }

    /** {@code (B, T, C)} → {@code (B, T, C)}; with a cache, x holds only the new tokens. */
    public Tensor forward(Tensor x, KVCache cache, int layer) {
        Tensor h = ln1.forward(x);
        h = cache == null ? attn.forward(h) : attn.forward(h, cache, layer);
        x = x.add(dropShortcut.forward(h));                 // shortcut around attention
        h = mlp.forward(ln2.forward(x));
        return x.add(dropShortcut.forward(h));              // shortcut around the feed-forward
    }

    /** One decode step of several sequences with their own caches: x {@code (B, 1, C)}, one row per cache. */
    public Tensor forward(Tensor x, KVCache[] caches, int layer) {
        return forward(x, caches, null, layer);
    }

    /** New tokens of several sequences side by side ({@code lengths[s]} rows each; null: one each), each with its own cache. */
    public Tensor forward(Tensor x, KVCache[] caches, int[] lengths, int layer) {
        Tensor h = lengths == null ? attn.forward(ln1.forward(x), caches, layer) : attn.forward(ln1.forward(x), caches, lengths, layer);
        x = x.add(dropShortcut.forward(h));
        h = mlp.forward(ln2.forward(x));
        return x.add(dropShortcut.forward(h));
    }

    public Tensor forward(Tensor x) {
        return forward(x, (KVCache) null, 0);
    }

    public LayerNorm ln1() {
        return ln1;
    }

    public MultiHeadAttention attn() {
        return attn;
    }

    public LayerNorm ln2() {
        return ln2;
    }

    public FeedForward mlp() {
        return mlp;
    }
}
