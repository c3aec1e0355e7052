package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.Objective;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DPO as a training objective: the loss of {@link DpoLoss} on batches made by
 * {@link PreferenceBatches}, and as metrics the mean chosen and rejected rewards, the reward
 * margin and the accuracy (share of pairs with a positive margin) over evaluation batches.
 */
public final class DpoObjective implements Objective {
    private final LanguageModel policy;
    private final LanguageModel reference;
    private final double beta;

    /** {@code reference} is evaluated without gradients; it must not share trainable weights with the policy's graph. */
    public DpoObjective(LanguageModel policy, LanguageModel reference, double beta) {
        this.policy = policy;
        this.reference = reference;
        this.beta = beta;
    }

    @Override
    public Tensor loss(Batch batch) {
        return DpoLoss.batch(policy, reference, PreferenceBatches.decode(batch), beta).loss();
    }

    @Override
    public Map<String, Double> metrics(List<Batch> batches, int numBatches) {
        double c = 0, r = 0, acc = 0;
        int n = 0;
        for (Batch b : batches) {
            if (numBatches > 0 && n >= numBatches) break;
            try (Arena a = Arena.open()) {
                DpoLoss.Result res = DpoLoss.batch(policy, reference, PreferenceBatches.decode(b), beta);
                c += res.chosenReward();
                r += res.rejectedReward();
                acc += res.accuracy();
            }
            n++;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        if (n == 0) return m;
        m.put("chosen_reward", c / n);
        m.put("rejected_reward", r / n);
        m.put("reward_margin", (c - r) / n);
        m.put("reward_accuracy", acc / n);
        return m;
    }
}
