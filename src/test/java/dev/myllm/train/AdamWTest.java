package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static Map<String, Tensor> params(Tensor w, Tensor b) {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("w", w.requiresGrad(true));
        p.put("b", b.requiresGrad(true));
        return p;
    }

    @Test
    void twoStepsMatchHandComputedPyTorchUpdate() {
        // p=1, g=0.5, lr=0.1, wd=0.1: step 1 gives 1·0.99 − 0.1·0.5/0.5 = 0.89; step 2 gives 0.89·0.99 − 0.1 = 0.7811
        Tensor w = Tensor.of(new float[]{1f, -2f}, 1, 2);
        Tensor b = Tensor.vector(1f);
        AdamW opt = new AdamW(params(w, b), new AdamW.Options(0.9, 0.999, 1e-8, 0.1, AdamW.Decay.ALL));
        for (int s = 0; s < 2; s++) {
            w.gradBuffer()[0] = 0.5f;
            w.gradBuffer()[1] = -0.25f;
            b.gradBuffer()[0] = 0.5f;
            opt.step(0.1);
        }
        assertThat(w.data()[0]).isCloseTo(0.7811f, within(1e-6f));
        // p=-2, g=-0.25: (-2·0.99 + 0.1)·0.99 + 0.1 = -1.7612
        assertThat(w.data()[1]).isCloseTo(-1.7612f, within(1e-6f));
        assertThat(b.data()[0]).isCloseTo(0.7811f, within(1e-6f));
        assertThat(opt.stepCount()).isEqualTo(2);
    }

    @Test
    void aStepLeavesTheGradientsZeroAndZeroGradStillClearsAfterABackward() {
        Tensor w = Tensor.of(new float[]{1f, -2f}, 1, 2);
        Tensor b = Tensor.vector(1f);
        AdamW opt = new AdamW(params(w, b), AdamW.Options.book());
        w.gradBuffer()[0] = 0.5f;
        b.gradBuffer()[0] = 0.5f;
        opt.step(0.1);
        assertThat(w.grad().toArray()).containsExactly(0f, 0f);
        assertThat(b.grad().toArray()).containsExactly(0f);
        // a backward pass after the step adds gradients: zeroGrad must clear them
        w.mul(w).sum().backward();
        assertThat(w.grad().toArray()).containsExactly(2f * w.data()[0], 2f * w.data()[1]);
        opt.zeroGrad();
        assertThat(w.grad().toArray()).containsExactly(0f, 0f);
    }

    @Test
    void matricesRuleExemptsVectorsFromDecay() {
        Tensor w = Tensor.of(new float[]{1f}, 1, 1);
        Tensor b = Tensor.vector(1f);
        AdamW opt = new AdamW(params(w, b), new AdamW.Options(0.9, 0.999, 1e-8, 0.5, AdamW.Decay.MATRICES));
        assertThat(opt.decays("w")).isTrue();
        assertThat(opt.decays("b")).isFalse();
        w.gradBuffer()[0] = 0f;
        b.gradBuffer()[0] = 0f;
        opt.step(0.1);
        // zero gradient: only decay moves w (1 − 0.1·0.5), b stays put
        assertThat(w.data()[0]).isEqualTo(0.95f);
        assertThat(b.data()[0]).isEqualTo(1f);
    }

    @Test
    void frozenParametersAreSkipped() {
        Tensor w = Tensor.of(new float[]{1f}, 1, 1);
        Tensor b = Tensor.vector(1f);
        AdamW opt = new AdamW(params(w, b), AdamW.Options.book());
        b.requiresGrad(false);
        w.gradBuffer()[0] = 1f;
        opt.step(0.01);
        assertThat(b.data()[0]).isEqualTo(1f);
        assertThat(w.data()[0]).isLessThan(1f);
    }

    @Test
    void stateRoundTripContinuesBitwise() {
        Tensor w1 = Tensor.of(new float[]{0.3f, -0.7f, 1.1f, 2f}, 2, 2), b1 = Tensor.vector(0.1f, 0.2f);
        Tensor w2 = w1.copy(), b2 = b1.copy();
        AdamW a = new AdamW(params(w1, b1), AdamW.Options.book());
        AdamW c = new AdamW(params(w2, b2), AdamW.Options.book());
        float[] g = {0.5f, -1f, 0.25f, 3f};
        for (int s = 0; s < 3; s++) {
            System.arraycopy(g, 0, w1.gradBuffer(), 0, 4);
            b1.gradBuffer()[0] = 0.1f * s;
            b1.gradBuffer()[1] = -0.2f;
            a.step(1e-2);
        }
        // w2 continues from w1's values and a's saved state
        System.arraycopy(w1.data(), 0, w2.data(), 0, 4);
        System.arraycopy(b1.data(), 0, b2.data(), 0, 2);
        c.loadState(a.stateTensors(), a.stateMetadata());
        assertThat(c.stateTensors().keySet()).containsExactly("w.exp_avg", "w.exp_avg_sq", "b.exp_avg", "b.exp_avg_sq");
        assertThat(c.stateMetadata()).containsEntry("step", "3");
        for (AdamW o : new AdamW[]{a, c}) {
            Tensor w = o == a ? w1 : w2, b = o == a ? b1 : b2;
            System.arraycopy(g, 0, w.gradBuffer(), 0, 4);
            b.gradBuffer()[0] = 0.3f;
            b.gradBuffer()[1] = -0.2f;
            o.step(1e-2);
        }
        assertThat(w2.data()).containsExactly(w1.data());
        assertThat(b2.data()).containsExactly(b1.data());
    }
}
