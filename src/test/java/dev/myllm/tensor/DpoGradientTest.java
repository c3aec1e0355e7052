package dev.myllm.tensor;

import dev.myllm.finetune.DpoLoss;
import dev.myllm.finetune.SequenceLogProbs;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of the DPO ops' hand-written backward passes. */
class DpoGradientTest {
    @Test
    void sequenceLogProbs() {
        int b = 2, t = 4, v = 5;
        int[] ids = {1, 4, 0, 2, 3, 3, 1, 0};
        boolean[] mask = {false, true, true, false, true, true, false, true};
        Tensor logits = Tensor.uniform(new Rng(3), -2f, 2f, b, t, v).requiresGrad(true);
        GradCheck.check("sequenceLogProbs", in -> SequenceLogProbs.of(in[0], ids, mask, b, t), logits);
    }

    @Test
    void dpoLoss() {
        Tensor pc = Tensor.uniform(new Rng(4), -3f, -1f, 3).requiresGrad(true);
        Tensor pr = Tensor.uniform(new Rng(5), -3f, -1f, 3).requiresGrad(true);
        float[] rc = {-2f, -1.5f, -2.5f}, rr = {-1.8f, -2.2f, -1.1f};
        GradCheck.check("dpoLoss", in -> DpoLoss.loss(in[0], in[1], rc, rr, 2.0).loss(), pc, pr);
    }

    @Test
    void dpoLossWithTheNllTerm() {
        Tensor pc = Tensor.uniform(new Rng(6), -3f, -1f, 3).requiresGrad(true);
        Tensor pr = Tensor.uniform(new Rng(7), -3f, -1f, 3).requiresGrad(true);
        float[] rc = {-2f, -1.5f, -2.5f}, rr = {-1.8f, -2.2f, -1.1f};
        GradCheck.check("dpoLoss + nll", in -> DpoLoss.loss(in[0], in[1], rc, rr, 2.0, 0.7).loss(), pc, pr);
    }
}
