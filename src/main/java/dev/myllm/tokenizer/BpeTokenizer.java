package dev.myllm.tokenizer;

import dev.myllm.util.IntList;
import dev.myllm.util.LongLongMap;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Byte-level BPE with GPT-2's pre-tokenizer: each piece's UTF-8 bytes start as single-byte tokens and
 * the adjacent pair of lowest merge priority is merged until none is left (tiktoken's algorithm), with
 * a per-piece cache. Built by {@link Vocabularies} from tiktoken, OpenAI or Hugging Face files.
 */
public final class BpeTokenizer implements Tokenizer {
    private static final long NO_MERGE = -1L;
    private static final int CACHE_LIMIT = 200_000;
    // Longer pieces are not cached: the limit counts pieces, and a piece can be as long as a request.
    private static final int CACHE_PIECE = 64;
    // Pieces up to this many bytes merge by rescanning (measured faster below about 20 bytes); longer ones through a heap.
    private static final int SHORT_PIECE = 20;

    private final String name;
    private final byte[][] tokenBytes;
    private final int[] byteToId = new int[256];
    private final LongLongMap merges;
    private final Map<String, Integer> specials;
    private final String[] specialNames;
    private final int eot;
    // One cache per thread: encode stays lock-free when several threads tokenize shards.
    private final ThreadLocal<HashMap<String, int[]>> cache = ThreadLocal.withInitial(() -> new HashMap<>(1 << 14));

    /**
     * A tokenizer over {@code tokenBytes} (id → bytes; null for unused ids), single-byte tokens
     * {@code byteToId}, {@code merges} keyed {@code left << 32 | right} with value {@code priority << 32 | result},
     * and special tokens (text → id).
     */
    public BpeTokenizer(String name, byte[][] tokenBytes, int[] byteToId, LongLongMap merges, Map<String, Integer> specials) {
        this.name = name;
        this.specials = new LinkedHashMap<>(specials);
        int size = tokenBytes.length;
        for (int id : specials.values()) size = Math.max(size, id + 1);
        this.tokenBytes = java.util.Arrays.copyOf(tokenBytes, size);
        for (var e : specials.entrySet()) this.tokenBytes[e.getValue()] = e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        System.arraycopy(byteToId, 0, this.byteToId, 0, 256);
        for (int b = 0; b < 256; b++) {
            if (byteToId[b] < 0) throw new IllegalArgumentException(name + ": vocabulary lacks the single byte " + b);
        }
        this.merges = merges;
        this.specialNames = specials.keySet().toArray(new String[0]);
        Integer e = specials.get("<|endoftext|>");
        this.eot = e == null ? -1 : e;
    }

    /** GPT-2's vocabulary (r50k_base, 50,257 ids), read from the tiktoken file bundled with jtokkit. */
    public static BpeTokenizer gpt2() {
        return Vocabularies.gpt2();
    }

    @Override
    public int[] encode(String text, Specials mode) {
        IntList out = new IntList(text.length() / 3 + 16);
        encodeInto(text, mode, out);
        return out.toArray();
    }

    /** Encodes {@code text} appending the ids to {@code out}; the streaming form used for large corpora. */
    public void encodeInto(String text, Specials mode, IntList out) {
        if (mode == Specials.TEXT || specialNames.length == 0) {
            encodeOrdinary(text, 0, text.length(), out);
            return;
        }
        int pos = 0;
        while (true) {
            int best = -1;
            String bestName = null;
            for (String s : specialNames) {
                int k = text.indexOf(s, pos);
                if (k >= 0 && (best < 0 || k < best)) {
                    best = k;
                    bestName = s;
                }
            }
            if (best < 0) break;
            if (mode == Specials.ERROR) {
                throw new IllegalArgumentException("input contains the special token " + bestName + " at character "
                        + best + "; allow specials or treat them as text");
            }
            encodeOrdinary(text, pos, best, out);
            out.add(specials.get(bestName));
            pos = best + bestName.length();
        }
        encodeOrdinary(text, pos, text.length(), out);
    }

    private void encodeOrdinary(String text, int start, int end, IntList out) {
        HashMap<String, int[]> c = cache.get();
        Gpt2PreTokenizer.split(text, start, end, (s, e) -> {
            String piece = text.substring(s, e);
            if (e - s > CACHE_PIECE) {
                out.addAll(bpe(piece)); // rare in text, and kept whole they would let a client fill the heap with a few requests
                return;
            }
            int[] ids = c.get(piece);
            if (ids == null) {
                ids = bpe(piece);
                if (c.size() >= CACHE_LIMIT) c.clear();
                c.put(piece, ids);
            }
            if (ids.length == 1) out.add(ids[0]);
            else out.addAll(ids);
        });
    }

    /** Merges one piece: start from its bytes, repeatedly merge the leftmost pair of lowest priority. */
    int[] bpe(String piece) {
        byte[] b = utf8(piece);
        return b.length <= SHORT_PIECE ? bpeScan(b) : bpeHeap(b);
    }

    /**
     * The merge loop as a scan of all pairs for each merge: O(n²) in the piece's length, but the fastest for the short
     * pieces that are most of any text, and the reference {@link #bpeHeap} must agree with.
     */
    int[] bpeScan(byte[] b) {
        int n = b.length;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = byteToId[b[i] & 0xFF];
        // pairVal[i] caches the merge of (ids[i], ids[i+1]) so each step rescans only a few pairs.
        long[] pairVal = new long[Math.max(0, n - 1)];
        for (int i = 0; i < n - 1; i++) pairVal[i] = merges.get(key(ids[i], ids[i + 1]), NO_MERGE);
        while (n > 1) {
            int bestI = -1;
            long bestPri = Long.MAX_VALUE;
            for (int i = 0; i < n - 1; i++) {
                long v = pairVal[i];
                if (v != NO_MERGE && (v >>> 32) < bestPri) {
                    bestPri = v >>> 32;
                    bestI = i;
                }
            }
            if (bestI < 0) break;
            ids[bestI] = (int) pairVal[bestI];
            System.arraycopy(ids, bestI + 2, ids, bestI + 1, n - bestI - 2);
            System.arraycopy(pairVal, bestI + 1, pairVal, bestI, n - bestI - 2);
            n--;
            if (bestI > 0) pairVal[bestI - 1] = merges.get(key(ids[bestI - 1], ids[bestI]), NO_MERGE);
            if (bestI < n - 1) pairVal[bestI] = merges.get(key(ids[bestI], ids[bestI + 1]), NO_MERGE);
        }
        return n == ids.length ? ids : java.util.Arrays.copyOf(ids, n);
    }

    /**
     * The same merges in O(n log n): the parts are a linked list over the byte positions (a part keeps the position
     * of its first byte), and a min-heap holds {@code priority << 32 | position} for each pair, so the smallest entry
     * is the lowest priority and, among equals, the leftmost pair, as in {@link #bpeScan}. Entries are not removed
     * when a merge changes their pair; a popped one counts only if the pair now at its position still has its priority.
     */
    int[] bpeHeap(byte[] b) {
        int n = b.length;
        if (n == 0) return new int[0];
        int[] ids = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        // pairVal[i]: the merge of part i with the part after it, NO_MERGE if none (or part i was merged away)
        long[] pairVal = new long[n];
        // each merge pushes at most two pairs, so the n - 1 first ones and 2 per merge fit
        long[] heap = new long[3 * n];
        int size = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = byteToId[b[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        pairVal[n - 1] = NO_MERGE;
        for (int i = 0; i < n - 1; i++) {
            long v = merges.get(key(ids[i], ids[i + 1]), NO_MERGE);
            pairVal[i] = v;
            if (v != NO_MERGE) heap[size++] = (v >>> 32) << 32 | i;
        }
        for (int i = size / 2 - 1; i >= 0; i--) siftDown(heap, size, i);
        int parts = n;
        while (size > 0) {
            long top = heap[0];
            heap[0] = heap[--size];
            siftDown(heap, size, 0);
            int i = (int) top;
            long v = pairVal[i];
            if (v == NO_MERGE || (v >>> 32) != (top >>> 32)) continue; // stale: the pair at i changed since the push
            int j = next[i], k = next[j];
            ids[i] = (int) v;
            next[i] = k;
            if (k < n) prev[k] = i;
            pairVal[j] = NO_MERGE;
            parts--;
            int p = prev[i];
            if (p >= 0) {
                long pv = merges.get(key(ids[p], ids[i]), NO_MERGE);
                pairVal[p] = pv;
                if (pv != NO_MERGE) size = push(heap, size, (pv >>> 32) << 32 | p);
            }
            long nv = k < n ? merges.get(key(ids[i], ids[k]), NO_MERGE) : NO_MERGE;
            pairVal[i] = nv;
            if (nv != NO_MERGE) size = push(heap, size, (nv >>> 32) << 32 | i);
        }
        int[] out = new int[parts];
        for (int i = 0, w = 0; i < n; i = next[i]) out[w++] = ids[i];
        return out;
    }

    private static int push(long[] heap, int size, long x) {
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= x) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
        return size + 1;
    }

    private static void siftDown(long[] heap, int size, int i) {
        long x = heap[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= x) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = x;
    }

    /** The merge of {@code (left, right)} as {@code priority << 32 | result}, or -1 (for exporting the merge list). */
    long mergeOf(int left, int right) {
        return merges.get(key(left, right), NO_MERGE);
    }

    /** The id of the single-byte token {@code b}. */
    int byteId(int b) {
        return byteToId[b & 0xFF];
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static byte[] utf8(String s) {
        int n = s.length();
        boolean ascii = true;
        for (int i = 0; i < n && ascii; i++) ascii = s.charAt(i) < 0x80;
        if (!ascii) return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) s.charAt(i);
        return b;
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) out.writeBytes(tokenBytes(id));
        return out.toByteArray();
    }

    /** Number of pieces in this thread's word cache. */
    int cachedPieces() {
        return cache.get().size();
    }

    /** Empties this thread's word cache (benchmarks measure a cold start with it). */
    public void clearCache() {
        cache.get().clear();
    }

    /** Whether {@code id} is a token (not past the vocabulary, nor a gap in it). */
    public boolean hasToken(int id) {
        return id >= 0 && id < tokenBytes.length && tokenBytes[id] != null;
    }

    /** The bytes of one token. */
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("token id out of range for " + name + ": " + id);
        }
        return tokenBytes[id];
    }

    /** The special tokens, text → id. */
    public Map<String, Integer> specials() {
        return java.util.Collections.unmodifiableMap(specials);
    }

    /** Number of merge rules. */
    public int mergeCount() {
        return merges.size();
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int eotId() {
        return eot;
    }

    @Override
    public String name() {
        return name;
    }
}
