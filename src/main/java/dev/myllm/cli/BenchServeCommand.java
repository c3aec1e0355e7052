package dev.myllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.generate.Generator;
import dev.myllm.server.OpenAiServer;
import dev.myllm.server.ServedModel;
import dev.myllm.server.SchedulerProfile;
import dev.myllm.server.ServerConfig;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.StepProfile;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code myllm bench serve}: starts the server in this process and drives it over HTTP with
 * {@code --concurrency} streaming clients; reports aggregate output tokens/s, time to first
 * token and inter-token latency.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Load-test the OpenAI server in-process over HTTP: N concurrent streaming completions of random prompts.",
                "Reports output tokens/s over all streams, time to first token and inter-token latency (p50, p99)."})
final class BenchServeCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--concurrency", defaultValue = "1", paramLabel = "N", description = "Concurrent streams, default ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--requests", paramLabel = "M", description = "Requests in all (default: 2 per stream, at least 4).")
    Integer requests;

    @Option(names = "--prompt-tokens", defaultValue = "64", paramLabel = "P", description = "Prompt length in tokens, default ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--max-tokens", defaultValue = "128", paramLabel = "K", description = "Tokens generated per request, default ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--max-batch", paramLabel = "N", description = "The server's --max-batch (default: the concurrency, at least 16).")
    Integer maxBatch;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, description = "Seed of a preset's weights and of the prompts, default ${DEFAULT-VALUE}.")
    long seed;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--generate-runs", defaultValue = "7", paramLabel = "R",
            description = "Before the server starts, time what bench generate times on the same model and shape (R runs after a warm-up, "
                    + "the first request's prompt), to report the server's tokens/s as a share of it; 0 skips it. Default ${DEFAULT-VALUE}.")
    int generateRuns;

    @Option(names = "--profile", description = "Also report where the scheduler's time went (prefill, decode steps by batch size, "
            + "picking and sending tokens, the rest) and the decode steps' matrix products.")
    boolean profile;

    @Spec
    CommandSpec spec;

    /** One request's timings. */
    private record Timing(long start, long first, long end, List<Long> gaps, int tokens) {
    }

    /** Tokens per second of one stream once its first token came (as bench generate's decode rate), median over requests. */
    private static double decodeRate(List<Timing> timings) {
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

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        if (concurrency < 1) throw new CliException("--concurrency must be >= 1, got " + concurrency);
        int total = requests != null ? requests : Math.max(4, 2 * concurrency);
        if (total < 1) throw new CliException("--requests must be >= 1, got " + total);
        if (promptTokens < 1) throw new CliException("--prompt-tokens must be >= 1, got " + promptTokens);
        if (maxTokens < 1) throw new CliException("--max-tokens must be >= 1, got " + maxTokens);
        if (generateRuns < 0) throw new CliException("--generate-runs must be >= 0, got " + generateRuns);
        ServedModel served = ServeCommand.load(model, weights, tokenizer, seed, "bench");
        if (promptTokens + maxTokens > served.contextLength()) {
            throw new CliException("--prompt-tokens + --max-tokens = " + (promptTokens + maxTokens) + " exceeds the context length " + served.contextLength());
        }
        int batch = maxBatch != null ? maxBatch : Math.max(16, concurrency);
        ServerConfig config = ServerConfig.defaults().withPort(0).withBatch(batch, Math.max(64, total))
                .withLimits(1 << 20, Math.max(4096, maxTokens), 8)
                .withTimeouts(Duration.ofHours(1), Duration.ofMinutes(5), Duration.ofSeconds(1));
        Rng rng = new Rng(seed + 1);
        List<String> bodies = new ArrayList<>();
        int[] firstPrompt = null;
        for (int r = 0; r < total; r++) {
            StringBuilder ids = new StringBuilder();
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = rng.nextInt(Math.min(50000, served.vocabSize()));
                ids.append(i == 0 ? "" : ",").append(prompt[i]);
            }
            if (firstPrompt == null) firstPrompt = prompt;
            bodies.add("{\"prompt\":[" + ids + "],\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"ignore_eos\":true,"
                    + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        }
        if (!json) {
            out.printf("bench serve: %s, %d streams, %d requests, prompt %d, max tokens %d, max batch %d, threads %d%n",
                    model.label(), concurrency, total, promptTokens, maxTokens, batch, Parallel.threads());
            out.flush();
        }
        // the same process, model, threads and shape as the server's run: the ratio does not move
        // with the JVM or the minute, as a comparison with a separate bench generate run does
        ThreadCpu genCpu = ThreadCpu.now();
        Parallel.Stats genPool = Parallel.stats();
        BenchGenerateCommand.Decoding alone = generateRuns == 0 ? null
                : BenchGenerateCommand.measure(new Generator(served.model(), null), firstPrompt, maxTokens, generateRuns);
        genPool = Parallel.stats().since(genPool);
        genCpu = ThreadCpu.now().since(genCpu);
        if (alone != null && !json) {
            out.printf("  generate alone     %.2f tokens/s, prefill included (decode %.2f tokens/s, median of %d runs; bench generate's loop)%n",
                    alone.tokensPerS(), alone.decodeTokensPerS(), generateRuns);
            out.flush();
        }
        try (OpenAiServer server = new OpenAiServer(served, config, line -> { })) {
            try {
                server.start();
            } catch (Exception e) {
                throw new CliException("cannot start the server: " + Errors.oneLine(e));
            }
            server.warmUp();
            int port = server.port();
            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            try {
                // warm up every client thread and connection path together (short requests): cold
                // clients send their first requests tens of milliseconds apart, so the measured run
                // would start with prompts prefilled one or two at a time instead of all together
                // Two rounds: first prompts longer by the tokens they do not generate, so the KV
                // caches they leave (sized by prompt + max_tokens) have the measured requests' size
                // and the server's pool hands them on (with only short prompts the first measured
                // wave made new ones, for gpt2-small at 128 tokens 8 of 14 MB, and the collector ran
                // in the measured time); then the measured prompts' own length, whose prefill
                // leaves buffers of the measured prefill's shapes in the server's arena.
                int warmTokens = Math.min(8, maxTokens);
                Rng warmRng = new Rng(seed + 2);
                for (int round = 0; round < 2; round++) {
                    List<Future<Timing>> warm = new ArrayList<>();
                    for (int w = 0; w < concurrency; w++) {
                        StringBuilder ids = new StringBuilder();
                        int length = round == 0 ? promptTokens + maxTokens - warmTokens : promptTokens;
                        for (int i = 0; i < length; i++) ids.append(i == 0 ? "" : ",").append(warmRng.nextInt(Math.min(50000, served.vocabSize())));
                        String body = "{\"prompt\":[" + ids + "],\"max_tokens\":" + warmTokens + ",\"temperature\":0,\"ignore_eos\":true,"
                                + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
                        warm.add(pool.submit(() -> one(port, body)));
                    }
                    for (Future<Timing> f : warm) f.get();
                }
            } catch (Exception e) {
                pool.shutdownNow();
                throw new CliException("the warm-up request failed: " + Errors.oneLine(e.getCause() != null ? e.getCause() : e));
            }
            SchedulerProfile before = server.schedulerProfile();
            Parallel.Stats poolBefore = Parallel.stats();
            ThreadCpu cpuBefore = ThreadCpu.now();
            if (profile) server.profileProducts();
            AtomicInteger next = new AtomicInteger();
            List<Timing> timings = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                workers.add(pool.submit(() -> {
                    for (int r; (r = next.getAndIncrement()) < total; ) timings.add(one(port, bodies.get(r)));
                    return null;
                }));
            }
            ThreadCpu cpuAfter;
            try {
                for (Future<?> f : workers) f.get();
                cpuAfter = ThreadCpu.now(); // while the load generator's threads are alive
            } catch (Exception e) {
                throw new CliException("a request failed: " + Errors.oneLine(e.getCause() != null ? e.getCause() : e));
            } finally {
                pool.shutdownNow();
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            StepProfile.stop();
            SchedulerProfile p = profile ? server.schedulerProfile().since(before) : null;
            report(out, timings, wall, total, p, Parallel.stats().since(poolBefore), alone);
            if (profile && !json) {
                long tokens = 0;
                for (Timing t : timings) tokens += t.tokens();
                if (alone != null) {
                    printPool(out, "generate alone", genPool);
                    genCpu.print(out, "generate alone", (long) (1 + generateRuns) * maxTokens);
                }
                cpuAfter.since(cpuBefore).print(out, "server", tokens);
                out.flush();
            }
        }
        if (profile && alone != null && !json) {
            // the same loop once more, with the code the JIT compiled for the server: slower than
            // before the server points at the code (profiles of several batch sizes), as fast at
            // the server's threads (its request threads and the load generator's, on the same cores)
            BenchGenerateCommand.Decoding again = BenchGenerateCommand.measure(new Generator(served.model(), null), firstPrompt, maxTokens,
                    generateRuns);
            out.printf("  generate again     %.2f tokens/s after the server (decode %.2f tokens/s; before it %.2f and %.2f)%n",
                    again.tokensPerS(), again.decodeTokensPerS(), alone.tokensPerS(), alone.decodeTokensPerS());
            out.flush();
        }
    }

    private void report(PrintWriter out, List<Timing> timings, double wall, int total, SchedulerProfile p, Parallel.Stats pool,
                        BenchGenerateCommand.Decoding alone) {
        long tokens = 0;
        List<Long> ttft = new ArrayList<>(), gaps = new ArrayList<>();
        for (Timing t : timings) {
            tokens += t.tokens();
            ttft.add(t.first() - t.start());
            gaps.addAll(t.gaps());
        }
        double tps = tokens / wall, decode = decodeRate(timings);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", model.label()).put("concurrency", concurrency).put("requests", total).put("prompt_tokens", promptTokens)
                    .put("max_tokens", maxTokens).put("completion_tokens", tokens).put("wall_s", wall).put("tokens_per_s", tps)
                    .put("per_stream_tokens_per_s", tps / concurrency).put("decode_tokens_per_s", decode)
                    .put("ttft_p50_ms", pct(ttft, 50)).put("ttft_p99_ms", pct(ttft, 99))
                    .put("itl_p50_ms", pct(gaps, 50)).put("itl_p99_ms", pct(gaps, 99)).put("threads", Parallel.threads());
            if (alone != null) {
                o.put("generate_tokens_per_s", alone.tokensPerS()).put("ratio_to_generate", tps / alone.tokensPerS())
                        .put("generate_decode_tokens_per_s", alone.decodeTokensPerS()).put("generate_prefill_s", alone.prefillS())
                        .put("decode_ratio_to_generate", decode / alone.decodeTokensPerS());
            }
            if (p != null) {
                ObjectNode pj = o.putObject("profile");
                pj.put("turns", p.turns()).put("prefill_passes", p.prefillPasses()).put("prefill_tokens", p.prefillTokens()).put("prefill_s", p.prefillNanos() / 1e9)
                        .put("decode_steps", p.decodeSteps()).put("decode_rows", p.decodeRows()).put("decode_s", p.decodeNanos() / 1e9)
                        .put("accept_s", p.acceptNanos() / 1e9).put("other_s", p.otherNanos() / 1e9).put("idle_s", p.idleNanos() / 1e9);
                ObjectNode steps = pj.putObject("step_ms_by_batch");
                for (int b = 1; b < p.stepsByBatch().length; b++) if (p.stepsByBatch()[b] > 0) steps.put(Integer.toString(b), p.stepMillis(b));
                pj.put("pool_loops", pool.jobs()).put("pool_ranges", pool.ranges()).put("pool_ranges_by_caller", pool.rangesByCaller())
                        .put("pool_wait_s", pool.waitNanos() / 1e9);
            }
            out.println(o);
        } else {
            out.printf("  output tokens      %d in %.2f s: %.2f tokens/s (%.2f per stream)%n", tokens, wall, tps, tps / concurrency);
            out.printf("  time to 1st token  p50 %.1f ms, p99 %.1f ms%n", pct(ttft, 50), pct(ttft, 99));
            out.printf("  inter-token        p50 %.1f ms, p99 %.1f ms%n", pct(gaps, 50), pct(gaps, 99));
            out.printf("  decode per stream  %.2f tokens/s after the first token (median over requests; bench generate's decode rate)%n",
                    decode);
            if (alone != null) printRatio(out, tps, decode, alone);
            if (p != null) printProfile(out, p, wall, pool);
        }
        out.flush();
    }

    /** The server's tokens/s beside generate's in this process: a share for one stream, a multiple for several. */
    private void printRatio(PrintWriter out, double tps, double decode, BenchGenerateCommand.Decoding alone) {
        if (concurrency == 1) {
            out.printf("  one stream: %.2f tokens/s = %.1f%% of generate alone (%.2f tokens/s, same process); decode %.1f%% (%.2f of %.2f)%n",
                    tps, 100 * tps / alone.tokensPerS(), alone.tokensPerS(), 100 * decode / alone.decodeTokensPerS(), decode,
                    alone.decodeTokensPerS());
        } else {
            out.printf("  %d streams: %.2f tokens/s = %.2fx generate alone (%.2f tokens/s, same process); per stream decode %.1f%% of it%n",
                    concurrency, tps, tps / alone.tokensPerS(), alone.tokensPerS(), 100 * decode / alone.decodeTokensPerS());
        }
    }

    /** The scheduler's time split over the run, decode step times by batch size, and the heaviest products. */
    private static void printProfile(PrintWriter out, SchedulerProfile p, double wall, Parallel.Stats pool) {
        out.printf("  scheduler (%.2f s of wall time, %d turns):%n", wall, p.turns());
        out.printf("    prefill          %7.3f s  %d prompt tokens (%.1f tokens/s) in %d passes (mean %.0f rows)%n", p.prefillNanos() / 1e9,
                p.prefillTokens(), p.prefillNanos() == 0 ? 0 : p.prefillTokens() / (p.prefillNanos() / 1e9), p.prefillPasses(),
                p.prefillPasses() == 0 ? 0 : (double) p.prefillTokens() / p.prefillPasses());
        out.printf("    decode steps     %7.3f s  %d steps, %d rows (mean batch %.1f)%n", p.decodeNanos() / 1e9, p.decodeSteps(), p.decodeRows(),
                p.decodeSteps() == 0 ? 0 : (double) p.decodeRows() / p.decodeSteps());
        out.printf("    pick and send    %7.3f s  sampling, detokenizing, handing tokens to the request threads%n", p.acceptNanos() / 1e9);
        out.printf("    rest of turns    %7.3f s%n", p.otherNanos() / 1e9);
        out.printf("    idle             %7.3f s%n", p.idleNanos() / 1e9);
        StringBuilder sb = new StringBuilder("    ms per decode step by batch size:");
        for (int b = 1; b < p.stepsByBatch().length; b++) {
            if (p.stepsByBatch()[b] > 0) sb.append(String.format(java.util.Locale.ROOT, " %d: %.1f (%d)", b, p.stepMillis(b), p.stepsByBatch()[b]));
        }
        out.println(sb);
        printPool(out, "server", pool);
        List<StepProfile.Entry> entries = StepProfile.entries();
        if (!entries.isEmpty()) {
            out.println("    heaviest calls on the scheduler thread (prefill M > 16 rows, decode M = batch):");
            for (int i = 0; i < Math.min(20, entries.size()); i++) {
                StepProfile.Entry e = entries.get(i);
                out.printf("      %-34s %6d calls %8.3f s %8.1f GFLOP/s%n", e.label(), e.calls(), e.nanos() / 1e9, e.gflops());
            }
        }
    }

    /** The pool's share of work: a worker that starts late shows as ranges the dispatcher ran itself and as waits. */
    private static void printPool(PrintWriter out, String who, Parallel.Stats pool) {
        // a worker that starts late (parked, or a core taken by the request threads) shows as ranges
        // the dispatching thread ran itself beyond its share, and as waits for ranges still running
        out.printf("    thread pool (%s) %d loops split over threads, %.0f%% of their ranges run by the dispatching thread, %.3f s waiting for the others%n",
                who, pool.jobs(), pool.ranges() == 0 ? 0 : 100.0 * pool.rangesByCaller() / pool.ranges(), pool.waitNanos() / 1e9);
    }

    /**
     * CPU time of this process's threads, grouped by name with the numbers taken out (the
     * scheduler, the pool's workers, the HTTP server's carriers, the load generator's threads):
     * what a token costs on each, beside the model's own work.
     */
    private record ThreadCpu(java.util.Map<Long, String> names, java.util.Map<Long, Long> nanos, long process) {
        static ThreadCpu now() {
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            java.util.Map<Long, String> names = new java.util.HashMap<>();
            java.util.Map<Long, Long> nanos = new java.util.HashMap<>();
            for (java.lang.management.ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (ti == null) continue;
                long t = mx.getThreadCpuTime(ti.getThreadId());
                if (t < 0) continue;
                names.put(ti.getThreadId(), ti.getThreadName().replaceAll("[@{].*", "").replaceAll("\\d+", "N"));
                nanos.put(ti.getThreadId(), t);
            }
            long process = java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                    ? os.getProcessCpuTime() : -1;
            return new ThreadCpu(names, nanos, process);
        }

        /** CPU spent since {@code earlier}, per thread (threads started since count from zero). */
        ThreadCpu since(ThreadCpu earlier) {
            java.util.Map<Long, Long> d = new java.util.HashMap<>();
            for (var e : nanos.entrySet()) d.put(e.getKey(), e.getValue() - earlier.nanos.getOrDefault(e.getKey(), 0L));
            return new ThreadCpu(names, d, process < 0 || earlier.process < 0 ? -1 : process - earlier.process);
        }

        void print(PrintWriter out, String who, long tokens) {
            java.util.Map<String, Long> byGroup = new java.util.TreeMap<>();
            for (var e : nanos.entrySet()) byGroup.merge(names.get(e.getKey()), e.getValue(), Long::sum);
            StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT, "    cpu ms per token (%s):", who));
            long threads = 0;
            for (var e : byGroup.entrySet()) {
                threads += e.getValue();
                if (e.getValue() / 1e6 / tokens >= 0.005) sb.append(String.format(java.util.Locale.ROOT, " %s %.3f;", e.getKey(), e.getValue() / 1e6 / tokens));
            }
            if (process >= 0) sb.append(String.format(java.util.Locale.ROOT, " other (GC, JIT) %.3f", (process - threads) / 1e6 / tokens));
            out.println(sb);
        }
    }

    /** The p-th percentile in milliseconds (nearest rank). */
    static double pct(List<Long> nanos, int p) {
        if (nanos.isEmpty()) return 0;
        List<Long> s = new ArrayList<>(nanos);
        Collections.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i))) / 1e6;
    }

    private static final ObjectMapper CLIENT_JSON = new ObjectMapper();

    /** One streaming request: when each token's chunk arrived, and the completion tokens from the usage chunk. */
    private static Timing one(int port, String body) throws Exception {
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
