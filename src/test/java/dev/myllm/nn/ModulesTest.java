package dev.myllm.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ModulesTest {
    @Test
    void linearComputesXTimesWeightTransposedPlusBias() {
        Linear lin = new Linear(3, 2, true, new Rng(1));
        System.arraycopy(new float[]{1, 2, 3, 4, 5, 6}, 0, lin.weight().data(), 0, 6); // (out=2, in=3)
        System.arraycopy(new float[]{0.5f, -1}, 0, lin.bias().data(), 0, 2);
        Tensor y = lin.forward(Tensor.of(new float[]{1, 0, -1, 2, 1, 0}, 2, 3));
        assertThat(y.shape()).containsExactly(2, 2);
        assertThat(y.toArray()).containsExactly(1 - 3 + 0.5f, 4 - 6 - 1, 2 + 2 + 0.5f, 8 + 5 - 1);
        assertThat(lin.namedParameters().keySet()).containsExactly("weight", "bias");
    }

    @Test
    void linearInitializations() {
        Linear torch = new Linear(100, 50, true, new Rng(3));
        float bound = 0.1f;
        for (float w : torch.weight().data()) assertThat(Math.abs(w)).isLessThanOrEqualTo(bound);
        Linear gpt = new Linear(200, 100, true, new Rng(3), 0.02f);
        double sq = 0;
        for (float w : gpt.weight().data()) sq += w * w;
        assertThat(Math.sqrt(sq / gpt.weight().size())).isCloseTo(0.02, within(0.001));
        assertThat(gpt.bias().data()).containsOnly(0f);
        assertThat(new Linear(4, 4, false, new Rng(0)).bias()).isNull();
    }

    @Test
    void layerNormGivesZeroMeanUnitBiasedVariance() {
        LayerNorm ln = new LayerNorm(4);
        Tensor y = ln.forward(Tensor.of(new float[]{1, 2, 3, 4, -2, 0, 0, 2}, 2, 4));
        float[] d = y.data();
        // row 1: mean 2.5, biased variance 1.25
        assertThat(d[0]).isCloseTo((float) (-1.5 / Math.sqrt(1.25 + 1e-5)), within(1e-5f));
        double mean = 0, var = 0;
        for (int i = 4; i < 8; i++) mean += d[i] / 4.0;
        for (int i = 4; i < 8; i++) var += (d[i] - mean) * (d[i] - mean) / 4.0;
        assertThat(mean).isCloseTo(0, within(1e-6));
        assertThat(var).isCloseTo(1, within(1e-4));
        assertThat(ln.namedParameters().keySet()).containsExactly("weight", "bias");
    }

    @Test
    void geluMatchesTheTanhApproximation() {
        Tensor y = new GELU().forward(Tensor.vector(-3, -1, 0, 0.5f, 2));
        // torch.nn.functional.gelu(x, approximate='tanh')
        assertThat(y.toArray()).usingComparatorWithPrecision(1e-5f)
                .containsExactly(-0.0036373f, -0.1588080f, 0f, 0.3457140f, 1.9545977f);
    }

    @Test
    void dropoutIsIdentityInEvalModeAndDrawsSeedsInTraining() {
        Rng rng = new Rng(5);
        Dropout d = new Dropout(0.5f, rng);
        Tensor x = Tensor.vector(1, 2, 3);
        d.eval();
        String before = rng.state();
        assertThat(d.forward(x)).isSameAs(x);
        assertThat(rng.state()).isEqualTo(before);
        d.train(true);
        d.forward(x);
        assertThat(rng.state()).isNotEqualTo(before); // a training call consumed a seed
        assertThat(new Dropout(0f, rng).forward(x)).isSameAs(x);
    }

    @Test
    void dropoutMasksReplayFromTheGeneratorsState() {
        Rng rng = new Rng(9);
        Dropout d = new Dropout(0.5f, rng);
        Tensor x = Tensor.ones(1000);
        String saved = rng.state();
        float[] first = d.forward(x).toArray();
        int zeros = 0;
        for (float v : first) {
            if (v == 0f) zeros++;
            else assertThat(v).isEqualTo(2f); // survivors are scaled by 1/(1-p)
        }
        assertThat(zeros).isBetween(400, 600);
        assertThat(d.forward(x).toArray()).isNotEqualTo(first); // the next call draws a new mask
        rng.setState(saved);
        assertThat(d.forward(x).toArray()).containsExactly(first); // a restored state replays it
    }

    @Test
    void feedForwardUsesHuggingFaceNamesAndExpandsFourTimes() {
        FeedForward ff = new FeedForward(8, 32, new Rng(1), 0.02f, 0.01f);
        assertThat(ff.namedParameters().keySet()).containsExactly("c_fc.weight", "c_fc.bias", "c_proj.weight", "c_proj.bias");
        assertThat(ff.fc().weight().shape()).containsExactly(32, 8);
        Tensor y = ff.forward(Tensor.normal(new Rng(2), 0, 1, 2, 3, 8));
        assertThat(y.shape()).containsExactly(2, 3, 8);
        assertThat(ff.parameterCount()).isEqualTo(8 * 32 + 32 + 32 * 8 + 8);
    }
}
