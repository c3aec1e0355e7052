package dev.myllm.tokenizer;

import dev.myllm.util.LongLongMap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Learns BPE merges as the book's bonus {@code BPETokenizerSimple.train} does (ids 0–255 are bytes, 256 is
 * the space symbol Ġ, then the specials, then one id per merge; the most frequent adjacent pair wins, ties
 * to the pair seen first; a pair whose right side holds Ġ is never merged), but with incremental pair counts: each merge touches only the occurrences of
 * its pair, so thousands of merges over megabytes take seconds rather than a rescan per merge.
 */
public final class BpeTrainer {
    /** Progress callback: merges done so far and the target. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total);
    }

    private int[] id, nxt, prv;
    private final LongLongMap pairIndex = new LongLongMap(1 << 16);
    private long[] pairKey = new long[1 << 12];
    private int[] count = new int[1 << 12];
    private int[][] occ = new int[1 << 12][];
    private int[] occLen = new int[1 << 12];
    private int pairs;
    private final LongHeap heap = new LongHeap();
    private int[] stamp = new int[1 << 12];
    private int stampNow = 1;
    private final List<Integer> touched = new ArrayList<>();
    // hasSpace[id]: the token contains the space symbol (always at its start, see mergeable).
    private boolean[] hasSpace;

    /**
     * Trains on {@code texts} (each its own sequence: no pair spans two texts) to {@code vocabSize} ids
     * including bytes, the space symbol and {@code specials}; stops early when no pair is left.
     */
    public TrainedBpe train(List<String> texts, int vocabSize, List<String> specials, Progress progress) {
        int firstMerge = TrainedBpe.SPACE + 1 + specials.size();
        if (vocabSize < firstMerge) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize + " is below the " + firstMerge
                    + " ids of the bytes, the space symbol and the specials");
        }
        hasSpace = new boolean[vocabSize];
        hasSpace[TrainedBpe.SPACE] = true;
        load(texts);
        int target = vocabSize - firstMerge;
        int[][] merges = new int[target][];
        int done = 0;
        while (done < target) {
            int p = selectBest();
            if (p < 0) break;
            int z = firstMerge + done;
            merges[done++] = new int[]{(int) (pairKey[p] >>> 32), (int) pairKey[p]};
            hasSpace[z] = hasSpace[(int) (pairKey[p] >>> 32)];
            merge(p, z);
            if (progress != null && (done % 50 == 0 || done == target)) progress.update(done, target);
        }
        if (progress != null && done < target) progress.update(done, done); // stopped early: no pair left
        return new TrainedBpe(specials, Arrays.copyOf(merges, done));
    }

    /** The book's preprocessing per text: a space becomes Ġ, except a space at the very start, which is dropped. */
    private void load(List<String> texts) {
        int total = 0;
        List<byte[]> bytes = new ArrayList<>();
        for (String t : texts) {
            byte[] b = t.getBytes(StandardCharsets.UTF_8);
            bytes.add(b);
            total += b.length;
        }
        id = new int[total];
        nxt = new int[total];
        prv = new int[total];
        int n = 0;
        for (byte[] b : bytes) {
            int start = n;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == ' ' && i == 0) continue;
                id[n] = b[i] == ' ' ? TrainedBpe.SPACE : b[i] & 0xFF;
                prv[n] = n == start ? -1 : n - 1;
                nxt[n] = n + 1;
                n++;
            }
            if (n > start) nxt[n - 1] = -1;
        }
        id = Arrays.copyOf(id, n);
        for (int i = 0; i + 1 < n; i++) if (nxt[i] == i + 1) add(id[i], id[i + 1], i, +1);
        for (int p = 0; p < pairs; p++) if (mergeable(p)) heap.push(((long) count[p] << 32) | p);
        touched.clear();
    }

    private int pairOf(int a, int b, boolean create) {
        long k = ((long) a << 32) | (b & 0xFFFFFFFFL);
        long v = pairIndex.get(k, -1);
        if (v >= 0 || !create) return (int) v;
        if (pairs == pairKey.length) {
            int cap = pairs * 2;
            pairKey = Arrays.copyOf(pairKey, cap);
            count = Arrays.copyOf(count, cap);
            occ = Arrays.copyOf(occ, cap);
            occLen = Arrays.copyOf(occLen, cap);
            stamp = Arrays.copyOf(stamp, cap);
        }
        pairKey[pairs] = k;
        pairIndex.put(k, pairs);
        return pairs++;
    }

    /** Changes the count of pair (a, b) by {@code delta}; a new occurrence at {@code pos} is recorded. */
    private void add(int a, int b, int pos, int delta) {
        int p = pairOf(a, b, delta > 0);
        count[p] += delta;
        if (delta > 0) {
            int[] o = occ[p];
            if (o == null) o = occ[p] = new int[4];
            else if (occLen[p] == o.length) o = occ[p] = Arrays.copyOf(o, o.length * 2);
            o[occLen[p]++] = pos;
        }
        if (stamp[p] != stampNow) {
            stamp[p] = stampNow;
            touched.add(p);
        }
    }

    /**
     * The book's current rule: never merge a pair whose right token holds the space symbol, so Ġ only
     * ever starts a token and no token spans a word boundary; line breaks are never merged.
     */
    private boolean mergeable(int p) {
        int a = (int) (pairKey[p] >>> 32), b = (int) pairKey[p];
        return !hasSpace[b] && !isBreak(a) && !isBreak(b);
    }

    /** Newlines, tabs and other ASCII whitespace stand alone, as the book's encoder splits on them. */
    private static boolean isBreak(int id) {
        return id == '\n' || id == '\t' || id == '\r' || id == 0x0B || id == 0x0C;
    }

    private boolean valid(int p, int pos) {
        long k = pairKey[p];
        int q = nxt[pos];
        return id[pos] == (int) (k >>> 32) && q >= 0 && id[q] == (int) k;
    }

    /** Drops stale occurrences and returns the first live position (a pair never becomes valid again once stale). */
    private int compactFirst(int p) {
        int[] o = occ[p];
        int w = 0, first = Integer.MAX_VALUE;
        for (int r = 0; r < occLen[p]; r++) {
            int pos = o[r];
            if (valid(p, pos)) {
                o[w++] = pos;
                first = Math.min(first, pos);
            }
        }
        occLen[p] = w;
        return first;
    }

    /** The pair with the highest count, ties to the earliest first occurrence; -1 when none is left. */
    private int selectBest() {
        while (!heap.isEmpty()) {
            long top = heap.peek();
            int c = (int) (top >>> 32), p = (int) top;
            if (c <= 0) return -1;
            if (count[p] != c) {
                heap.pop();
                continue;
            }
            stampNow++;
            List<Integer> tied = new ArrayList<>();
            while (!heap.isEmpty() && (int) (heap.peek() >>> 32) == c) {
                int q = (int) heap.pop();
                if (count[q] == c && stamp[q] != stampNow) {
                    stamp[q] = stampNow;
                    tied.add(q);
                }
            }
            int best = -1, bestFirst = Integer.MAX_VALUE;
            for (int q : tied) {
                int f = compactFirst(q);
                if (f < bestFirst) {
                    bestFirst = f;
                    best = q;
                }
            }
            for (int q : tied) if (q != best) heap.push(((long) c << 32) | q);
            stampNow++;
            return best;
        }
        return -1;
    }

    /** Replaces every occurrence of pair {@code p}, left to right without overlap, by {@code z}. */
    private void merge(int p, int z) {
        int a = (int) (pairKey[p] >>> 32), b = (int) pairKey[p];
        compactFirst(p);
        int[] positions = Arrays.copyOf(occ[p], occLen[p]);
        Arrays.sort(positions);
        touched.clear();
        for (int pos : positions) {
            if (!valid(p, pos)) continue; // consumed by the previous, overlapping occurrence
            int q = nxt[pos], left = prv[pos], right = nxt[q];
            if (left >= 0) add(id[left], a, left, -1);
            if (right >= 0) add(b, id[right], q, -1);
            add(a, b, pos, -1);
            id[pos] = z;
            id[q] = -1;
            nxt[pos] = right;
            if (right >= 0) prv[right] = pos;
            if (left >= 0) add(id[left], z, left, +1);
            if (right >= 0) add(z, id[right], pos, +1);
        }
        occ[p] = null;
        occLen[p] = 0;
        for (int t : touched) if (count[t] > 0 && mergeable(t)) heap.push(((long) count[t] << 32) | t);
        touched.clear();
        stampNow++;
    }

    /** A max-heap of longs (count in the high half, so the most frequent pair is on top). */
    private static final class LongHeap {
        private long[] h = new long[1 << 12];
        private int n;

        boolean isEmpty() {
            return n == 0;
        }

        long peek() {
            return h[0];
        }

        void push(long v) {
            if (n == h.length) h = Arrays.copyOf(h, n * 2);
            int i = n++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (h[parent] >= v) break;
                h[i] = h[parent];
                i = parent;
            }
            h[i] = v;
        }

        long pop() {
            long top = h[0];
            long v = h[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && h[c + 1] > h[c]) c++;
                if (h[c] <= v) break;
                h[i] = h[c];
                i = c;
            }
            h[i] = v;
            return top;
        }
    }
}
