package dev.myllm.server;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.KVCache;
import java.util.ArrayList;
import java.util.List;

/**
 * The KV caches of finished sequences, kept for the next ones (scheduler thread only), with the prompt tokens whose
 * positions they still hold, so that a new prompt starting with the same tokens (a chat's earlier turns, a shared
 * system prompt, the same prompt again) skips their prefill.
 *
 * <p>A new cache is tens of megabytes of fresh arrays for GPT-2 (14 MB for gpt2-small at 192 positions): eight of them
 * per wave of requests made the collector run and the first prefill write into pages the process had never touched,
 * which took longer than the prefill's products. A cache taken again holds stale keys and values past the positions it
 * keeps, which attention never reads: each position is written before any query sees it.
 *
 * <p>Only prompt positions are kept, and only those a prefill pass wrote: a prefill pass gives a position the same bits
 * whether the prompt came in one pass or in chunks, so a reused prefix changes no logit; decode steps use other
 * kernels (one row at a time), so the positions of generated tokens are not offered again. When the pool is full, the
 * cache given back or copied from longest ago goes first, and a prompt sharing nothing empties a cache holding no
 * prompt before one that does.
 */
final class CachePool {
    /** Positions a new cache is rounded up to, so caches fit the next requests of about the same size. */
    private static final int ROUND = 64;

    /** A cache and the prompt tokens whose positions it holds from a prefill pass (none: an empty array). */
    private record Kept(KVCache cache, int[] prefix) {
    }

    private final GPTConfig config;
    private final int keep;
    private final long keepBytes;
    private final List<Kept> free = new ArrayList<>();
    private long freeBytes;
    /** Caches handed out and not given back; volatile so that tests can read it from other threads. */
    private volatile int inUse;

    /** Keeps up to {@code keep} caches of at most {@code keepBytes} bytes in all. */
    CachePool(GPTConfig config, int keep, long keepBytes) {
        this.config = config;
        this.keep = keep;
        this.keepBytes = keepBytes;
    }

    /** An empty cache for one sequence of up to {@code tokens} positions (no prefix reused). */
    KVCache take(int tokens) {
        return take(null, tokens);
    }

    /**
     * A cache for one sequence of up to {@code tokens} positions whose prompt is {@code prompt} (null: reuse nothing).
     * It comes back holding the longest start of the prompt that a kept cache holds ({@link KVCache#length()}; never the
     * prompt's last position, whose logits the sequence needs): that cache itself when it is large enough and the prompt
     * goes on from all it holds, else a copy of the shared positions (a chat's next turn outgrows the last one's cache;
     * another prompt shares only a system prompt), the kept one staying in the pool. Without
     * a shared start: the smallest empty cache that holds the tokens and is not more than twice the size needed, or a
     * new one.
     */
    KVCache take(int[] prompt, int tokens) {
        int ctx = config.contextLength(), need = Math.min(ctx, tokens);
        int source = -1, shared = 0;
        for (int i = 0; prompt != null && i < free.size(); i++) {
            int s = KVCache.reusable(free.get(i).prefix(), prompt);
            boolean fits = free.get(i).cache().capacity() >= need;
            if (s > shared || s == shared && s > 0 && fits && free.get(source).cache().capacity() < need) {
                source = i;
                shared = s;
            }
        }
        // a kept cache is handed over only when the prompt goes on from all it holds: taking one that holds more (another
        // conversation's turns after a shared system prompt) would lose the rest, and a copy of the shared positions
        // costs far less than their prefill
        if (source >= 0 && free.get(source).cache().capacity() >= need && shared == free.get(source).prefix().length) {
            KVCache c = remove(source);
            c.truncate(shared);
            inUse++;
            return c;
        }
        int fit = -1;
        for (int i = 0; i < free.size(); i++) {
            int cap = free.get(i).cache().capacity();
            if (i != source && cap >= need && cap <= 2L * need + ROUND && (fit < 0 || overwriteSooner(free.get(i), free.get(fit)))) fit = i;
        }
        Kept from = source >= 0 ? free.get(source) : null;
        KVCache c = fit >= 0 ? remove(fit) : new KVCache(config, 1, Math.min(ctx, (need + ROUND - 1) / ROUND * ROUND));
        if (from != null) {
            c.copyPrefix(from.cache(), shared);
            // the source was just of use (a system prompt many requests share): it goes last in the order of eviction
            free.remove(from);
            free.add(from);
        } else {
            c.truncate(0);
        }
        inUse++; // counted once the cache exists: a failed allocation takes none
        return c;
    }

    /**
     * Which of two fitting kept caches to empty for a prompt that shares nothing with them: one that holds no prompt
     * positions before one that does (those may serve the next prompt), then the smaller (the larger stays for larger
     * requests); between equals the earlier in {@code free}, the one given back or used longest ago.
     */
    private static boolean overwriteSooner(Kept a, Kept b) {
        boolean aHolds = a.prefix().length > 0, bHolds = b.prefix().length > 0;
        if (aHolds != bHolds) return !aHolds;
        return a.cache().capacity() < b.cache().capacity();
    }

    private KVCache remove(int i) {
        KVCache c = free.remove(i).cache();
        freeBytes -= c.bytes();
        return c;
    }

    /** Takes back a cache no sequence uses any more (null: nothing); it keeps no prompt positions for reuse. */
    void give(KVCache c) {
        give(c, null, 0);
    }

    /**
     * Takes back a cache no sequence uses any more (null: nothing), whose first {@code prefilled} positions hold
     * {@code prompt}'s tokens as a prefill pass wrote them (null or 0: none to reuse).
     */
    void give(KVCache c, int[] prompt, int prefilled) {
        if (c == null) return;
        inUse--;
        if (c.batch() != 1 || c.bytes() > keepBytes) return;
        int kept = prompt == null ? 0 : Math.min(Math.min(prefilled, prompt.length), c.length());
        free.add(new Kept(c, kept == 0 ? new int[0] : java.util.Arrays.copyOf(prompt, kept)));
        freeBytes += c.bytes();
        // the least recently given back or copied from goes first
        while (free.size() > keep || freeBytes > keepBytes) freeBytes -= free.removeFirst().cache().bytes();
    }

    /** Caches taken and not given back yet: those of running sequences, none once all have ended. */
    int inUse() {
        return inUse;
    }

    /** Caches kept. */
    int size() {
        return free.size();
    }
}
