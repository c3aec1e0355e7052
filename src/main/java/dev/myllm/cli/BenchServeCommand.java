package dev.myllm.cli;

import dev.myllm.generate.Generator;
import dev.myllm.server.OpenAiServer;
import dev.myllm.server.SchedulerProfile;
import dev.myllm.server.ServedModel;
import dev.myllm.server.ServerConfig;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ReadBandwidth;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.StepProfile;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code myllm bench serve}: starts the server in this process and drives it over HTTP with
 * {@code --concurrency} streaming clients (one level, or several measured in interleaved rounds
 * against one server); reports aggregate output tokens/s, time to first token and inter-token latency.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Load-test the OpenAI server in-process over HTTP: N concurrent streaming completions of random prompts.",
                "Reports output tokens/s over all streams, time to first token and inter-token latency (p50, p99).",
                "Several levels, as in --concurrency 1,4,8,16: one server, an untimed warm-up of every level until the JIT is quiet, "
                        + "then interleaved rounds (each starting one level later), with each level's ratio to the first level "
                        + "(per round: median, min, max) and to generate alone in the same process.",
                "After each run, the memory bandwidth the machine gives (the model's weights read in place, GB/s): a round whose "
                        + "two compared runs read more than 15%% apart is unsteady, and each round ratio is also given over the steady rounds."})
final class BenchServeCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--concurrency", defaultValue = "1", paramLabel = "N[,N...]",
            description = "Concurrent streams, or a list of levels measured in turn in one process (1,4,8,16; the first is the "
                    + "ratios' baseline). Default ${DEFAULT-VALUE}.")
    String concurrency;

    @Option(names = "--requests", paramLabel = "M", description = "Requests in all at each level and round, at least the most streams (default: 2 per stream, at least 4).")
    Integer requests;

    @Option(names = "--rounds", paramLabel = "R", description = "Timed rounds of every level (default: 1 for one level, 3 for a list).")
    Integer rounds;

    @Option(names = "--prompt-tokens", defaultValue = "64", paramLabel = "P", description = "Prompt length in tokens, default ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--max-tokens", defaultValue = "128", paramLabel = "K", description = "Tokens generated per request, default ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--max-batch", paramLabel = "N", description = "The server's --max-batch (default: the largest concurrency, at least 16).")
    Integer maxBatch;

    @Option(names = "--shared-prefix", defaultValue = "0", paramLabel = "N",
            description = "The first N prompt tokens are the same in every request (a system prompt) and the rest new in every "
                    + "request, so that only that start can be reused (with --prompt-cache). Default 0: the same random prompts "
                    + "at every level and round.")
    int sharedPrefix;

    @Option(names = "--prompt-cache", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "The server's --prompt-cache. Off by default: every level and round sends the same prompts, whose "
                    + "prefill a kept cache would take away after their first time.")
    boolean promptCache;

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

    @Option(names = "--profile", description = "Also report where the scheduler's time went over the timed rounds (prefill, decode steps by "
            + "batch size, picking and sending tokens, the rest) and the decode steps' matrix products.")
    boolean profile;

    @Spec
    CommandSpec spec;

    /** The most streams one level may have (the server's largest --max-batch). */
    static final int MAX_CONCURRENCY = 4096;

    /** {@code 1,4,8,16} → the levels in order; a bad entry is a one-line error naming the option. */
    static List<Integer> levels(String list) {
        List<Integer> out = new ArrayList<>();
        for (String t : list.split(",", -1)) {
            String s = t.strip();
            int n;
            try {
                n = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new CliException("--concurrency takes a number of streams or a list such as 1,4,8,16, got '" + list + "'");
            }
            if (n < 1) throw new CliException("--concurrency must be >= 1, got " + n);
            if (n > MAX_CONCURRENCY) throw new CliException("--concurrency must be at most " + MAX_CONCURRENCY + ", got " + n);
            if (out.contains(n)) throw new CliException("--concurrency: " + n + " is listed twice in '" + list + "'");
            out.add(n);
        }
        return out;
    }

    /** Requests of one level and round. */
    int requestsAt(int streams) {
        return requests != null ? requests : Math.max(4, 2 * streams);
    }

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<Integer> levels = levels(concurrency);
        int most = levels.stream().mapToInt(Integer::intValue).max().orElseThrow();
        if (requests != null && requests < 1) throw new CliException("--requests must be >= 1, got " + requests);
        // "in all at each level": fewer than a level's streams would leave streams idle and report one stream's pace under their number
        if (requests != null && requests < most) {
            throw new CliException("--requests " + requests + " is fewer than the " + most + " streams of --concurrency " + concurrency.strip()
                    + ": each stream needs a request at every level (give at least " + most + ")");
        }
        int roundCount = rounds != null ? rounds : levels.size() == 1 ? 1 : 3;
        if (roundCount < 1) throw new CliException("--rounds must be >= 1, got " + roundCount);
        if (promptTokens < 1) throw new CliException("--prompt-tokens must be >= 1, got " + promptTokens);
        if (maxTokens < 1) throw new CliException("--max-tokens must be >= 1, got " + maxTokens);
        if (sharedPrefix < 0 || sharedPrefix >= promptTokens) {
            throw new CliException("--shared-prefix must be in [0, --prompt-tokens), got " + sharedPrefix + " with --prompt-tokens " + promptTokens);
        }
        if (generateRuns < 0) throw new CliException("--generate-runs must be >= 0, got " + generateRuns);
        // serve's range, checked here: the server's own check named no option and exited 1
        if (maxBatch != null && (maxBatch < 1 || maxBatch > MAX_CONCURRENCY)) {
            throw new CliException("--max-batch must be in [1, " + MAX_CONCURRENCY + "], got " + maxBatch);
        }
        ServedModel served = ServeCommand.load(model, weights, tokenizer, seed, "bench");
        if (promptTokens + maxTokens > served.contextLength()) {
            throw new CliException("--prompt-tokens + --max-tokens = " + (promptTokens + maxTokens) + " exceeds the context length " + served.contextLength());
        }
        int batch = maxBatch != null ? maxBatch : Math.max(16, most);
        int mostRequests = levels.stream().mapToInt(this::requestsAt).max().orElseThrow();
        ServerConfig config = ServerConfig.defaults().withPort(0).withBatch(batch, Math.max(64, mostRequests))
                .withLimits(1 << 20, Math.max(4096, maxTokens), 8)
                .withTimeouts(Duration.ofHours(1), Duration.ofMinutes(5), Duration.ofSeconds(1)).withPromptCache(promptCache);
        // the same prompts at every level and round (the first ones at every level): no level gets easier text;
        // with a shared prefix, a new rest in every request, so that no whole prompt comes twice
        Rng rng = new Rng(seed + 1);
        IntFunction<String> bodies;
        int[] firstPrompt;
        if (sharedPrefix == 0) {
            List<String> same = new ArrayList<>();
            for (int r = 0; r < mostRequests; r++) same.add(ServeLoad.body(ServeLoad.prompt(rng, promptTokens, served.vocabSize()), maxTokens));
            firstPrompt = ServeLoad.prompt(new Rng(seed + 1), promptTokens, served.vocabSize());
            bodies = same::get;
        } else {
            int[] prefix = ServeLoad.prompt(rng, sharedPrefix, served.vocabSize());
            java.util.function.Supplier<int[]> next = () -> {
                synchronized (rng) {
                    int[] p = java.util.Arrays.copyOf(prefix, promptTokens);
                    System.arraycopy(ServeLoad.prompt(rng, promptTokens - sharedPrefix, served.vocabSize()), 0, p, sharedPrefix, promptTokens - sharedPrefix);
                    return p;
                }
            };
            firstPrompt = next.get();
            bodies = r -> ServeLoad.body(next.get(), maxTokens);
        }
        BenchServeReport report = new BenchServeReport(out, json, model.label(), levels, this::requestsAt, roundCount, promptTokens, maxTokens, promptCache, sharedPrefix);
        if (!json) {
            if (levels.size() == 1) {
                out.printf("bench serve: %s, %d stream%s, %d request%s%s, prompt %d, max tokens %d, max batch %d, threads %d%s%n",
                        model.label(), most, most == 1 ? "" : "s", requestsAt(most), requestsAt(most) == 1 ? "" : "s", roundCount == 1 ? "" : " in each of " + roundCount + " rounds",
                        promptTokens, maxTokens, batch, Parallel.threads(), (sharedPrefix > 0 ? ", shared prefix " + sharedPrefix : "")
                                + (promptCache ? ", prompt cache on" : ""));
            } else {
                out.printf("bench serve: %s, streams %s in %d interleaved rounds, requests %s a round, prompt %d, max tokens %d, max batch %d, threads %d%s%n",
                        model.label(), concurrency.replace(" ", ""), roundCount, String.join(",", levels.stream().map(c -> "" + requestsAt(c)).toList()),
                        promptTokens, maxTokens, batch, Parallel.threads(), (sharedPrefix > 0 ? ", shared prefix " + sharedPrefix : "")
                                + (promptCache ? ", prompt cache on" : ""));
            }
            out.flush();
        }
        // the same process, model, threads and shape as the server's run: the ratio does not move
        // with the JVM or the minute, as a comparison with a separate bench generate run does
        ThreadCpu genCpu = ThreadCpu.now();
        Parallel.Stats genPool = Parallel.stats();
        // the memory bandwidth beside each run, read from the model's own weights (no memory of its own): the machine's
        // changes from minute to minute, and a round whose two runs read at different rates compares the machine's spells
        ReadBandwidth probe = PackedWeights.readProbe(served.model());
        BenchGenerateCommand.Decoding alone = generateRuns == 0 ? null
                : BenchGenerateCommand.measure(new Generator(served.model(), null), firstPrompt, maxTokens, generateRuns, probe);
        genPool = Parallel.stats().since(genPool);
        genCpu = ThreadCpu.now().since(genCpu);
        if (alone != null && !json) {
            out.printf("  generate alone     %.2f tokens/s, prefill included (decode %.2f tokens/s, median of %d runs; bench generate's loop; "
                            + "memory read %.1f GB/s, the median after each run)%n",
                    alone.tokensPerS(), alone.decodeTokensPerS(), generateRuns, BenchGenerateCommand.median(alone.readGbps()));
            out.flush();
        }
        try (OpenAiServer server = new OpenAiServer(served, config, line -> { })) {
            try {
                server.start();
            } catch (Exception e) {
                throw new CliException("cannot start the server: " + Errors.oneLine(e));
            }
            server.warmUp();
            ExecutorService pool = Executors.newFixedThreadPool(most);
            try {
                ServeLoad load = new ServeLoad(pool, server.port(), served.vocabSize());
                // one generate run in every round (not with --profile, whose counts are the server's)
                Generator roundGen = new Generator(served.model(), null);
                int[] genPrompt = firstPrompt;
                java.util.function.DoubleSupplier rounder = alone == null || profile ? null : () -> {
                    Generator.Result res = roundGen.generate(genPrompt, dev.myllm.generate.GenerationConfig.greedy(maxTokens));
                    return res.tokens().length / ((res.prefillNanos() + res.decodeNanos()) / 1e9);
                };
                int warmups = warmUp(load, levels, bodies, rounder);
                probe.gbps(); // (compiled before the first timed read, when generate alone did not run)
                SchedulerProfile before = server.schedulerProfile();
                Parallel.Stats poolBefore = Parallel.stats();
                ThreadCpu cpuBefore = ThreadCpu.now();
                if (profile) server.profileProducts();
                long jit0 = BenchGenerateCommand.jitMillis();
                long[] gc0 = gcCountAndMillis();
                for (int r = 0; r < roundCount; r++) {
                    // each round starts one level later, so no level always runs just after the same other;
                    // generate alone takes its turn too (the server idle), so its ratio is taken per round
                    int turns = levels.size() + (rounder != null ? 1 : 0);
                    for (int i = 0; i < turns; i++) {
                        int li = (r + i) % turns;
                        if (li == levels.size()) {
                            double tps = rounder.getAsDouble();
                            report.addGenerate(r, tps, probe.gbps());
                            continue;
                        }
                        int streams = levels.get(li);
                        ServeLoad.Run run;
                        try {
                            run = load.run(bodies, streams, requestsAt(streams));
                        } catch (Exception e) {
                            throw new CliException("a request failed: " + Errors.oneLine(e));
                        }
                        report.add(li, r, run, probe.gbps()); // (the server idle: every request answered)
                    }
                }
                long jitMs = BenchGenerateCommand.jitMillis() - jit0;
                long[] gc = gcCountAndMillis();
                report.collections(gc[0] - gc0[0], gc[1] - gc0[1]);
                ThreadCpu cpu = ThreadCpu.now().since(cpuBefore); // while the load generator's threads are alive
                StepProfile.stop();
                SchedulerProfile p = profile ? server.schedulerProfile().since(before) : null;
                report.print(alone, warmups, jitMs, p, Parallel.stats().since(poolBefore));
                if (profile && !json) {
                    if (alone != null) {
                        BenchServeReport.printPool(out, "generate alone", genPool);
                        genCpu.print(out, "generate alone", (long) (1 + generateRuns) * maxTokens);
                    }
                    cpu.print(out, "server", report.tokens());
                    out.flush();
                }
            } finally {
                pool.shutdownNow();
            }
        }
        if (profile && alone != null && !json) {
            // the same loop once more, with the code the JIT compiled for the server: slower than
            // before the server points at the code (profiles of several batch sizes), as fast at
            // the server's threads (its request threads and the load generator's, on the same cores)
            BenchGenerateCommand.Decoding again = BenchGenerateCommand.measure(new Generator(served.model(), null), firstPrompt, maxTokens,
                    generateRuns, null);
            out.printf("  generate again     %.2f tokens/s after the server (decode %.2f tokens/s; before it %.2f and %.2f)%n",
                    again.tokensPerS(), again.decodeTokensPerS(), alone.tokensPerS(), alone.decodeTokensPerS());
            out.flush();
        }
    }

    /** Collections so far and the milliseconds they took, over all the JVM's collectors. */
    static long[] gcCountAndMillis() {
        long n = 0, ms = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
            ms += Math.max(0, gc.getCollectionTime());
        }
        return new long[]{n, ms};
    }

    /**
     * The most untimed waves before the timed rounds. A server has more code for the JIT than
     * generate alone (HTTP, JSON, the scheduler, every batch size): after 3 waves it still compiled
     * for 1.3-3.0 s during the timed rounds of 8 streams, 3-7% of the two cores' time.
     */
    static final int MAX_WARMUP_WAVES = 8;

    /**
     * Untimed: the clients' connections and the server's caches ({@link ServeLoad#warmConnections}),
     * then one wave of every level (a request per stream, the measured shape) until the JIT compiled
     * for less than 1% of a wave's time ({@link BenchGenerateCommand#warmUp}, at most {@link #MAX_WARMUP_WAVES} times); returns
     * the waves. One level's code alone was not enough: the server's Jetty, Jackson and attention
     * paths were still being compiled in the first measured seconds, and each batch size meets its own.
     */
    private int warmUp(ServeLoad load, List<Integer> levels, IntFunction<String> bodies, java.util.function.DoubleSupplier generate) {
        int most = levels.stream().mapToInt(Integer::intValue).max().orElseThrow();
        try {
            load.warmConnections(most, promptTokens, maxTokens, seed + 2);
            Exception[] failed = new Exception[1];
            int n = BenchGenerateCommand.warmUp(() -> {
                if (generate != null) generate.getAsDouble();
                for (int c : levels) {
                    if (failed[0] != null) return;
                    try {
                        load.run(bodies, c, c);
                    } catch (Exception e) {
                        failed[0] = e;
                    }
                }
            }, MAX_WARMUP_WAVES);
            if (failed[0] != null) throw failed[0];
            return n;
        } catch (Exception e) {
            throw new CliException("the warm-up request failed: " + Errors.oneLine(e));
        }
    }
}
