package dev.myllm.generate;

import java.util.List;

/**
 * How to pick each next token and when to stop: at most {@code maxNewTokens}; greedy when
 * {@code temperature} is 0, else sampling at that temperature from the {@code topK} most likely
 * tokens (0 = all) within the smallest set of probability ≥ {@code topP} (1 = all), with a seeded
 * generator; stop at token {@code eosId} (−1 = none) or once the text contains a stop string.
 */
public record GenerationConfig(int maxNewTokens, float temperature, int topK, float topP, long seed,
                               int eosId, List<String> stopStrings, boolean useCache) {
    /** GPT-2's {@code <|endoftext|>} id. */
    public static final int GPT2_EOS = 50256;

    /** Checks every value; a bad one is an {@link IllegalArgumentException} naming it. */
    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (eosId < -1) throw new IllegalArgumentException("eosId must be >= -1 (-1: none), got " + eosId);
        if (stopStrings == null) throw new IllegalArgumentException("stopStrings must not be null (none: an empty list)");
        for (String s : stopStrings) if (s == null) throw new IllegalArgumentException("a stop string must not be null");
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
    }

    /** Greedy decoding of up to {@code maxNewTokens}, no stop token, with the KV cache. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0f, 0, 1f, 0L, -1, List.of(), true);
    }

    /** The same limits, sampling at {@code temperature} (0 = greedy) from the top {@code topK} (0 = all) within top-p {@code topP} (1 = all), seeded. */
    public GenerationConfig withSampling(float temperature, int topK, float topP, long seed) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, eosId, stopStrings, useCache);
    }

    /** The same, stopping at token {@code id} (not kept in the text); −1 for none. */
    public GenerationConfig withEos(int id) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, id, stopStrings, useCache);
    }

    /** The same, stopping once the text contains one of {@code stops} (cut before it); an empty list for none. */
    public GenerationConfig withStopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, eosId, stops, useCache);
    }

    /** The same, with the KV cache on or off (off recomputes every position at each step, slower). */
    public GenerationConfig withCache(boolean on) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, eosId, stopStrings, on);
    }

    /** Whether each next token is the most likely one (temperature 0). */
    public boolean isGreedy() {
        return temperature == 0f;
    }
}
