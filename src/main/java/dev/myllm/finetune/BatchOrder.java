package dev.myllm.finetune;

import dev.myllm.tensor.Rng;
import java.util.Arrays;

/**
 * Which records make batch {@code index} of epoch {@code epoch}, as PyTorch's DataLoader picks
 * them (batch size, optional shuffle, optional drop of the last short batch); the shuffle is a
 * pure function of the seed and the epoch, so a resumed run reads the same batches.
 */
public final class BatchOrder {
    private final int size;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] order;

    public BatchOrder(int size, int batchSize, boolean shuffle, boolean dropLast, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        this.size = size;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
    }

    public int batchesPerEpoch() {
        return dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
    }

    /** Record indices of one batch. */
    public synchronized int[] indices(int epoch, int index) {
        if (index < 0 || index >= batchesPerEpoch()) throw new IllegalArgumentException("batch " + index + " outside the epoch's " + batchesPerEpoch());
        if (epoch != cachedEpoch) {
            order = new int[size];
            for (int i = 0; i < size; i++) order[i] = i;
            if (shuffle) new Rng(seed * 1_000_003L + epoch).shuffle(order);
            cachedEpoch = epoch;
        }
        int from = index * batchSize;
        return Arrays.copyOfRange(order, from, Math.min(size, from + batchSize));
    }
}
