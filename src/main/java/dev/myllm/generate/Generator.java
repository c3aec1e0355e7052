package dev.myllm.generate;

import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Autoregressive text generation (the book's {@code generate}, sections 4.7 and 5.3): run the
 * model on the sequence, pick the next token from the last position's logits, append, repeat.
 *
 * <p>With the KV cache the prompt is run once (prefill) and then one token at a time; once the
 * sequence outgrows the context length, each step re-runs the last {@code contextLength} tokens,
 * exactly as the uncached path does, so both give the same tokens. Each step runs inside its own
 * {@link Arena} without autograd, so steady-state decoding reuses its buffers. Prefill and
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

    private final GPTModel model;
    private final TokenDecoder decoder;

    /** {@code decoder} may be null when no text is wanted (then stop strings cannot be used). */
    public Generator(GPTModel model, TokenDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
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
        // sized for this request only: a full-context cache of gpt2-xl would be 630 MB
        int capacity = (int) Math.min(ctx, (long) prompt.length + config.maxNewTokens());
        KVCache cache = config.useCache() ? new KVCache(model.config(), 1, capacity) : null;
        TextStream text = new TextStream(config.stopStrings(), onText);
        StopReason reason = StopReason.LENGTH;
        long prefill = 0, start = System.nanoTime();
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode g = GradMode.noGrad()) {
            for (int step = 0; step < config.maxNewTokens(); step++) {
                try (Arena a = Arena.open()) {
                    Tensor out;
                    if (cache != null && cache.length() > 0 && cache.remaining() > 0) {
                        try (ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                            out = model.forward(new int[]{seq[len - 1]}, 1, 1, cache, true); // (1, 1, V)
                        }
                    } else {
                        int from = Math.max(0, len - ctx);                               // crop to the context
                        if (cache != null) cache.reset();
                        // with the cache: the kernels a batched server uses too, so its tokens match these
                        try (ProductMode.Scope pm = ProductMode.use(cache != null ? ProductMode.PACKED : ProductMode.current())) {
                            out = model.forward(Arrays.copyOfRange(seq, from, len), 1, len - from, cache, true);
                        }
                    }
                    System.arraycopy(out.data(), 0, logits, 0, vocab);
                }
                int next = sampler.next(logits, 0);
                if (step == 0) prefill = System.nanoTime() - start;
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
        }
        long total = System.nanoTime() - start;
        String all = decoder == null ? "" : text.finish(reason == StopReason.STOP_STRING);
        return new Result(Arrays.copyOfRange(seq, prompt.length, len), all, reason, prompt.length, prefill, total - prefill);
    }
}
