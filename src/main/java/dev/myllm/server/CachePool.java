package dev.myllm.server;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.KVCache;
import java.util.ArrayList;
import java.util.List;

/**
 * The KV caches of finished sequences, kept for the next ones (scheduler thread only). A new
 * cache is tens of megabytes of fresh arrays for GPT-2 (14 MB for gpt2-small at 192 positions):
 * eight of them per wave of requests made the collector run and the first prefill write into
 * pages the process had never touched, which took longer than the prefill's products. A cache
 * taken again holds stale keys and values past its length, which attention never reads: each
 * position is written before any query sees it, so the results are the same bits as with a new one.
 */
final class CachePool {
    /** Positions a new cache is rounded up to, so caches fit the next requests of about the same size. */
    private static final int ROUND = 64;

    private final GPTConfig config;
    private final int keep;
    private final long keepBytes;
    private final List<KVCache> free = new ArrayList<>();
    private long freeBytes;
    /** Caches handed out and not given back; volatile so that tests can read it from other threads. */
    private volatile int inUse;

    /** Keeps up to {@code keep} caches of at most {@code keepBytes} bytes in all. */
    CachePool(GPTConfig config, int keep, long keepBytes) {
        this.config = config;
        this.keep = keep;
        this.keepBytes = keepBytes;
    }

    /**
     * An empty cache for one sequence of up to {@code tokens} positions: the smallest free one
     * that holds them and is not more than twice the size needed, or a new one.
     */
    KVCache take(int tokens) {
        int ctx = config.contextLength(), need = Math.min(ctx, tokens);
        int best = -1;
        for (int i = 0; i < free.size(); i++) {
            int cap = free.get(i).capacity();
            if (cap >= need && cap <= 2L * need + ROUND && (best < 0 || cap < free.get(best).capacity())) best = i;
        }
        if (best >= 0) {
            KVCache c = free.remove(best);
            freeBytes -= c.bytes();
            c.reset();
            inUse++;
            return c;
        }
        inUse++;
        return new KVCache(config, 1, Math.min(ctx, (need + ROUND - 1) / ROUND * ROUND));
    }

    /** Takes back a cache no sequence uses any more (null: nothing). */
    void give(KVCache c) {
        if (c == null) return;
        inUse--;
        if (c.batch() != 1 || c.bytes() > keepBytes) return;
        free.add(c);
        freeBytes += c.bytes();
        while (free.size() > keep || freeBytes > keepBytes) freeBytes -= free.removeFirst().bytes();
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
