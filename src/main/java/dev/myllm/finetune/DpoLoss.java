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
 *
 * <p>With an NLL weight {@code α > 0} the loss also adds {@code −α πc}, the chosen response's mean
 * per-token negative log-likelihood (RPO: Pang et al. 2024, "Iterative Reasoning Preference
 * Optimization", and TRL's {@code rpo_alpha}): DPO alone only widens the gap between the two
 * answers and may lower both, the extra term keeps the chosen answer likely. {@code α = 0} is the
 * book's DPO.
 */
public final class DpoLoss {
    /**
     * One batch's loss (a graph node when gradients are on), its detached statistics, and the
     * per-pair log-probabilities (policy and reference, chosen and rejected; copies).
     */
    public record Result(Tensor loss, double chosenReward, double rejectedReward, double accuracy,
                         float[] policyChosen, float[] policyRejected, float[] refChosen, float[] refRejected) {
        public double margin() {
            return chosenReward - rejectedReward;
        }
    }

    private DpoLoss() {
    }

    /**
     * The book's loss on one batch. The reference's log-probabilities are computed once, without
     * gradients, before the policy's forward passes.
     */
    public static Result batch(LanguageModel policy, LanguageModel reference, PreferenceBatch b, double beta) {
        return batch(policy, reference(reference, b), b, beta, 0);
    }

    /** The reference's log-probabilities of the batch without gradients: {chosen, rejected}. */
    public static float[][] reference(LanguageModel reference, PreferenceBatch b) {
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            return new float[][]{logProbs(reference, b.chosen(), b.chosenMask(), b).toArray(),
                    logProbs(reference, b.rejected(), b.rejectedMask(), b).toArray()};
        }
    }

    /** The loss on one batch given the reference's log-probabilities {@code ref = {chosen, rejected}}, plus {@code nllWeight} × the chosen NLL. */
    public static Result batch(LanguageModel policy, float[][] ref, PreferenceBatch b, double beta, double nllWeight) {
        Tensor pc = logProbs(policy, b.chosen(), b.chosenMask(), b);
        Tensor pr = logProbs(policy, b.rejected(), b.rejectedMask(), b);
        return loss(pc, pr, ref[0], ref[1], beta, nllWeight);
    }

    private static Tensor logProbs(LanguageModel m, int[] ids, boolean[] mask, PreferenceBatch b) {
        return SequenceLogProbs.of(m.logits(ids, b.rows(), b.cols()), ids, mask, b.rows(), b.cols());
    }

    /** The book's loss from per-row log-probabilities: policy chosen/rejected (graph nodes) and reference chosen/rejected. */
    public static Result loss(Tensor policyChosen, Tensor policyRejected, float[] refChosen, float[] refRejected, double beta) {
        return loss(policyChosen, policyRejected, refChosen, refRejected, beta, 0);
    }

    /** The loss plus {@code nllWeight} × the batch mean of {@code −πc} (0 = the book's DPO). */
    public static Result loss(Tensor policyChosen, Tensor policyRejected, float[] refChosen, float[] refRejected, double beta,
                              double nllWeight) {
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
            total -= nllWeight * pc[i];
            dz[i] = -beta / (1 + Math.exp(-x)) / n;                          // d/dz of the mean: −β σ(−βz) / n
            chosenReward += cr;
            rejectedReward += rr;
            if (z > 0) wins++;
        }
        double dNll = -nllWeight / n;
        float[] out = Arena.uninitialized(1);
        out[0] = (float) (total / n);
        Tensor loss = Tensor.result(out, new int[0], g -> {
            if (policyChosen.requiresGrad()) {
                float[] d = policyChosen.gradBuffer();
                for (int i = 0; i < n; i++) d[i] += (float) (g[0] * (dz[i] + dNll));
            }
            if (policyRejected.requiresGrad()) {
                float[] d = policyRejected.gradBuffer();
                for (int i = 0; i < n; i++) d[i] -= (float) (g[0] * dz[i]);
            }
        }, policyChosen, policyRejected);
        return new Result(loss, chosenReward / n, rejectedReward / n, (double) wins / n,
                java.util.Arrays.copyOf(pc, n), java.util.Arrays.copyOf(pr, n), refChosen.clone(), refRejected.clone());
    }
}
