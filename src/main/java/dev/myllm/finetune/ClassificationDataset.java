package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.data.LabelledExample;
import dev.myllm.tensor.Rng;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.BatchSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The book's {@code SpamDataset} with its loader: every text tokenized, cut to {@code length}
 * tokens and right-padded with the pad id to exactly {@code length}; batches of {@code batchSize}
 * rows whose {@link Batch#targets()} hold one class id per row. Training data is shuffled per
 * epoch (a pure function of seed and epoch, so resume is exact) and drops the last partial batch;
 * evaluation data keeps it.
 */
public final class ClassificationDataset implements BatchSource {
    private final int[] ids;       // (N, length) row-major
    private final int[] labels;    // (N)
    private final int length;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;

    private ClassificationDataset(int[] ids, int[] labels, int length, int batchSize, boolean shuffle, boolean dropLast, long seed) {
        this.ids = ids;
        this.labels = labels;
        this.length = length;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
    }

    /** Token ids of each text, unpadded (plain encoding: special-token text counts as ordinary text). */
    public static List<int[]> tokenize(List<LabelledExample> examples, Tokenizer tok) {
        List<int[]> out = new ArrayList<>(examples.size());
        for (LabelledExample e : examples) out.add(tok.encode(e.text(), Specials.TEXT));
        return out;
    }

    /** Class ids of the examples' labels in {@code labels}; an unknown label is a one-line error naming {@code source}. */
    public static int[] classIds(List<LabelledExample> examples, List<String> labels, String source) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < labels.size(); i++) ids.put(labels.get(i), i);
        int[] out = new int[examples.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(examples.get(i).label());
            if (id == null) throw new IllegalArgumentException(source + ": label '" + examples.get(i).label() + "' is not one of the model's " + labels);
            out[i] = id;
        }
        return out;
    }

    /** The longest encoding (the book's {@code max_length=None}: the longest training example). */
    public static int longest(List<int[]> encoded) {
        int m = 0;
        for (int[] e : encoded) m = Math.max(m, e.length);
        return m;
    }

    /**
     * A dataset of {@code encoded} texts with class ids {@code labels}, each cut to {@code length}
     * and padded with {@code padId}; {@code train} shuffles (seeded) and drops the last partial batch.
     */
    public static ClassificationDataset of(List<int[]> encoded, int[] labels, int length, int padId, int batchSize,
                                           boolean train, boolean shuffle, long seed) {
        if (length < 1) throw new IllegalArgumentException("sequence length must be >= 1, got " + length);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (encoded.size() != labels.length) throw new IllegalArgumentException(encoded.size() + " texts but " + labels.length + " labels");
        int[] ids = new int[encoded.size() * length];
        java.util.Arrays.fill(ids, padId);
        for (int r = 0; r < encoded.size(); r++) {
            int[] e = encoded.get(r);
            System.arraycopy(e, 0, ids, r * length, Math.min(e.length, length));
        }
        return new ClassificationDataset(ids, labels.clone(), length, batchSize, train && shuffle, train, seed);
    }

    /** Number of examples. */
    public int size() {
        return labels.length;
    }

    /** Tokens per row (the padded length). */
    public int length() {
        return length;
    }

    /** Class id of example {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    @Override
    public int batchesPerEpoch() {
        return dropLast ? labels.length / batchSize : (labels.length + batchSize - 1) / batchSize;
    }

    @Override
    public Batch batch(int epoch, int index) {
        if (index < 0 || index >= batchesPerEpoch()) throw new IndexOutOfBoundsException("batch " + index + " of " + batchesPerEpoch());
        int[] order = order(epoch);
        int rows = Math.min(batchSize, labels.length - index * batchSize);
        int[] in = new int[rows * length], tg = new int[rows];
        for (int r = 0; r < rows; r++) {
            int e = order[index * batchSize + r];
            System.arraycopy(ids, e * length, in, r * length, length);
            tg[r] = labels[e];
        }
        return new Batch(in, tg, rows, length);
    }

    private int[] cachedOrder;
    private int cachedEpoch = -1;

    private synchronized int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            int[] o = new int[labels.length];
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

    /** Every example once, in file order, the last batch short (the final full-set accuracy). */
    public List<Batch> all() {
        ClassificationDataset plain = new ClassificationDataset(ids, labels, length, batchSize, false, false, 0);
        return plain.first(0);
    }
}
