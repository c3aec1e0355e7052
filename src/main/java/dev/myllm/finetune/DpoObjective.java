package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.Objective;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DPO as a training objective: the loss of {@link DpoLoss} on batches made by
 * {@link PreferenceBatches}, and as metrics over the pairs of the evaluation batches the mean
 * chosen and rejected rewards, the reward margin, the accuracy (share of pairs with a positive
 * margin) and the policy's mean chosen and rejected log-probabilities.
 *
 * <p>Evaluation computes each pass once: the frozen reference's log-probabilities of an
 * evaluation batch (one seen without gradients) are kept for the whole run, and the policy's of
 * the last evaluation are kept until the next training step, so the trainer's evaluation loss and
 * the metrics after it share one policy pass.
 */
public final class DpoObjective implements Objective {
    /** One pair's mean per-token log-probabilities: policy and reference, chosen and rejected. */
    public record Pair(double policyChosen, double policyRejected, double refChosen, double refRejected) {
        public double chosenReward() {
            return policyChosen - refChosen;
        }

        public double rejectedReward() {
            return policyRejected - refRejected;
        }

        /** Whether the policy moved the chosen answer up relative to the rejected one (the reward accuracy's count). */
        public boolean won() {
            return chosenReward() - rejectedReward() > 0;
        }
    }

    private final LanguageModel policy;
    private final LanguageModel reference;
    private final double beta;
    private final double nllWeight;
    private final Map<Batch, float[][]> referenceCache = new IdentityHashMap<>();
    private final Map<Batch, DpoLoss.Result> lastEvaluation = new IdentityHashMap<>();

    /** The book's DPO; {@code reference} is evaluated without gradients and must not share trainable weights with the policy's graph. */
    public DpoObjective(LanguageModel policy, LanguageModel reference, double beta) {
        this(policy, reference, beta, 0);
    }

    /** DPO plus {@code nllWeight} × the chosen response's mean NLL (RPO; 0 = the book's DPO). */
    public DpoObjective(LanguageModel policy, LanguageModel reference, double beta, double nllWeight) {
        this.policy = policy;
        this.reference = reference;
        this.beta = beta;
        this.nllWeight = nllWeight;
    }

    @Override
    public Tensor loss(Batch batch) {
        if (GradMode.isEnabled()) {
            lastEvaluation.clear(); // a training step follows: the policy changes
            PreferenceBatch b = PreferenceBatches.decode(batch);
            return DpoLoss.batch(policy, DpoLoss.reference(reference, b), b, beta, nllWeight).loss();
        }
        return evaluate(batch).loss();
    }

    /** The batch's result without gradients, from the last evaluation when the policy has not changed since. */
    private DpoLoss.Result evaluate(Batch batch) {
        DpoLoss.Result kept = lastEvaluation.get(batch);
        if (kept != null) return kept;
        PreferenceBatch b = PreferenceBatches.decode(batch);
        float[][] ref = referenceCache.computeIfAbsent(batch, k -> DpoLoss.reference(reference, b));
        DpoLoss.Result r;
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            r = DpoLoss.batch(policy, ref, b, beta, nllWeight);
            // a detached copy of the loss: its buffer belongs to the arena
            kept = new DpoLoss.Result(Tensor.scalar(r.loss().item()), r.chosenReward(), r.rejectedReward(), r.accuracy(),
                    r.policyChosen(), r.policyRejected(), r.refChosen(), r.refRejected());
        }
        lastEvaluation.put(batch, kept);
        return kept;
    }

    /** Forgets the policy's kept evaluation results: call after changing its weights other than by a training step. */
    public void policyChanged() {
        lastEvaluation.clear();
    }

    /** The per-pair log-probabilities over the first {@code numBatches} batches (all when {@code numBatches <= 0}), in order, without gradients. */
    public List<Pair> pairs(List<Batch> batches, int numBatches) {
        List<Pair> out = new ArrayList<>();
        int n = 0;
        try (GradMode g = GradMode.noGrad()) {
            for (Batch b : batches) {
                if (numBatches > 0 && n >= numBatches) break;
                try (Arena a = Arena.open()) {
                    DpoLoss.Result r = evaluate(b);
                    for (int i = 0; i < r.refChosen().length; i++) {
                        out.add(new Pair(r.policyChosen()[i], r.policyRejected()[i], r.refChosen()[i], r.refRejected()[i]));
                    }
                }
                n++;
            }
        }
        return out;
    }

    @Override
    public Map<String, Double> metrics(List<Batch> batches, int numBatches) {
        return summary(pairs(batches, numBatches));
    }

    /**
     * Means over pairs: {@code chosen_reward}, {@code rejected_reward}, {@code reward_margin},
     * {@code reward_accuracy}, the policy's {@code chosen_logp} and {@code rejected_logp} (mean
     * per-token log-probabilities) and {@code pairs}; empty for no pairs.
     */
    public static Map<String, Double> summary(List<Pair> pairs) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (pairs.isEmpty()) return m;
        double c = 0, r = 0, pc = 0, pr = 0;
        int wins = 0;
        for (Pair p : pairs) {
            c += p.chosenReward();
            r += p.rejectedReward();
            pc += p.policyChosen();
            pr += p.policyRejected();
            if (p.won()) wins++;
        }
        int n = pairs.size();
        m.put("chosen_reward", c / n);
        m.put("rejected_reward", r / n);
        m.put("reward_margin", (c - r) / n);
        m.put("reward_accuracy", (double) wins / n);
        m.put("chosen_logp", pc / n);
        m.put("rejected_logp", pr / n);
        m.put("pairs", (double) n);
        return m;
    }
}
