package dev.myllm.server;

import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The model's work in a {@link Scheduler} turn: prompt chunks through a prefill pass
 * ({@link ProductMode#PACKED}), the running sequences through one decode step together
 * ({@link ProductMode#ROWS}, as {@code Generator} does, so each sequence gets bitwise the logits it
 * would get alone), then each sequence picking its token from its row of the logits. Owns the
 * sequences' KV caches and the scheduler thread's outermost arena scope; scheduler thread only.
 */
final class Passes {
    private final ServedModel served;
    private final GPTModel model;
    private final Metrics metrics;
    private final SchedulerTimes times;
    /** Caches of finished sequences for the next ones: up to a batch of them, 512 MB at most. */
    private final CachePool cachePool;
    /** Whether a prompt goes on from a kept cache's positions of its start ({@link CachePool#take(int[], int)}). */
    private final boolean promptCache;
    /**
     * The outermost arena scope, from one prefill pass to the next (null when idle); each step
     * runs in a scope nested in it. The arena always keeps the buffer sizes of the last two
     * outermost scopes, older ones only within its budget ({@link Scheduler#arenaRetainBytes()}):
     * were each decode step outermost, 128 decode steps would push a prefill pass's sizes out of
     * those two.
     */
    private Arena epoch;
    /** Decode batches from which the sequences pick and send their tokens on all the pool's threads. */
    private static final int PARALLEL_ACCEPT = 4;
    /** Each decode step's picking and sending, one object for every turn. */
    private final Accepting picking;

    Passes(ServedModel served, int maxBatch, boolean promptCache, Metrics metrics, SchedulerTimes times) {
        this.served = served;
        this.model = served.model();
        this.metrics = metrics;
        this.times = times;
        this.cachePool = new CachePool(model.config(), maxBatch, 512L << 20);
        this.promptCache = promptCache;
        this.picking = new Accepting(maxBatch, served.eosId(), served.decoder()::bytes);
    }

    /** KV caches taken from the pool by sequences and not given back yet. */
    int cachesInUse() {
        return cachePool.inUse();
    }

    /** Gives a finished sequence's cache back to the pool, with its prefilled prompt positions for the next prompts. */
    void release(Sequence s) {
        cachePool.give(s.cache, s.prompt, s.prefilled);
        s.cache = null;
    }

    /** Gives a sequence's cache back after a failed turn, keeping nothing of it for reuse. */
    void discard(Sequence s) {
        cachePool.give(s.cache);
        s.cache = null;
    }

    /**
     * Gives a sequence starting its prefill a cache, holding the longest start of its prompt that a kept cache has
     * ({@code reuse}), which it then does not prefill again.
     */
    private void takeCache(Sequence s, boolean reuse) {
        s.cache = cachePool.take(reuse ? s.prompt : null, s.cacheTokens());
        s.cached = s.prefilled = s.cache.length();
    }

    /** Starts a new outermost arena scope (before a prefill pass; see {@link #epoch}). */
    private void newEpoch() {
        endEpoch();
        epoch = Arena.open();
    }

    /** Closes the outermost arena scope: nothing runs, or a turn failed. */
    void endEpoch() {
        if (epoch != null) epoch.close();
        epoch = null;
    }

    /**
     * The next chunks of several prompts in one pass ({@link GPTModel#prefillStep}), up to
     * {@code budget} tokens in all: the weights are read (and packed) once for all of them. A prompt
     * that another sequence of the pass also has (the {@code n} choices of a request, the same
     * prompt sent twice at once) runs once: its followers get a copy of the positions it wrote and
     * pick from its logits, the same bits as their own rows would be.
     */
    void prefillTogether(List<Sequence> prefilling, int budget) {
        List<Sequence> seqs = new ArrayList<>();
        List<int[]> chunks = new ArrayList<>();
        List<List<Sequence>> followers = new ArrayList<>();
        for (Sequence s : prefilling) {
            if (s.promptLogprobs) continue;
            int lead = leader(s, seqs);
            if (lead >= 0) {
                if (s.cache == null) takeCache(s, false); // its positions come from the leader's pass
                followers.get(lead).add(s);
                continue;
            }
            if (budget <= 0) continue;
            if (s.cache == null) takeCache(s, promptCache);
            int from = s.prefilled, to = Math.min(s.prompt.length, from + budget);
            budget -= to - from;
            seqs.add(s);
            chunks.add(Arrays.copyOfRange(s.prompt, from, to));
            followers.add(new ArrayList<>(0));
        }
        int n = seqs.size(), vocab = served.vocabSize(), tokens = 0;
        KVCache[] caches = new KVCache[n];
        for (int i = 0; i < n; i++) {
            caches[i] = seqs.get(i).cache;
            tokens += chunks.get(i).length;
        }
        newEpoch();
        long t0 = System.nanoTime();
        // the sequences pick their tokens from the logits in the arena's buffer, before the scope
        // hands it back: no copy of them
        try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
            float[] logits = logits(model.prefillStep(chunks.toArray(new int[0][]), caches), n, vocab);
            long t1 = System.nanoTime();
            metrics.prefilled(tokens, t1 - t0);
            times.prefill(tokens, t1 - t0);
            // every cache filled before any sequence picks: a leader that ends at once gives its cache back
            for (int i = 0; i < n; i++) {
                Sequence s = seqs.get(i);
                s.prefilled += chunks.get(i).length;
                for (Sequence f : followers.get(i)) {
                    f.cache.copyPrefix(s.cache, s.prefilled);
                    f.prefilled = s.prefilled;
                }
            }
            for (int i = 0; i < n; i++) {
                firstPick(seqs.get(i), logits, i * vocab);
                for (Sequence f : followers.get(i)) firstPick(f, logits, i * vocab);
            }
            times.accept(System.nanoTime() - t1);
        }
    }

    /** The sequence of the pass whose prompt is {@code s}'s and holds at least the positions {@code s} does, or -1. */
    private static int leader(Sequence s, List<Sequence> pass) {
        for (int i = 0; i < pass.size(); i++) {
            Sequence l = pass.get(i);
            if (l.prompt.length == s.prompt.length && s.prefilled <= l.prefilled && Arrays.equals(l.prompt, s.prompt)) return i;
        }
        return -1;
    }

    /** After a prefill pass: a sequence whose prompt is done picks its first token from its row of the logits. */
    private void firstPick(Sequence s, float[] logits, int off) {
        if (s.prefilled < s.prompt.length) return;
        s.state = Sequence.State.DECODE;
        metrics.firstToken(System.nanoTime() - s.submittedNanos);
        if (s.sampling.maxTokens() == 0) {
            s.finishNow("length");
            release(s);
        } else if (!s.accept(logits, off, served.vocabSize(), served.eosId(), served.decoder()::bytes)) {
            release(s); // free the slot now
        }
    }

    /** The logits {@code (rows, 1, V)} as one array of {@code rows·V}: the tensor's own when it is exactly that. */
    private static float[] logits(Tensor out, int rows, int vocab) {
        float[] d = out.data();
        return d.length == rows * vocab ? d : java.util.Arrays.copyOf(out.toArray(), rows * vocab);
    }

    void prefill(Sequence s, int chunk) {
        if (s.cache == null) takeCache(s, false); // every prompt position's logits are needed
        int from = s.prefilled, to = Math.min(s.prompt.length, from + chunk), vocab = served.vocabSize();
        float[] logits;
        newEpoch();
        long t0 = System.nanoTime();
        try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
            // echo with logprobs needs every position's logits; the last row is the same either way
            Tensor out = model.forward(Arrays.copyOfRange(s.prompt, from, to), 1, to - from, s.cache, !s.promptLogprobs);
            logits = s.promptLogprobs || to == s.prompt.length ? out.toArray() : null;
        }
        metrics.prefilled(to - from, System.nanoTime() - t0);
        times.prefill(to - from, System.nanoTime() - t0);
        s.prefilled = to;
        if (s.promptLogprobs) {
            if (from == 0) s.promptToken(s.prompt[0], null, -1, vocab);       // the first prompt token has no log-probability
            else s.promptToken(s.prompt[from], s.pendingRow, 0, vocab);       // scored by the previous chunk's last row
            for (int p = from + 1; p < to; p++) s.promptToken(s.prompt[p], logits, (p - 1 - from) * vocab, vocab);
            if (to < s.prompt.length) {
                s.pendingRow = Arrays.copyOfRange(logits, (to - 1 - from) * vocab, (to - from) * vocab); // predicts prompt[to]
                return;
            }
            logits = Arrays.copyOfRange(logits, (to - 1 - from) * vocab, (to - from) * vocab);
        } else if (logits == null) {
            return;
        }
        s.state = Sequence.State.DECODE;
        metrics.firstToken(System.nanoTime() - s.submittedNanos);
        if (s.sampling.maxTokens() == 0) {
            s.finishNow("length");
            release(s);
            return;
        }
        if (!s.accept(logits, 0, vocab, served.eosId(), served.decoder()::bytes)) release(s); // free the slot now
    }

    void decode(List<Sequence> seqs) {
        int b = seqs.size(), vocab = served.vocabSize();
        int[] ids = new int[b];
        KVCache[] caches = new KVCache[b];
        for (int i = 0; i < b; i++) {
            ids[i] = seqs.get(i).next;
            caches[i] = seqs.get(i).cache;
        }
        long t0 = System.nanoTime();
        // each sequence picks its token from the logits in the arena's buffer, before the scope
        // hands it back: copying 8 rows of GPT-2's logits (1.6 MB, a new array) cost about as much
        // as sampling them all
        try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
            float[] logits = logits(model.decodeStep(ids, caches), b, vocab);
            long t1 = System.nanoTime();
            metrics.decodeStep(b, t1 - t0);
            times.decodeStep(b, t1 - t0);
            // several sequences pick and send their tokens on the pool's threads too (each sequence
            // on one thread; their listeners take tokens from any thread): sampling 8 rows and
            // writing their chunks took 1-3 ms of a 25-70 ms step in bench serve --profile, with
            // the second core idle
            boolean spread = b >= PARALLEL_ACCEPT;
            // the pool's workers park now rather than spin: the threads the chunks wake (clients,
            // non-streamed requests' threads) get their core instead of preempting this one
            if (!spread) Parallel.rest();
            boolean[] going = picking.start(seqs, logits, vocab);
            Parallel.forRange(spread ? Math.min(b, Parallel.threads()) : 1, 1, picking);
            if (spread) Parallel.rest();
            for (int i = 0; i < b; i++) if (!going[i]) release(seqs.get(i));
            times.accept(System.nanoTime() - t1);
        }
    }
}
