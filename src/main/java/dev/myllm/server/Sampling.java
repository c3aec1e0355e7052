package dev.myllm.server;

import java.util.List;

/**
 * One request's generation settings, already checked: at most {@code maxTokens} new tokens,
 * temperature (0 = greedy), top-p, top-k (0 = all), seed, OpenAI's presence and frequency
 * penalties, stop strings, and how many top alternatives to report per token ({@code logprobs},
 * −1 = no log-probabilities at all), and whether to go on past the end-of-text token (for benchmarks).
 */
record Sampling(int maxTokens, float temperature, float topP, int topK, long seed,
                float presencePenalty, float frequencyPenalty, List<String> stops, int logprobs, boolean ignoreEos) {
    boolean penalized() {
        return presencePenalty != 0f || frequencyPenalty != 0f;
    }
}
