package dev.myllm.server;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Sampler;
import dev.myllm.generate.TextStream;
import dev.myllm.model.KVCache;
import java.util.List;

/**
 * One sequence being generated (one choice of a request): its prompt, its own KV cache while it
 * runs, its own sampler and seed, penalty counts, and the text assembled so far. The scheduler
 * thread alone advances it; other threads only read what the listener hands them and may
 * {@link #cancel()} it.
 */
final class Sequence {
    /** What a sequence reports, on the scheduler thread; implementations must not block. */
    interface Listener {
        /** A new token, the text it completed (may be empty), and its log-probabilities when asked for. */
        void token(Sequence s, int id, String text, TokenLogprob logprob);

        /** A prompt token with its log-probability given the tokens before it (null for the first). */
        void promptToken(Sequence s, int id, TokenLogprob logprob);

        /** The end: {@code reason} is "stop" or "length"; {@code tail} is text held back until now. */
        void finished(Sequence s, String reason, String tail);

        /** The sequence was dropped (cancelled, shut down, or an internal error). */
        void failed(Sequence s, String message);
    }

    /** A token's log-probability and the top alternatives (ids and log-probabilities, best first). */
    record TokenLogprob(float logprob, int[] topIds, float[] topLogprobs) {
    }

    enum State { WAITING, PREFILL, DECODE, DONE }

    final int index;
    final int[] prompt;
    final Sampling sampling;
    final Listener listener;
    final long submittedNanos = System.nanoTime();
    State state = State.WAITING;
    KVCache cache;
    int prefilled;
    /** Prompt positions taken from a kept cache instead of prefilled (set once the sequence has its cache). */
    int cached;
    int next = -1;            // the last sampled token, fed at the next decode step
    int generated;
    long firstTokenNanos;
    private final Sampler sampler;
    private final TextStream text;
    private final StringBuilder pending = new StringBuilder();
    private final int[] counts; // per-token counts for the penalties, or null
    private final float[] scratch;
    private volatile boolean cancelled;
    /** Whether the prompt's tokens are reported with their log-probabilities ({@code echo} with {@code logprobs}). */
    final boolean promptLogprobs;
    /** The logits row that predicts the first token of the next prompt chunk. */
    float[] pendingRow;

    Sequence(int index, int[] prompt, Sampling sampling, int vocab, Listener listener, boolean promptLogprobs) {
        this.index = index;
        this.promptLogprobs = promptLogprobs;
        this.prompt = prompt;
        this.sampling = sampling;
        this.listener = listener;
        GenerationConfig gc = new GenerationConfig(sampling.maxTokens(), sampling.temperature(), sampling.topK(),
                sampling.topP(), sampling.seed(), -1, List.of(), true);
        this.sampler = new Sampler(gc, vocab);
        this.text = new TextStream(sampling.stops(), pending::append);
        this.counts = sampling.penalized() ? new int[vocab] : null;
        this.scratch = sampling.adjusted() ? new float[vocab] : null;
    }

    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** Tokens the cache must hold: the prompt and every new token but the last (never fed back). */
    int cacheTokens() {
        return prompt.length + Math.max(1, sampling.maxTokens());
    }

    /**
     * Picks the next token from this sequence's logits {@code logits[off .. off+V)} and reports it;
     * returns false when the sequence is finished.
     */
    boolean accept(float[] logits, int off, int vocab, int eos, Decoder decoder) {
        double logZ = 0;
        int[] top = null;
        if (sampling.logprobs() >= 0) {
            logZ = logSumExp(logits, off, vocab);
            top = topIds(logits, off, vocab, Math.min(sampling.logprobs(), vocab));
        }
        int id = scratch != null ? sampler.next(adjusted(logits, off, vocab), 0) : sampler.next(logits, off);
        if (generated == 0) firstTokenNanos = System.nanoTime();
        if (id == eos && !sampling.ignoreEos()) return finish("stop", false);
        generated++;
        if (counts != null) counts[id]++;
        next = id;
        // the token that completes a stop string is not reported; the text before it is, at the end
        if (text.add(decoder.bytes(id))) return finish("stop", true);
        TokenLogprob lp = null;
        if (top != null) {
            float[] topLp = new float[top.length];
            for (int j = 0; j < top.length; j++) topLp[j] = (float) (logits[off + top[j]] - logZ);
            lp = new TokenLogprob((float) (logits[off + id] - logZ), top, topLp);
        }
        listener.token(this, id, take(), lp);
        if (generated >= sampling.maxTokens()) return finish("length", false);
        return true;
    }

    /**
     * The row with OpenAI's penalties (logit − count·frequency − (count > 0)·presence) and then
     * {@code logit_bias} applied, in this sequence's scratch row.
     */
    private float[] adjusted(float[] logits, int off, int vocab) {
        if (counts != null) {
            for (int i = 0; i < vocab; i++) {
                int c = counts[i];
                scratch[i] = c == 0 ? logits[off + i] : logits[off + i] - c * sampling.frequencyPenalty() - sampling.presencePenalty();
            }
        } else {
            System.arraycopy(logits, off, scratch, 0, vocab);
        }
        Sampling.LogitBias b = sampling.logitBias();
        if (b != null) for (int i = 0; i < b.ids().length; i++) scratch[b.ids()[i]] += b.values()[i];
        return scratch;
    }

    /** Reports prompt token {@code id}, scored by the logits row at {@code row[off..]} ({@code off < 0}: no score). */
    void promptToken(int id, float[] row, int off, int vocab) {
        TokenLogprob lp = null;
        if (off >= 0) {
            double logZ = logSumExp(row, off, vocab);
            int[] top = topIds(row, off, vocab, Math.min(sampling.logprobs(), vocab));
            float[] topLp = new float[top.length];
            for (int j = 0; j < top.length; j++) topLp[j] = (float) (row[off + top[j]] - logZ);
            lp = new TokenLogprob((float) (row[off + id] - logZ), top, topLp);
        }
        listener.promptToken(this, id, lp);
    }

    /** Ends without generating (max_tokens 0). */
    void finishNow(String reason) {
        finish(reason, false);
    }

    private boolean finish(String reason, boolean stopString) {
        text.finish(stopString);
        state = State.DONE;
        listener.finished(this, reason, take());
        return false;
    }

    private String take() {
        String s = pending.toString();
        pending.setLength(0);
        return s;
    }

    /** {@code log Σ exp(logits)}: log-probabilities are the raw logits minus this (before penalties, bias and temperature). */
    static double logSumExp(float[] logits, int off, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
        double z = 0;
        for (int i = 0; i < vocab; i++) z += Math.exp(logits[off + i] - max);
        return max + Math.log(z);
    }

    /** The ids of the k largest logits, largest first (ties: lower id first). */
    static int[] topIds(float[] logits, int off, int vocab, int k) {
        int[] best = new int[k];
        int n = 0;
        for (int i = 0; i < vocab && k > 0; i++) {
            float x = logits[off + i];
            if (n == k && x <= logits[off + best[k - 1]]) continue;
            int pos = Math.min(n, k - 1);
            while (pos > 0 && logits[off + best[pos - 1]] < x) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = i;
            if (n < k) n++;
        }
        return best;
    }

    /** The bytes of a token id. */
    @FunctionalInterface
    interface Decoder {
        byte[] bytes(int id);
    }
}
