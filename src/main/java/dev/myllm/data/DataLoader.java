package dev.myllm.data;

import dev.myllm.tensor.Rng;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Batches of a {@link SlidingWindowDataset} as PyTorch's DataLoader gives them: batch size, optional seeded
 * shuffling per epoch, optional drop of the last short batch. {@link #next()} runs on into the next epoch;
 * {@link #position()} and {@link #seek} save and restore exactly where it is, for resuming training.
 */
public final class DataLoader implements Iterator<Batch> {
    /** Where a loader stands: the epoch, the next batch within it, and the RNG state before the epoch's shuffle. */
    public record Position(int epoch, int batch, String rngState) {
    }

    private final SlidingWindowDataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Rng rng;
    private int[] order;
    private int epoch = -1;
    private int batch;
    private String epochRngState;

    /** A loader; {@code rng} is used only when {@code shuffle} is set and may then not be null. */
    public DataLoader(SlidingWindowDataset dataset, int batchSize, boolean shuffle, boolean dropLast, Rng rng) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (shuffle && rng == null) throw new IllegalArgumentException("shuffling needs a random generator");
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.rng = rng;
        if (batchesPerEpoch() == 0) {
            throw new IllegalArgumentException("only " + dataset.size() + " windows: fewer than one batch of " + batchSize
                    + " (use a smaller batch or context, or keep the last short batch)");
        }
        startEpoch(0, rng == null ? null : rng.state());
    }

    /** Batches in one epoch. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public SlidingWindowDataset dataset() {
        return dataset;
    }

    private void startEpoch(int e, String rngState) {
        epoch = e;
        batch = 0;
        epochRngState = rngState;
        order = new int[dataset.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (shuffle) {
            rng.setState(rngState);
            rng.shuffle(order);
        }
    }

    /** True while the current epoch has batches left. */
    public boolean hasNextInEpoch() {
        return batch < batchesPerEpoch();
    }

    /** Always true: after the last batch of an epoch comes the first of the next one. */
    @Override
    public boolean hasNext() {
        return true;
    }

    /** The next batch, starting a new (reshuffled) epoch when the current one is done. */
    @Override
    public Batch next() {
        if (!hasNextInEpoch()) startEpoch(epoch + 1, rng == null ? null : rng.state());
        int start = batch * batchSize;
        int rows = Math.min(batchSize, dataset.size() - start);
        int t = dataset.maxLength();
        int[] in = new int[rows * t], tg = new int[rows * t];
        for (int r = 0; r < rows; r++) {
            dataset.copyInputs(order[start + r], in, r * t);
            dataset.copyTargets(order[start + r], tg, r * t);
        }
        batch++;
        return new Batch(in, tg, rows, t);
    }

    /** The batches of the current epoch from here to its end (a for-each over one epoch). */
    public Iterable<Batch> restOfEpoch() {
        return () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return hasNextInEpoch();
            }

            @Override
            public Batch next() {
                if (!hasNextInEpoch()) throw new NoSuchElementException();
                return DataLoader.this.next();
            }
        };
    }

    /** Where the loader stands now. */
    public Position position() {
        return new Position(epoch, batch, epochRngState);
    }

    /** Returns to a saved position: the same batches follow as would have followed then. */
    public void seek(Position p) {
        startEpoch(p.epoch(), p.rngState());
        if (p.batch() < 0 || p.batch() > batchesPerEpoch()) throw new IllegalArgumentException("bad loader position " + p);
        batch = p.batch();
    }

    public int epoch() {
        return epoch;
    }
}
