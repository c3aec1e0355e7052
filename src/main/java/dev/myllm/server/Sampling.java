package dev.myllm.server;

import java.util.List;

/**
 * One request's generation settings, already checked: at most {@code maxTokens} new tokens,
 * temperature (0 = greedy), top-p, top-k (0 = all), seed, OpenAI's presence and frequency
 * penalties, stop strings, and how many top alternatives to report per token ({@code logprobs},
 * −1 = no log-probabilities at all), whether to go on past the end-of-text token (for benchmarks),
 * and OpenAI's {@code logit_bias} (null: none).
 */
record Sampling(int maxTokens, float temperature, float topP, int topK, long seed,
                float presencePenalty, float frequencyPenalty, List<String> stops, int logprobs, boolean ignoreEos,
                LogitBias logitBias) {
    Sampling(int maxTokens, float temperature, float topP, int topK, long seed, float presencePenalty, float frequencyPenalty,
             List<String> stops, int logprobs, boolean ignoreEos) {
        this(maxTokens, temperature, topP, topK, seed, presencePenalty, frequencyPenalty, stops, logprobs, ignoreEos, null);
    }

    /** Values added to the logits of some tokens before a token is picked: {@code values[i]} to token {@code ids[i]}. */
    record LogitBias(int[] ids, float[] values) {
    }

    boolean penalized() {
        return presencePenalty != 0f || frequencyPenalty != 0f;
    }

    /** Whether the logits are changed before a pick (penalties or a bias). */
    boolean adjusted() {
        return penalized() || logitBias != null;
    }

    /** The same settings with another seed (the i-th choice of a request). */
    Sampling withSeed(long s) {
        return new Sampling(maxTokens, temperature, topP, topK, s, presencePenalty, frequencyPenalty, stops, logprobs, ignoreEos, logitBias);
    }

    /** The same settings with other stop strings. */
    Sampling withStops(List<String> s) {
        return new Sampling(maxTokens, temperature, topP, topK, seed, presencePenalty, frequencyPenalty, s, logprobs, ignoreEos, logitBias);
    }
}
