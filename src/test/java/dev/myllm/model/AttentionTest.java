package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The book's chapter 3, step by step, and the fast multi-head attention against the teaching path. */
class AttentionTest {
    /** "Your journey starts with one step", one 3-d embedding per word (the book's listing 3.1). */
    static Tensor inputs() {
        return Tensor.of(new float[]{
                0.43f, 0.15f, 0.89f, // Your
                0.55f, 0.87f, 0.66f, // journey
                0.57f, 0.85f, 0.64f, // starts
                0.22f, 0.58f, 0.33f, // with
                0.77f, 0.25f, 0.10f, // one
                0.05f, 0.80f, 0.55f, // step
        }, 6, 3);
    }

    @Test
    void simplifiedSelfAttentionGivesTheBooksNumbers() {
        SimplifiedSelfAttention sa = new SimplifiedSelfAttention();
        Tensor w = sa.attentionWeights(inputs());
        float[] second = w.narrow(0, 1, 1).toArray();
        assertThat(second).usingComparatorWithPrecision(5e-5f)
                .containsExactly(0.1385f, 0.2379f, 0.2333f, 0.1240f, 0.1082f, 0.1581f);
        float[] ctx = sa.forward(inputs()).narrow(0, 1, 1).toArray();
        assertThat(ctx).usingComparatorWithPrecision(5e-5f).containsExactly(0.4419f, 0.6515f, 0.5683f);
    }

    @Test
    void selfAttentionWeightsAreScaledSoftmaxOfQueryKeyProducts() {
        SelfAttention sa = new SelfAttention(3, 2, false, new Rng(123));
        Tensor w = sa.attentionWeights(inputs());
        // recompute row 1 by hand from the projections
        float[] q = sa.wQuery().forward(inputs()).toArray(), k = sa.wKey().forward(inputs()).toArray();
        double[] s = new double[6];
        double z = 0;
        for (int j = 0; j < 6; j++) {
            s[j] = Math.exp((q[2] * k[2 * j] + q[3] * k[2 * j + 1]) / Math.sqrt(2));
            z += s[j];
        }
        for (int j = 0; j < 6; j++) assertThat((double) w.get(1, j)).isCloseTo(s[j] / z, within(1e-6));
        assertThat(sa.forward(inputs()).shape()).containsExactly(6, 2);
        assertThat(sa.namedParameters().keySet()).containsExactly("W_query.weight", "W_key.weight", "W_value.weight");
    }

    @Test
    void causalAttentionMasksTheFutureAndRowsSumToOne() {
        CausalAttention ca = new CausalAttention(3, 2, 0f, false, new Rng(123), new Rng(0));
        Tensor batch = Tensor.concat(java.util.List.of(inputs().reshape(1, 6, 3), inputs().reshape(1, 6, 3)), 0);
        Tensor w = ca.attentionWeights(batch); // (2, 6, 6)
        for (int i = 0; i < 6; i++) {
            double row = 0;
            for (int j = 0; j < 6; j++) {
                if (j > i) assertThat(w.get(0, i, j)).isZero();
                row += w.get(0, i, j);
            }
            assertThat(row).isCloseTo(1, within(1e-6));
        }
        assertThat(w.get(0, 0, 0)).isEqualTo(1f); // the first token can only see itself
        assertThat(ca.forward(batch).shape()).containsExactly(2, 6, 2);
    }

    @Test
    void wrapperConcatenatesHeads() {
        MultiHeadAttentionWrapper mha = new MultiHeadAttentionWrapper(3, 2, 0f, 2, false, new Rng(123), new Rng(0));
        Tensor x = inputs().reshape(1, 6, 3);
        Tensor out = mha.forward(x);
        assertThat(out.shape()).containsExactly(1, 6, 4);
        float[] head1 = mha.head(1).forward(x).toArray();
        for (int t = 0; t < 6; t++) {
            assertThat(out.get(0, t, 2)).isEqualTo(head1[2 * t]);
            assertThat(out.get(0, t, 3)).isEqualTo(head1[2 * t + 1]);
        }
        assertThat(mha.namedParameters()).containsKey("heads.1.W_value.weight");
    }

    @Test
    void multiHeadAttentionEqualsTheWrapperGivenTheSameWeights() {
        int dIn = 6, headDim = 4, heads = 3, c = headDim * heads;
        MultiHeadAttentionWrapper wrapper = new MultiHeadAttentionWrapper(dIn, headDim, 0f, heads, true, new Rng(7), new Rng(0));
        MultiHeadAttention mha = new MultiHeadAttention(dIn, c, heads, 0f, true, new Rng(8), 0.02f, 0.02f, new Rng(0));
        // c_attn rows: [queries of all heads | keys | values], head h at rows h·D..(h+1)·D of each third
        float[] w = mha.cAttn().weight().data(), b = mha.cAttn().bias().data();
        for (int h = 0; h < heads; h++) {
            CausalAttention head = wrapper.head(h);
            Tensor[][] qkv = {{head.wQuery().weight(), head.wQuery().bias()}, {head.wKey().weight(), head.wKey().bias()},
                    {head.wValue().weight(), head.wValue().bias()}};
            for (int part = 0; part < 3; part++) {
                System.arraycopy(qkv[part][0].data(), 0, w, (part * c + h * headDim) * dIn, headDim * dIn);
                System.arraycopy(qkv[part][1].data(), 0, b, part * c + h * headDim, headDim);
            }
        }
        // identity output projection, so the outputs compare directly
        float[] p = mha.cProj().weight().data();
        java.util.Arrays.fill(p, 0f);
        for (int i = 0; i < c; i++) p[i * c + i] = 1f;
        Tensor x = Tensor.normal(new Rng(9), 0, 1, 2, 5, dIn);
        float[] expected = wrapper.forward(x).toArray();
        float[] actual = mha.forward(x).toArray();
        assertThat(actual).usingComparatorWithPrecision(1e-5f).containsExactly(expected);
        assertThat(mha.namedParameters().keySet()).containsExactly("c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias");
    }

    @Test
    void multiHeadAttentionGradientsFlowToEveryParameter() {
        MultiHeadAttention mha = new MultiHeadAttention(8, 8, 2, 0f, true, new Rng(1), 0.2f, 0.2f, new Rng(0));
        Tensor x = Tensor.normal(new Rng(2), 0, 1, 1, 4, 8).requiresGrad(true);
        mha.forward(x).mul(Tensor.normal(new Rng(3), 0, 1, 1, 4, 8)).sum().backward();
        for (var e : mha.namedParameters().entrySet()) {
            double norm = 0;
            for (float g : e.getValue().grad().data()) norm += g * g;
            assertThat(norm).as(e.getKey()).isGreaterThan(0);
        }
    }
}
