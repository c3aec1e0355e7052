package dev.myllm.train;

import dev.myllm.data.Batch;
/**
 * Batches addressed by (epoch, index), so a training run's data position is one number and a
 * resumed run reads exactly the batches it would have read; any shuffling is a pure function of
 * the seed and the epoch.
 */
public interface BatchSource {
    /** Number of batches in one epoch (at least 1 for training data). */
    int batchesPerEpoch();

    /** Batch {@code index} of epoch {@code epoch}. */
    Batch batch(int epoch, int index);
}
