package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * What the {@link Trainer} minimizes: the loss of one batch as a graph node (next-token
 * cross-entropy for pretraining and instruction tuning, the class cross-entropy for a classifier,
 * the DPO loss, ...), plus optional evaluation metrics such as accuracy.
 */
@FunctionalInterface
public interface Objective {
    /** The mean loss of one batch; a graph node when grad mode is on, so the trainer can call {@code backward()}. */
    Tensor loss(Batch batch);

    /**
     * Metrics over the first {@code numBatches} batches (all when {@code numBatches <= 0}), called
     * in evaluation mode without gradients; for example {@code accuracy}. None by default.
     */
    default Map<String, Double> metrics(List<Batch> batches, int numBatches) {
        return Map.of();
    }

    /** Next-token cross-entropy of a language model (pretraining, chapter 5). */
    static Objective languageModel(LanguageModel model) {
        return b -> Losses.batchLoss(model, b);
    }
}
