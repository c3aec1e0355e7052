package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.data.SlidingWindowDataset;
import dev.myllm.tensor.RandomState;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * The data loader of pretraining, the book's {@code create_dataloader_v1}: {@code GPTDatasetV1}'s
 * windows of {@code context} tokens starting every {@code stride} tokens (inputs, and targets
 * shifted by one), in batches with or without the last partial batch ({@code drop_last}),
 * optionally shuffled per epoch by a generator seeded from {@code (seed, epoch)}, or in PyTorch's
 * order with {@link #torchOrder}. Batches are addressed by (epoch, index), so a resumed run reads
 * exactly the batches it would have read.
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
        return rows(order(epoch), index);
    }

    private Batch rows(int[] order, int index) {
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

    private TorchGenerator torch;

    /**
     * The book's loader semantics: each epoch's order (and each {@link #iterate}) is drawn when it
     * starts from PyTorch's global generator {@code g}, as a single-process {@code DataLoader} does
     * (base seed, then with shuffling a {@code randperm} on a generator seeded from the next draw).
     * Epochs must then be visited in order.
     */
    public TokenWindows torchOrder(TorchGenerator g) {
        this.torch = g;
        return this;
    }

    private synchronized int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            int[] o;
            if (torch != null) {
                o = torch.dataLoaderEpoch(count, shuffle);
            } else {
                o = new int[count];
                for (int i = 0; i < o.length; i++) o[i] = i;
                if (shuffle) new Rng(seed * 1_000_003L + epoch).shuffle(o);
            }
            cachedOrder = o;
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /**
     * The first {@code n} batches (all when {@code n <= 0}) of a new pass over the data, as the
     * book's {@code calc_loss_loader} reads them: with {@link #torchOrder} the pass draws its own
     * order now (the training epoch's order is untouched); otherwise it is epoch 0's.
     */
    public List<Batch> iterate(int n) {
        if (torch == null || batchesPerEpoch() == 0) return first(n);
        int[] o = torch.dataLoaderEpoch(count, shuffle);
        int k = n <= 0 ? batchesPerEpoch() : Math.min(n, batchesPerEpoch());
        List<Batch> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(rows(o, i));
        return out;
    }

    /** The current epoch's order as restorable state (with {@link #torchOrder} it cannot be recomputed on resume). */
    public RandomState orderState() {
        return new RandomState() {
            @Override
            public String state() {
                synchronized (TokenWindows.this) {
                    StringBuilder sb = new StringBuilder().append(cachedEpoch);
                    if (cachedOrder != null) for (int i : cachedOrder) sb.append(' ').append(i);
                    return sb.toString();
                }
            }

            @Override
            public void setState(String state) {
                String[] p = state.trim().split(" ");
                synchronized (TokenWindows.this) {
                    cachedEpoch = Integer.parseInt(p[0]);
                    cachedOrder = new int[p.length - 1];
                    for (int i = 1; i < p.length; i++) cachedOrder[i - 1] = Integer.parseInt(p[i]);
                    if (cachedEpoch >= 0 && cachedOrder.length != count) throw new IllegalArgumentException("loader state has " + cachedOrder.length + " windows, not " + count);
                }
            }
        };
    }

    /** The first {@code n} batches of epoch 0 (all when {@code n <= 0}), for evaluation. */
    public List<Batch> first(int n) {
        int k = n <= 0 ? batchesPerEpoch() : Math.min(n, batchesPerEpoch());
        List<Batch> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(batch(0, i));
        return out;
    }
}
