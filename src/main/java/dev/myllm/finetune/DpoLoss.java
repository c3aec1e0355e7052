package dev.myllm.finetune;

import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.LanguageModel;

/**
 * The DPO notebook's {@code compute_dpo_loss} and {@code compute_dpo_loss_batch}: with policy and
 * reference mean log-probabilities of the chosen and rejected responses,
 * {@code z = (πc − πr) − (ρc − ρr)}, loss = batch mean of {@code −log σ(β z)}; rewards are the
 * batch means of {@code πc − ρc} and {@code πr − ρr} (no β factor, as in the notebook).
 */
public final class DpoLoss {
    /** One batch's loss (a graph node when gradients are on) and its detached statistics. */
    public record Result(Tensor loss, double chosenReward, double rejectedReward, double accuracy) {
        public double margin() {
            return chosenReward - rejectedReward;
        }
    }

    private DpoLoss() {
    }

    /**
     * The loss on one batch. The reference's log-probabilities are computed once, without
     * gradients, before the policy's forward passes.
     */
    public static Result batch(LanguageModel policy, LanguageModel reference, PreferenceBatch b, double beta) {
        float[] refChosen, refRejected;
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            refChosen = logProbs(reference, b.chosen(), b.chosenMask(), b).toArray();
            refRejected = logProbs(reference, b.rejected(), b.rejectedMask(), b).toArray();
        }
        Tensor pc = logProbs(policy, b.chosen(), b.chosenMask(), b);
        Tensor pr = logProbs(policy, b.rejected(), b.rejectedMask(), b);
        return loss(pc, pr, refChosen, refRejected, beta);
    }

    private static Tensor logProbs(LanguageModel m, int[] ids, boolean[] mask, PreferenceBatch b) {
        return SequenceLogProbs.of(m.logits(ids, b.rows(), b.cols()), ids, mask, b.rows(), b.cols());
    }

    /** The loss from per-row log-probabilities: policy chosen/rejected (graph nodes) and reference chosen/rejected. */
    public static Result loss(Tensor policyChosen, Tensor policyRejected, float[] refChosen, float[] refRejected, double beta) {
        int n = refChosen.length;
        float[] pc = policyChosen.data(), pr = policyRejected.data();
        double total = 0, chosenReward = 0, rejectedReward = 0;
        int wins = 0;
        double[] dz = new double[n];
        for (int i = 0; i < n; i++) {
            double cr = pc[i] - refChosen[i], rr = pr[i] - refRejected[i];
            double z = cr - rr;
            double x = -beta * z;
            total += Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // −log σ(βz) = softplus(−βz), stably
            dz[i] = -beta / (1 + Math.exp(-x)) / n;                          // d/dz of the mean: −β σ(−βz) / n
            chosenReward += cr;
            rejectedReward += rr;
            if (z > 0) wins++;
        }
        float[] out = Arena.uninitialized(1);
        out[0] = (float) (total / n);
        Tensor loss = Tensor.result(out, new int[0], g -> {
            if (policyChosen.requiresGrad()) {
                float[] d = policyChosen.gradBuffer();
                for (int i = 0; i < n; i++) d[i] += (float) (g[0] * dz[i]);
            }
            if (policyRejected.requiresGrad()) {
                float[] d = policyRejected.gradBuffer();
                for (int i = 0; i < n; i++) d[i] -= (float) (g[0] * dz[i]);
            }
        }, policyChosen, policyRejected);
        return new Result(loss, chosenReward / n, rejectedReward / n, (double) wins / n);
    }
}
