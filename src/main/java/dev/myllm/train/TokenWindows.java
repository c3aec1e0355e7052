package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.data.SlidingWindowDataset;
import dev.myllm.tensor.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * The book's {@code GPTDatasetV1} with its data loader: windows of {@code context} tokens starting
 * every {@code stride} tokens (inputs, and targets shifted by one), grouped into batches with the
 * last partial batch dropped, optionally shuffled per epoch by a generator seeded from
 * {@code (seed, epoch)}.
 */
public final class TokenWindows implements BatchSource {
    private final SlidingWindowDataset windows; // null when the tokens make no window at all
    private final int count;
    private final int context, batchSize;
    private final boolean shuffle, dropLast;
    private final long seed;

    /** Training windows: the last partial batch is dropped, as the book's training loader does. */
    public TokenWindows(int[] tokens, int batchSize, int context, int stride, boolean shuffle, long seed) {
        this(tokens, batchSize, context, stride, shuffle, seed, true);
    }

    public TokenWindows(int[] tokens, int batchSize, int context, int stride, boolean shuffle, long seed, boolean dropLast) {
        if (batchSize < 1 || context < 1 || stride < 1) {
            throw new IllegalArgumentException("batch size, context length and stride must be >= 1");
        }
        this.context = context;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        // a validation split may be shorter than one window: it then has no batches (and the
        // command says so) instead of failing like an empty training corpus
        this.windows = tokens.length > context ? new SlidingWindowDataset(tokens, context, stride) : null;
        this.count = windows == null ? 0 : windows.size();
    }

    /** Number of windows (samples) before batching. */
    public int windows() {
        return count;
    }

    @Override
    public int batchesPerEpoch() {
        return dropLast ? count / batchSize : (count + batchSize - 1) / batchSize;
    }

    @Override
    public Batch batch(int epoch, int index) {
        if (index < 0 || index >= batchesPerEpoch()) {
            throw new IndexOutOfBoundsException("batch " + index + " of " + batchesPerEpoch());
        }
        int[] order = order(epoch);
        int rows = Math.min(batchSize, count - index * batchSize);
        int[] in = new int[rows * context], tg = new int[rows * context];
        for (int r = 0; r < rows; r++) {
            int w = order[index * batchSize + r];
            windows.copyInputs(w, in, r * context);
            windows.copyTargets(w, tg, r * context);
        }
        return new Batch(in, tg, rows, context);
    }

    private int[] cachedOrder;
    private int cachedEpoch = -1;

    private synchronized int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            int[] o = new int[count];
            for (int i = 0; i < o.length; i++) o[i] = i;
            if (shuffle) new Rng(seed * 1_000_003L + epoch).shuffle(o);
            cachedOrder = o;
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /** The first {@code n} batches of epoch 0 (all when {@code n <= 0}), for evaluation. */
    public List<Batch> first(int n) {
        int k = n <= 0 ? batchesPerEpoch() : Math.min(n, batchesPerEpoch());
        List<Batch> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(batch(0, i));
        return out;
    }
}
