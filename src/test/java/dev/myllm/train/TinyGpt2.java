package dev.myllm.train;

import dev.myllm.nn.Module;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.Map;

/**
 * A test-only GPT-2 (biases, tied head, optional dropout) built directly from the engine's ops,
 * with Hugging Face names; weights of {@code c_attn}, {@code c_proj}, {@code c_fc} are kept in
 * Linear {@code [out, in]} layout. It stands in for {@code GPTModel} until that lands.
 */
final class TinyGpt2 extends Module implements LanguageModel {
    final int vocab, positions, dim, layers, heads;
    final float dropout;
    final Rng dropoutRng;

    TinyGpt2(int vocab, int positions, int dim, int layers, int heads, float dropout, long seed) {
        this.vocab = vocab;
        this.positions = positions;
        this.dim = dim;
        this.layers = layers;
        this.heads = heads;
        this.dropout = dropout;
        this.dropoutRng = new Rng(seed + 1);
        Rng rng = new Rng(seed);
        parameter("wte.weight", Tensor.normal(rng, 0, 0.1f, vocab, dim));
        parameter("wpe.weight", Tensor.normal(rng, 0, 0.1f, positions, dim));
        for (int i = 0; i < layers; i++) {
            String p = "h." + i + ".";
            parameter(p + "ln_1.weight", Tensor.ones(dim));
            parameter(p + "ln_1.bias", Tensor.zeros(dim));
            parameter(p + "attn.c_attn.weight", Tensor.normal(rng, 0, 0.1f, 3 * dim, dim));
            parameter(p + "attn.c_attn.bias", Tensor.zeros(3 * dim));
            parameter(p + "attn.c_proj.weight", Tensor.normal(rng, 0, 0.1f, dim, dim));
            parameter(p + "attn.c_proj.bias", Tensor.zeros(dim));
            parameter(p + "ln_2.weight", Tensor.ones(dim));
            parameter(p + "ln_2.bias", Tensor.zeros(dim));
            parameter(p + "mlp.c_fc.weight", Tensor.normal(rng, 0, 0.1f, 4 * dim, dim));
            parameter(p + "mlp.c_fc.bias", Tensor.zeros(4 * dim));
            parameter(p + "mlp.c_proj.weight", Tensor.normal(rng, 0, 0.1f, dim, 4 * dim));
            parameter(p + "mlp.c_proj.bias", Tensor.zeros(dim));
        }
        parameter("ln_f.weight", Tensor.ones(dim));
        parameter("ln_f.bias", Tensor.zeros(dim));
    }

    /** Copies HF-layout weights in (Conv1D {@code [in, out]} matrices transposed to {@code [out, in]}). */
    void loadHf(Map<String, Tensor> hf) {
        for (var e : namedParameters().entrySet()) {
            Tensor src = hf.get(e.getKey());
            if (src == null) throw new IllegalArgumentException("missing " + e.getKey());
            float[] dst = e.getValue().data();
            boolean conv1d = e.getKey().contains(".attn.c_") || e.getKey().contains(".mlp.c_");
            if (conv1d && src.rank() == 2) {
                int in = src.dim(0), out = src.dim(1);
                for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) dst[o * in + i] = src.data()[i * out + o];
            } else {
                System.arraycopy(src.data(), 0, dst, 0, dst.length);
            }
        }
    }

    private Tensor p(String name) {
        return namedParameters().get(name);
    }

    private Tensor drop(Tensor x) {
        return isTraining() && dropout > 0 ? Ops.dropout(x, dropout, dropoutRng.nextInt() & 0xFFFFFFFFL) : x;
    }

    @Override
    public Tensor logits(int[] ids, int b, int t) {
        int[] pos = new int[b * t];
        for (int i = 0; i < pos.length; i++) pos[i] = i % t;
        Tensor x = drop(Ops.embedding(p("wte.weight"), ids, b, t).add(Ops.embedding(p("wpe.weight"), pos, b, t)));
        int d = dim / heads;
        for (int i = 0; i < layers; i++) {
            String n = "h." + i + ".";
            Tensor a = Ops.layerNorm(x, p(n + "ln_1.weight"), p(n + "ln_1.bias"), 1e-5f);
            Tensor qkv = Ops.linear(a, p(n + "attn.c_attn.weight"), p(n + "attn.c_attn.bias"));
            var parts = qkv.split(dim, 2);
            Tensor q = parts.get(0).reshape(b, t, heads, d).transpose(1, 2);
            Tensor k = parts.get(1).reshape(b, t, heads, d).transpose(1, 2);
            Tensor v = parts.get(2).reshape(b, t, heads, d).transpose(1, 2);
            long seed = isTraining() && dropout > 0 ? dropoutRng.nextInt() & 0xFFFFFFFFL : 0;
            Tensor y = Ops.causalAttention(q, k, v, isTraining() ? dropout : 0f, seed).transpose(1, 2).reshape(b, t, dim);
            x = x.add(drop(Ops.linear(y, p(n + "attn.c_proj.weight"), p(n + "attn.c_proj.bias"))));
            Tensor a2 = Ops.layerNorm(x, p(n + "ln_2.weight"), p(n + "ln_2.bias"), 1e-5f);
            Tensor h = Ops.gelu(Ops.linear(a2, p(n + "mlp.c_fc.weight"), p(n + "mlp.c_fc.bias")));
            x = x.add(drop(Ops.linear(h, p(n + "mlp.c_proj.weight"), p(n + "mlp.c_proj.bias"))));
        }
        Tensor xf = Ops.layerNorm(x, p("ln_f.weight"), p("ln_f.bias"), 1e-5f);
        return Ops.linear(xf, p("wte.weight"), null);
    }
}
