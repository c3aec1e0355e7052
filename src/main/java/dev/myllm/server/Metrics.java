package dev.myllm.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The server's counters and gauges, written out in Prometheus' text format at {@code /metrics}; not final so that a test can watch the order of its updates. */
class Metrics {
    private static final double[] TTFT_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final Map<String, LongAdder> requests = new TreeMap<>(); // "endpoint status" → count, guarded by itself
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder completionTokens = new LongAdder();
    private final LongAdder prefillTokens = new LongAdder();
    private final LongAdder cachedTokens = new LongAdder();
    private final LongAdder decodeSteps = new LongAdder();
    private final LongAdder decodeRows = new LongAdder();
    private final LongAdder decodeNanos = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final long[] ttftBuckets = new long[TTFT_BUCKETS.length];
    private long ttftCount;
    private double ttftSum;
    private final AtomicLong queue = new AtomicLong();
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong lastBatch = new AtomicLong();
    // tokens/s over a sliding window of recent decode steps
    private final long[] windowTokens = new long[64];
    private final long[] windowNanos = new long[64];
    private int windowAt;

    /** One answered request: its prompt tokens, of which {@code cached} came from a kept cache, and its completion tokens. */
    void request(String endpoint, int status, int prompt, int completion, int cached) {
        synchronized (requests) {
            requests.computeIfAbsent(endpoint + " " + status, k -> new LongAdder()).increment();
        }
        promptTokens.add(prompt);
        completionTokens.add(completion);
        cachedTokens.add(cached);
    }

    void queued(int n) {
        queue.set(n);
    }

    void active(int n) {
        active.set(n);
    }

    void cancelled() {
        cancelled(1);
    }

    void cancelled(int n) {
        cancelled.add(n);
    }

    /** Sequences an internal error ended (a scheduler turn that threw). */
    void failed(int n) {
        failed.add(n);
    }

    void prefilled(int tokens, long nanos) {
        prefillTokens.add(tokens);
    }

    synchronized void decodeStep(int batch, long nanos) {
        decodeSteps.increment();
        decodeRows.add(batch);
        decodeNanos.add(nanos);
        lastBatch.set(batch);
        windowTokens[windowAt] = batch;
        windowNanos[windowAt] = nanos;
        windowAt = (windowAt + 1) % windowTokens.length;
    }

    synchronized void firstToken(long nanos) {
        double s = nanos / 1e9;
        for (int i = 0; i < TTFT_BUCKETS.length; i++) if (s <= TTFT_BUCKETS[i]) ttftBuckets[i]++;
        ttftCount++;
        ttftSum += s;
    }

    /** The Prometheus exposition text. */
    synchronized String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP myllm_requests_total HTTP requests by endpoint and status.\n# TYPE myllm_requests_total counter\n");
        synchronized (requests) {
            for (var e : requests.entrySet()) {
                String[] k = e.getKey().split(" ");
                sb.append("myllm_requests_total{endpoint=\"").append(k[0]).append("\",status=\"").append(k[1]).append("\"} ")
                        .append(e.getValue().sum()).append('\n');
            }
        }
        counter(sb, "myllm_prompt_tokens_total", "Prompt tokens of answered requests.", promptTokens.sum());
        counter(sb, "myllm_completion_tokens_total", "Generated tokens of answered requests.", completionTokens.sum());
        counter(sb, "myllm_prefill_tokens_total", "Prompt tokens run through the model.", prefillTokens.sum());
        counter(sb, "myllm_prompt_tokens_cached_total", "Prompt tokens of answered requests reused from a kept KV cache (their usage.prompt_tokens_details.cached_tokens).", cachedTokens.sum());
        counter(sb, "myllm_decode_steps_total", "Batched decode steps.", decodeSteps.sum());
        counter(sb, "myllm_decode_tokens_total", "Tokens decoded in batched steps (sum of batch sizes).", decodeRows.sum());
        counter(sb, "myllm_cancelled_sequences_total", "Sequences dropped before they finished (client gone, time limit).", cancelled.sum());
        counter(sb, "myllm_failed_sequences_total", "Sequences dropped by an internal error (the server's log says which).", failed.sum());
        gauge(sb, "myllm_queue_length", "Sequences waiting for a slot.", queue.get());
        gauge(sb, "myllm_active_sequences", "Sequences holding a slot (prefilling or decoding).", active.get());
        gauge(sb, "myllm_batch_size", "Sequences in the last decode step.", lastBatch.get());
        long tok = 0, ns = 0;
        for (int i = 0; i < windowTokens.length; i++) {
            tok += windowTokens[i];
            ns += windowNanos[i];
        }
        sb.append("# HELP myllm_decode_tokens_per_second Tokens per second of model time over the last 64 decode steps.\n")
                .append("# TYPE myllm_decode_tokens_per_second gauge\n")
                .append("myllm_decode_tokens_per_second ").append(ns == 0 ? 0 : String.format(java.util.Locale.ROOT, "%.3f", tok / (ns / 1e9))).append('\n');
        sb.append("# HELP myllm_time_to_first_token_seconds From arrival to the first generated token.\n")
                .append("# TYPE myllm_time_to_first_token_seconds histogram\n");
        for (int i = 0; i < TTFT_BUCKETS.length; i++) {
            sb.append("myllm_time_to_first_token_seconds_bucket{le=\"").append(TTFT_BUCKETS[i]).append("\"} ").append(ttftBuckets[i]).append('\n');
        }
        sb.append("myllm_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").append(ttftCount).append('\n')
                .append("myllm_time_to_first_token_seconds_sum ").append(String.format(java.util.Locale.ROOT, "%.6f", ttftSum)).append('\n')
                .append("myllm_time_to_first_token_seconds_count ").append(ttftCount).append('\n');
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(v).append('\n');
    }
}
