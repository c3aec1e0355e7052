package dev.myllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.tensor.Rng;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code bench serve}'s load generator: streaming completions of random token prompts sent by a
 * fixed pool of client threads to a server on this machine, timing each token's arrival.
 */
final class ServeLoad {
    /** One request's timings (nanoTime): sent, first text, last byte; the gaps between texts; its completion tokens. */
    record Timing(long start, long first, long end, List<Long> gaps, int tokens) {
    }

    /** One wave of requests at one concurrency: each request's timings and the wall time of all. */
    record Run(List<Timing> timings, double wallS) {
        long tokens() {
            long n = 0;
            for (Timing t : timings) n += t.tokens();
            return n;
        }

        double tokensPerS() {
            return tokens() / wallS;
        }
    }

    private static final ObjectMapper CLIENT_JSON = new ObjectMapper();

    private final ExecutorService pool;
    private final int port;
    private final int vocab;

    ServeLoad(ExecutorService pool, int port, int vocab) {
        this.pool = pool;
        this.port = port;
        this.vocab = Math.min(50000, vocab);
    }

    /** A greedy streamed completion of {@code length} random prompt tokens, {@code maxTokens} of them generated whatever comes. */
    String body(Rng rng, int length, int maxTokens) {
        return body(prompt(rng, length, vocab), maxTokens);
    }

    /** {@code length} random token ids below {@code vocab} and 50000. */
    static int[] prompt(Rng rng, int length, int vocab) {
        int[] p = new int[length];
        int below = Math.min(50000, vocab);
        for (int i = 0; i < length; i++) p[i] = rng.nextInt(below);
        return p;
    }

    /** A greedy streamed completion of {@code prompt}, {@code maxTokens} tokens generated whatever comes. */
    static String body(int[] prompt, int maxTokens) {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < prompt.length; i++) ids.append(i == 0 ? "" : ",").append(prompt[i]);
        return "{\"prompt\":[" + ids + "],\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"ignore_eos\":true,"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    }

    /**
     * The first {@code total} of {@code bodies} sent by {@code streams} client threads, each taking
     * the next request as its last one ends.
     */
    Run run(List<String> bodies, int streams, int total) throws Exception {
        return run(bodies::get, streams, total);
    }

    /** {@code total} requests, the r-th one's body {@code bodies.apply(r)}, sent by {@code streams} client threads. */
    Run run(java.util.function.IntFunction<String> bodies, int streams, int total) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Timing> timings = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < streams; w++) {
            workers.add(pool.submit(() -> {
                for (int r; (r = next.getAndIncrement()) < total; ) timings.add(one(port, bodies.apply(r)));
                return null;
            }));
        }
        try {
            for (Future<?> f : workers) f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            for (Future<?> f : workers) f.cancel(true);
            throw e.getCause() instanceof Exception c ? c : e;
        }
        return new Run(List.copyOf(timings), (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Warms every client thread and connection path together, and sizes the server's KV caches
     * and arena for the measured requests: two rounds of one short request per client at once.
     * Cold clients sent their first requests tens of milliseconds apart, so the measured run began
     * with prompts prefilled one or two at a time. The first round's prompts are longer by the
     * tokens they do not generate, so the caches they leave (sized by prompt + max_tokens) have the
     * measured requests' size and the server's pool hands them on (with only short prompts the
     * first measured wave made new ones, for gpt2-small at 128 tokens 8 of 14 MB, and the collector
     * ran in the measured time); the second's have the measured length, whose prefill leaves
     * buffers of the measured prefill's shapes in the server's arena.
     */
    void warmConnections(int streams, int promptTokens, int maxTokens, long seed) throws Exception {
        int warmTokens = Math.min(8, maxTokens);
        Rng rng = new Rng(seed);
        for (int round = 0; round < 2; round++) {
            List<String> bodies = new ArrayList<>();
            int length = round == 0 ? promptTokens + maxTokens - warmTokens : promptTokens;
            for (int w = 0; w < streams; w++) bodies.add(body(rng, length, warmTokens));
            run(bodies, streams, streams);
        }
    }

    /** Tokens per second of one stream once its first token came (as bench generate's decode rate), median over requests. */
    static double decodeRate(List<Timing> timings) {
        List<Double> rates = new ArrayList<>();
        for (Timing t : timings) {
            long sum = 0;
            for (long g : t.gaps()) sum += g;
            if (sum > 0) rates.add(t.gaps().size() / (sum / 1e9));
        }
        if (rates.isEmpty()) return 0;
        Collections.sort(rates);
        return rates.get(rates.size() / 2);
    }

    /** The p-th percentile in milliseconds (nearest rank). */
    static double pct(List<Long> nanos, int p) {
        if (nanos.isEmpty()) return 0;
        List<Long> s = new ArrayList<>(nanos);
        Collections.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i))) / 1e6;
    }

    /** Times to first token of {@code timings} in nanoseconds. */
    static List<Long> ttfts(List<Timing> timings) {
        List<Long> out = new ArrayList<>();
        for (Timing t : timings) out.add(t.first() - t.start());
        return out;
    }

    /** Every gap between two texts of one stream, over {@code timings}, in nanoseconds. */
    static List<Long> gaps(List<Timing> timings) {
        List<Long> out = new ArrayList<>();
        for (Timing t : timings) out.addAll(t.gaps());
        return out;
    }

    /** One streaming request: when each token's chunk arrived, and the completion tokens from the usage chunk. */
    static Timing one(int port, String body) throws Exception {
        ObjectMapper m = CLIENT_JSON;
        long start = System.nanoTime();
        long[] firstLast = new long[2];
        int[] tokens = new int[1];
        List<Long> gaps = new ArrayList<>();
        SseClient.post(port, "/v1/completions", body, line -> {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) return;
            long now = System.nanoTime();
            // the client shares the machine with the server: parse only the chunks that need it
            if (line.contains("\"error\"") || line.contains("\"completion_tokens\"")) {
                JsonNode chunk;
                try {
                    chunk = m.readTree(line.substring(6));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("a chunk that is not JSON: " + line);
                }
                if (chunk.has("error")) throw new IllegalStateException(chunk.get("error").get("message").asText());
                if (chunk.path("usage").has("completion_tokens")) tokens[0] = chunk.get("usage").get("completion_tokens").asInt();
                if (chunk.path("choices").isEmpty() || chunk.get("choices").get(0).get("text").asText().isEmpty()) return;
            } else if (!line.contains("\"text\":\"") || line.contains("\"text\":\"\"")) {
                return; // a chunk without text (a token that completed no character yet)
            }
            if (firstLast[0] == 0) firstLast[0] = now;
            else gaps.add(now - firstLast[1]);
            firstLast[1] = now;
        });
        return new Timing(start, firstLast[0] == 0 ? System.nanoTime() : firstLast[0], System.nanoTime(), gaps, tokens[0]);
    }
}
