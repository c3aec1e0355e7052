package dev.myllm.model;

import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The book's initialisation (PyTorch's defaults): embeddings N(0, 1), every Linear weight
 * Kaiming-uniform and bias U(±1/√fan_in), LayerNorm scale 1 and shift 0, drawn in the order the
 * book's {@code GPTModel.__init__} creates its modules. The book's separate query, key and value
 * matrices are drawn one after the other into the rows of our fused {@code c_attn}.
 */
public final class BookInit {
    private BookInit() {
    }

    /**
     * One tensor of the book's model: its name there, its shape, how it is drawn ({@code bound} is
     * NaN for N(0, 1), else U(−bound, bound)), and where it lands in ours (parameter and offset).
     */
    public record Draw(String bookName, int[] shape, double bound, String target, int offset) {
        public int size() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        public boolean normal() {
            return Double.isNaN(bound);
        }

        /** Draws this tensor from {@code g} into {@code dst[off..]}. */
        public void fill(TorchGenerator g, float[] dst, int off) {
            if (normal()) g.normal(dst, off, size(), 0.0, 1.0);
            else g.uniform(dst, off, size(), -bound, bound);
        }
    }

    /** The book's draws for a configuration, in order (no output head when it is tied to the embedding). */
    public static List<Draw> draws(GPTConfig c) {
        int v = c.vocabSize(), e = c.embDim(), hid = c.hiddenDim();
        double kE = TorchGenerator.linearWeightBound(e), bE = TorchGenerator.linearBiasBound(e);
        double kH = TorchGenerator.linearWeightBound(hid), bH = TorchGenerator.linearBiasBound(hid);
        List<Draw> out = new ArrayList<>();
        out.add(new Draw("tok_emb.weight", new int[]{v, e}, Double.NaN, "wte.weight", 0));
        out.add(new Draw("pos_emb.weight", new int[]{c.contextLength(), e}, Double.NaN, "wpe.weight", 0));
        for (int b = 0; b < c.nLayers(); b++) {
            String book = "trf_blocks." + b + ".", ours = "h." + b + ".";
            String[] qkv = {"W_query", "W_key", "W_value"};
            for (int part = 0; part < 3; part++) {
                out.add(new Draw(book + "att." + qkv[part] + ".weight", new int[]{e, e}, kE, ours + "attn.c_attn.weight", part * e * e));
                if (c.qkvBias()) out.add(new Draw(book + "att." + qkv[part] + ".bias", new int[]{e}, bE, ours + "attn.c_attn.bias", part * e));
            }
            out.add(new Draw(book + "att.out_proj.weight", new int[]{e, e}, kE, ours + "attn.c_proj.weight", 0));
            out.add(new Draw(book + "att.out_proj.bias", new int[]{e}, bE, ours + "attn.c_proj.bias", 0));
            out.add(new Draw(book + "ff.layers.0.weight", new int[]{hid, e}, kE, ours + "mlp.c_fc.weight", 0));
            out.add(new Draw(book + "ff.layers.0.bias", new int[]{hid}, bE, ours + "mlp.c_fc.bias", 0));
            out.add(new Draw(book + "ff.layers.2.weight", new int[]{e, hid}, kH, ours + "mlp.c_proj.weight", 0));
            out.add(new Draw(book + "ff.layers.2.bias", new int[]{e}, bH, ours + "mlp.c_proj.bias", 0));
        }
        if (!c.tiedHead()) out.add(new Draw("out_head.weight", new int[]{v, e}, kE, "lm_head.weight", 0));
        return out;
    }

    /** Fills the model's weights from {@code g} as the book's constructor would (norms stay 1 and 0). */
    public static void apply(GPTModel model, TorchGenerator g) {
        Map<String, Tensor> params = model.namedParameters();
        for (Draw d : draws(model.config())) {
            Tensor t = params.get(d.target());
            if (t == null) throw new IllegalStateException("no parameter " + d.target() + " for " + d.bookName());
            d.fill(g, t.data(), d.offset());
        }
    }
}
