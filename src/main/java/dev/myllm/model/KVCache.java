package dev.myllm.model;

/**
 * The keys and values of every layer for the tokens seen so far, so that decoding a new token
 * runs the model on that token alone instead of on the whole sequence again. Allocated once, at
 * full capacity, so decoding allocates nothing per token.
 */
public final class KVCache {
    private final int batch;
    private final int heads;
    private final int headDim;
    private final int capacity;
    private final float[][] keys;   // per layer (B, capacity, H, D): a position's keys as the QKV projection gives them
    private final float[][] values; // per layer (B, capacity, H, D)
    private int length;

    /** A cache for {@code batch} sequences of up to the model's context length. */
    public KVCache(GPTConfig config, int batch) {
        this(config, batch, config.contextLength());
    }

    /** A cache for {@code batch} sequences of up to {@code capacity} (≤ context length) tokens. */
    public KVCache(GPTConfig config, int batch, int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity must be in [1, " + config.contextLength() + "], got " + capacity);
        }
        this.batch = batch;
        this.heads = config.nHeads();
        this.headDim = config.embDim() / config.nHeads();
        this.capacity = capacity;
        long perLayer = (long) batch * heads * capacity * headDim;
        if (perLayer > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("KV cache too large: " + perLayer + " floats per layer");
        keys = new float[config.nLayers()][(int) perLayer];
        values = new float[config.nLayers()][(int) perLayer];
    }

    /** Number of positions already cached. */
    public int length() {
        return length;
    }

    /** Most positions the cache holds. */
    public int capacity() {
        return capacity;
    }

    /** Positions still free. */
    public int remaining() {
        return capacity - length;
    }

    public int batch() {
        return batch;
    }

    /** Forgets every cached position (the buffers are kept). */
    public void reset() {
        length = 0;
    }

    /**
     * Keeps the first {@code positions} positions and forgets the rest: the next tokens are written from there on. A
     * prompt's prefix kept from an earlier prefill is reused this way (a prefill pass gives each position the same bits
     * however the prompt is cut into passes).
     */
    public void truncate(int positions) {
        if (positions < 0 || positions > length) {
            throw new IllegalArgumentException("cannot keep " + positions + " positions of a KV cache holding " + length);
        }
        length = positions;
    }

    /**
     * Holds the first {@code positions} positions of {@code from} (both for one sequence, of the same model) and nothing
     * after them: a kept prompt prefix moved into a cache large enough for the new sequence.
     */
    public void copyPrefix(KVCache from, int positions) {
        if (batch != 1 || from.batch != 1 || from.heads != heads || from.headDim != headDim || from.keys.length != keys.length) {
            throw new IllegalArgumentException("KV caches of different shapes");
        }
        if (positions < 0 || positions > from.length || positions > capacity) {
            throw new IllegalArgumentException("cannot copy " + positions + " positions of a KV cache holding " + from.length
                    + " into one of capacity " + capacity);
        }
        int n = positions * heads * headDim; // (1, capacity, H, D): the first positions are one run
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(from.keys[l], 0, keys[l], 0, n);
            System.arraycopy(from.values[l], 0, values[l], 0, n);
        }
        length = positions;
    }

    /**
     * How many positions written for {@code prefix} a sequence with {@code prompt} can keep: the tokens they share from the
     * start, never the prompt's last one, whose logits the sequence needs.
     */
    public static int reusable(int[] prefix, int[] prompt) {
        int n = Math.min(prefix.length, prompt.length - 1), i = 0;
        while (i < n && prefix[i] == prompt[i]) i++;
        return i;
    }

    /** Bytes held by the cache. */
    public long bytes() {
        return 2L * keys.length * keys[0].length * Float.BYTES;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Marks {@code n} more positions as filled (after every layer has written them). */
    void advance(int n) {
        if (length + n > capacity) throw new IllegalStateException("KV cache overflow: " + (length + n) + " > " + capacity);
        length += n;
    }

    void checkFits(int batch, int newTokens) {
        if (batch != this.batch) throw new IllegalArgumentException("KV cache is for batch " + this.batch + ", got " + batch);
        if (length + newTokens > capacity) {
            throw new IllegalArgumentException("KV cache full: " + length + " cached + " + newTokens + " new > capacity " + capacity);
        }
    }
}
