package dev.myllm.server;

import java.time.Duration;

/**
 * How a server listens and what it allows: address, API key (null: none), batch and queue sizes,
 * the prompt chunk prefilled between decode steps, request body, {@code max_tokens} and {@code n}
 * caps, the time one request may take, how long an idle connection stays open, how long a
 * shutdown waits for running requests, whether prompts are logged, the connection cap, and whether
 * a prompt that starts as an earlier one did reuses the positions that one's prefill left in a kept
 * KV cache (the same answers to the bit; off for benchmarks that send the same prompts again).
 */
public record ServerConfig(String host, int port, String apiKey, int maxBatch, int maxQueue, int prefillChunk,
                           int maxBodyBytes, int maxTokens, int maxN, Duration requestTimeout, Duration idleTimeout,
                           Duration grace, boolean logPrompts, int maxConnections, boolean promptCache) {
    public ServerConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
        if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("max body must be >= 1024 bytes, got " + maxBodyBytes);
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        if (maxN < 1) throw new IllegalArgumentException("max n must be >= 1, got " + maxN);
        if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("the API key must not be empty");
    }

    /** The settings with kept prompt prefixes (the constructor before {@code promptCache} was added). */
    public ServerConfig(String host, int port, String apiKey, int maxBatch, int maxQueue, int prefillChunk, int maxBodyBytes,
                        int maxTokens, int maxN, Duration requestTimeout, Duration idleTimeout, Duration grace, boolean logPrompts,
                        int maxConnections) {
        this(host, port, apiKey, maxBatch, maxQueue, prefillChunk, maxBodyBytes, maxTokens, maxN, requestTimeout, idleTimeout, grace,
                logPrompts, maxConnections, true);
    }

    /** Loopback only, port 8080, no key, 16 sequences at a time, 64 queued, 1 MiB bodies, 5-minute requests, prompt prefixes reused. */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, null, 16, 64, 64, 1 << 20, 4096, 8,
                Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofSeconds(10), false, 512, true);
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, apiKey, maxBatch, maxQueue, prefillChunk, maxBodyBytes, maxTokens, maxN,
                requestTimeout, idleTimeout, grace, logPrompts, maxConnections, promptCache);
    }

    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, key, maxBatch, maxQueue, prefillChunk, maxBodyBytes, maxTokens, maxN,
                requestTimeout, idleTimeout, grace, logPrompts, maxConnections, promptCache);
    }

    public ServerConfig withBatch(int batch, int queue) {
        return new ServerConfig(host, port, apiKey, batch, queue, prefillChunk, maxBodyBytes, maxTokens, maxN,
                requestTimeout, idleTimeout, grace, logPrompts, maxConnections, promptCache);
    }

    public ServerConfig withTimeouts(Duration request, Duration idle, Duration graceTime) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxQueue, prefillChunk, maxBodyBytes, maxTokens, maxN,
                request, idle, graceTime, logPrompts, maxConnections, promptCache);
    }

    public ServerConfig withLimits(int body, int tokens, int n) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxQueue, prefillChunk, body, tokens, n,
                requestTimeout, idleTimeout, grace, logPrompts, maxConnections, promptCache);
    }

    public ServerConfig withPromptCache(boolean reuse) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxQueue, prefillChunk, maxBodyBytes, maxTokens, maxN,
                requestTimeout, idleTimeout, grace, logPrompts, maxConnections, reuse);
    }
}
