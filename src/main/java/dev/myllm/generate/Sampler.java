package dev.myllm.generate;

import dev.myllm.tensor.ArgMax;
import dev.myllm.tensor.Rng;
import java.util.Arrays;

/**
 * Picks the next token from a row of logits: argmax when greedy, otherwise top-k filtering,
 * temperature scaling, top-p (nucleus) filtering and a draw from the seeded generator (the
 * book's section 5.3). Scratch arrays are sized once for the vocabulary and reused; greedy
 * decoding needs none (a server makes a sampler per request: 400 KB each for GPT-2's vocabulary).
 */
public final class Sampler {
    private final GenerationConfig config;
    private final Rng rng;
    private final int vocabSize;
    private final double[] probs;
    private final float[] sorted;
    private final long[] order;

    public Sampler(GenerationConfig config, int vocabSize) {
        this.config = config;
        this.rng = new Rng(config.seed());
        this.vocabSize = vocabSize;
        boolean greedy = config.isGreedy();
        this.probs = greedy ? null : new double[vocabSize];
        this.sorted = !greedy && config.topK() > 0 ? new float[vocabSize] : null;
        this.order = !greedy && config.topP() < 1 ? new long[vocabSize] : null;
    }

    /** The next token id from {@code logits[off .. off+V)}. */
    public int next(float[] logits, int off) {
        int v = vocabSize;
        if (config.isGreedy()) return ArgMax.of(logits, off, v);
        float threshold = Float.NEGATIVE_INFINITY;
        if (config.topK() > 0 && config.topK() < v) {
            // keep logits ≥ the k-th largest (ties at the threshold stay, as in the book's torch.where)
            System.arraycopy(logits, off, sorted, 0, v);
            threshold = select(sorted, v - config.topK());
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) if (logits[off + i] >= threshold) max = Math.max(max, logits[off + i]);
        double z = 0, invT = 1.0 / config.temperature();
        for (int i = 0; i < v; i++) {
            float x = logits[off + i];
            double p = x >= threshold ? Math.exp((x - max) * invT) : 0;
            probs[i] = p;
            z += p;
        }
        if (config.topP() < 1) z = nucleus(z);
        double u = rng.nextDouble() * z;
        int last = -1;
        for (int i = 0; i < v; i++) {
            if (probs[i] == 0) continue;
            last = i;
            u -= probs[i];
            if (u < 0) return i;
        }
        return last; // rounding left u a hair above 0: the last candidate
    }

    /** Zeroes every token outside the smallest most-likely set whose probability reaches top-p; returns the new total. */
    private double nucleus(double z) {
        int n = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (probs[i] > 0) order[n++] = ((long) Float.floatToIntBits((float) (probs[i] / z)) << 32) | i;
        }
        Arrays.sort(order, 0, n); // positive floats order like their bits: ascending probability
        double cum = 0, kept = 0;
        int i = n - 1;
        for (; i >= 0; i--) {
            int id = (int) order[i];
            cum += probs[id] / z;
            kept += probs[id];
            if (cum >= config.topP()) {
                i--;
                break;
            }
        }
        for (; i >= 0; i--) probs[(int) order[i]] = 0;
        return kept;
    }

    /** The value that would sit at index {@code k} if {@code a} were sorted ascending (quickselect; reorders {@code a}). */
    static float select(float[] a, int k) {
        int lo = 0, hi = a.length - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }
}
