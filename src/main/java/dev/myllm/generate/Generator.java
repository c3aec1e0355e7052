package dev.myllm.generate;

import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Autoregressive text generation (the book's {@code generate}, sections 4.7 and 5.3): run the
 * model on the sequence, pick the next token from the last position's logits, append, repeat.
 *
 * <p>With the KV cache the prompt is run once (prefill) and then one token at a time; once the
 * sequence outgrows the context length, each step re-runs the last {@code contextLength} tokens,
 * exactly as the uncached path does, so both give the same tokens. Each step runs inside its own
 * {@link Arena} without autograd, so steady-state decoding reuses its buffers; with the cache the
 * whole call is one outer scope too, so the next call of the same shape finds the prefill's
 * buffers again, and the cache itself is kept for the next call (see {@link #takeCache}). Prefill and
 * decode steps use fixed kernels ({@link ProductMode#PACKED}, {@link ProductMode#ROWS}), the ones
 * the batched server uses, so a served request gives the same tokens as this alone.
 */
public final class Generator {
    /** Why generation ended. */
    public enum StopReason { LENGTH, EOS, STOP_STRING }

    /**
     * The outcome: the new tokens (without a final end-of-text token), their text (cut before a
     * stop string), why it stopped, and the time spent on the first step (prefill) and the rest.
     */
    public record Result(int[] tokens, String text, StopReason stopReason, int promptTokens,
                         long prefillNanos, long decodeNanos) {
    }

    /** Positions a new cache is rounded up to, so it fits the next calls of about the same length. */
    private static final int CACHE_ROUND = 64;

    /**
     * Bytes of new activation buffers after which a call without the cache has the collector run. Without
     * the cache every step is a new length, so its buffers are new arrays that the arena cannot reuse, and
     * they outlive a small young generation (the arena keeps the last two steps' sizes); the parallel
     * collector then grows the old generation for them instead of collecting it, up to the heap's limit
     * ({@code bench generate}'s comparison of 256 tokens on gpt2-small: 2.7 GB of garbage, a peak of
     * 3.4 GiB of resident memory instead of 0.8). A full collection of gpt2-small's heap took 7-10 ms.
     */
    static final long UNCACHED_COLLECT_BYTES = 128L << 20;

    private final GPTModel model;
    private final TokenDecoder decoder;
    /** The cache of the last call and the tokens whose positions its prefill wrote, kept for the next call (null while a call uses it). */
    private final AtomicReference<Kept> spare = new AtomicReference<>();
    private final boolean reusePrompts;
    /** Prompt positions the last call took from the call before it (for tests). */
    private volatile int lastReused;
    /** Bytes of new buffers after which a call without the cache has the collector run ({@link #UNCACHED_COLLECT_BYTES}; tests lower it). */
    long collectEvery = UNCACHED_COLLECT_BYTES;
    /** What collects the garbage of a call without the cache (tests count the calls instead). */
    Runnable collector = System::gc;

    private record Kept(KVCache cache, int[] prefix) {
    }

    /** {@code decoder} may be null when no text is wanted (then stop strings cannot be used). */
    public Generator(GPTModel model, TokenDecoder decoder) {
        this(model, decoder, false);
    }

    /**
     * With {@code reusePrompts}, a call whose prompt starts as the last call's did keeps the positions that call's
     * prefill wrote and prefills only the rest (a chat resending its conversation with one more turn). The results are
     * the same bits: a prefill gives each position the same bits however the prompt is cut into passes, and the
     * positions of generated tokens (decode steps, other kernels) are not reused. Benchmarks that repeat one prompt
     * leave it off, so that every call measures its prefill.
     */
    public Generator(GPTModel model, TokenDecoder decoder, boolean reusePrompts) {
        this.model = model;
        this.decoder = decoder;
        this.reusePrompts = reusePrompts;
    }

    /** Generates without streaming. */
    public Result generate(int[] prompt, GenerationConfig config) {
        return generate(prompt, config, null);
    }

    /**
     * Generates from {@code prompt} (cropped to its last context-length tokens), passing each new
     * piece of text to {@code onText} as soon as it is complete (never half a UTF-8 character,
     * never text that might turn out to begin a stop string).
     */
    public Result generate(int[] prompt, GenerationConfig config, Consumer<String> onText) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty: give at least one token");
        if (decoder == null && !config.stopStrings().isEmpty()) throw new IllegalArgumentException("stop strings need a token decoder");
        int ctx = model.config().contextLength(), vocab = model.config().vocabSize();
        int[] seq = new int[prompt.length + config.maxNewTokens()];
        System.arraycopy(prompt, 0, seq, 0, prompt.length);
        int len = prompt.length;
        Sampler sampler = new Sampler(config, vocab);
        float[] logits = new float[vocab];
        KVCache cache = config.useCache() ? takeCache(prompt, (int) Math.min(ctx, (long) prompt.length + config.maxNewTokens())) : null;
        int[] prefix = cache == null ? null : Arrays.copyOf(prompt, cache.length()); // what the cache's positions hold from a prefill
        lastReused = cache == null ? 0 : cache.length();
        boolean prefilled = false;
        TextStream text = new TextStream(config.stopStrings(), onText);
        StopReason reason = StopReason.LENGTH;
        long prefill = 0, start = System.nanoTime();
        long collected = Arena.allocatedFloats(); // new buffers up to the last collection (without the cache)
        boolean wasTraining = model.isTraining();
        model.eval();
        // with the cache, one scope around the call: its steps' shapes are few (the prompt, one
        // token, the context), so the pool keeps them all for the next call; without it every step
        // is a new length, and each step's own scope lets the pool forget the old ones
        try (GradMode g = GradMode.noGrad(); Arena call = cache != null ? Arena.open() : null) {
            for (int step = 0; step < config.maxNewTokens(); step++) {
                try (Arena a = Arena.open()) {
                    Tensor out;
                    if (cache != null && prefilled && cache.remaining() > 0) {
                        try (ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                            out = model.forward(new int[]{seq[len - 1]}, 1, 1, cache, true); // (1, 1, V)
                        }
                    } else {
                        int from = Math.max(0, len - ctx);                               // crop to the context
                        // the first prefill goes on from the positions kept from the last call (none when cropped)
                        int kept = cache != null && !prefilled && from == 0 ? cache.length() : 0;
                        if (cache != null) cache.truncate(kept);
                        // with the cache: the kernels a batched server uses too, so its tokens match these
                        try (ProductMode.Scope pm = ProductMode.use(cache != null ? ProductMode.PACKED : ProductMode.current())) {
                            out = model.forward(Arrays.copyOfRange(seq, from + kept, len), 1, len - from - kept, cache, true);
                        }
                        if (cache != null) {
                            prefix = Arrays.copyOfRange(seq, from, len);
                            prefilled = true;
                        }
                    }
                    System.arraycopy(out.data(), 0, logits, 0, vocab);
                }
                int next = sampler.next(logits, 0);
                if (step == 0) prefill = System.nanoTime() - start;
                // without the cache the step's scope has closed and the step before last's sizes are
                // forgotten: collected every so many bytes, their arrays do not pile up in the old generation
                if (cache == null && Arena.allocatedFloats() - collected >= collectEvery / Float.BYTES) {
                    collector.run();
                    collected = Arena.allocatedFloats();
                }
                if (next == config.eosId()) {
                    reason = StopReason.EOS;
                    break;
                }
                seq[len++] = next;
                if (decoder != null && text.add(decoder.bytes(next))) {
                    reason = StopReason.STOP_STRING;
                    break;
                }
            }
        } finally {
            model.train(wasTraining);
            if (cache != null) spare.set(new Kept(cache, Arrays.copyOf(prefix, Math.min(prefix.length, cache.length()))));
        }
        long total = System.nanoTime() - start;
        String all = decoder == null ? "" : text.finish(reason == StopReason.STOP_STRING);
        return new Result(Arrays.copyOfRange(seq, prompt.length, len), all, reason, prompt.length, prefill, total - prefill);
    }

    /** Prompt positions the last call took from the one before it instead of prefilling them (for tests). */
    int lastReused() {
        return lastReused;
    }

    /** The cache kept for the next call, or null (for tests). */
    KVCache keptCache() {
        Kept k = spare.get();
        return k == null ? null : k.cache();
    }

    /**
     * A cache of at least {@code capacity} positions for {@code prompt}: the last call's when it is large enough, else a
     * new one rounded up to {@link #CACHE_ROUND} positions (at most the context). With {@link #reusePrompts} it holds
     * the positions of the longest start the prompt shares with what the last call prefilled (never the prompt's last
     * one, whose logits the call needs), copied when the cache is new; otherwise it is empty. A cache kept across calls
     * outlives the young generation's collections and moves to the old one, where it is no longer copied at each
     * collection; a new multi-megabyte cache per call was. Stale keys and values past the length are never read (each
     * position is written before a query sees it), so a reused cache gives the same bits as a new one. Each call takes
     * the cache for itself, so calls on several threads at once each have their own.
     */
    private KVCache takeCache(int[] prompt, int capacity) {
        Kept k = spare.getAndSet(null);
        int shared = 0;
        if (reusePrompts && k != null && prompt.length <= model.config().contextLength()) shared = KVCache.reusable(k.prefix(), prompt);
        if (k != null && k.cache().capacity() >= capacity) {
            k.cache().truncate(shared);
            return k.cache();
        }
        // sized for about this request, not the full context: a full-context cache of gpt2-xl is 630 MB
        int ctx = model.config().contextLength();
        KVCache c = new KVCache(model.config(), 1, Math.min(ctx, (capacity + CACHE_ROUND - 1) / CACHE_ROUND * CACHE_ROUND));
        if (shared > 0) c.copyPrefix(k.cache(), shared);
        return c;
    }
}
