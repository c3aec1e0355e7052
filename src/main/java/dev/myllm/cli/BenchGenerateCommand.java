package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ReadBandwidth;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Simd;
import dev.myllm.tensor.StepProfile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code myllm bench generate}: decoding speed with and without the KV cache, and the rate at
 * which decoding reads the weights (to compare with the machine's memory bandwidth).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Time greedy generation from a random prompt with and without the KV cache; print tokens/s "
                + "and the GB/s of weights read while decoding.",
                "Several types, as in --dtype f32,f16,bf16,q8_0: each loaded once, measured in interleaved rounds "
                        + "(after a warm-up of each), with each type's ratio to f32.",
                "After each run, the memory bandwidth the machine gives (the model's weights read in place by the pool's threads, "
                        + "median of 3 reads, GB/s): where it changes from minute to minute (a virtual machine), decoding changes with it.",
                "Compare with python3 tools/membw.py (in the myllm checkout) run in the same sitting."})
final class BenchGenerateCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, description = "Seed of the random weights and prompt, default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--prompt-tokens", defaultValue = "64", description = "Prompt length, default ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "256", description = "Tokens to generate, default ${DEFAULT-VALUE}.")
    int newTokens;

    @Option(names = "--uncached-tokens", paramLabel = "N",
            description = "Tokens to generate without the cache (default: as many as --new-tokens; 0 skips it).")
    Integer uncachedTokens;

    @Option(names = "--runs", defaultValue = "7", description = "Cached runs (with several --dtype types: rounds) after warm-up runs until the JIT is quiet (at most 3); the median is reported with the slowest and fastest. Default ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--profile", description = "After the runs, one more decode with every weight product timed: milliseconds per token by product shape, and the rest of the step.")
    boolean profile;

    @Option(names = "--threads", description = "Threads (default: all cores).")
    Integer threads;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Validates the options and measures one type, or several in interleaved rounds. */
    @Override
    public void run() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (threads != null) {
            if (threads < 1) throw new CliException("--threads must be >= 1, got " + threads);
            Parallel.setThreads(threads);
        }
        java.util.List<String> types = null;
        if (weights.dtype != null && weights.dtype.contains(",")) {
            types = BenchGenerateRounds.types(weights.dtype);
            if (uncachedTokens != null && uncachedTokens > 0) {
                throw new CliException("--uncached-tokens applies to one --dtype; with a list of types give 0 or leave it out");
            }
        } else if (weights.dtype != null) {
            WeightDtype.parse(weights.dtype); // a wrong type is named before any check of the model's shape
        }
        if (promptTokens < 1) throw new CliException("--prompt-tokens must be >= 1, got " + promptTokens);
        if (newTokens < 1) throw new CliException("--new-tokens must be >= 1, got " + newTokens);
        if (runs < 1) throw new CliException("--runs must be >= 1, got " + runs);
        int uncached = uncachedTokens == null ? newTokens : uncachedTokens;
        if (uncached < 0) throw new CliException("--uncached-tokens must be >= 0, got " + uncached);
        GPTConfig c = model.config();
        if (promptTokens + newTokens > c.contextLength()) {
            throw new CliException("--prompt-tokens + --new-tokens = " + (promptTokens + newTokens)
                    + " exceeds the context length " + c.contextLength());
        }
        if (types != null) {
            BenchGenerateRounds.run(this, out, types);
            return;
        }
        GPTModel m = weights.build(model, seed);
        String dtypeUsed = weights.used();
        int[] prompt = prompt(c);
        Generator gen = new Generator(m, null);
        long bytesPerToken = bytesPerToken(m);
        if (!json) {
            out.printf("bench generate: %s, %,d parameters (%.0f MB float32), weights %s, prompt %d, new %d, threads %d, simd %s (%d lanes)%n",
                    model.label(), c.parameterCount(), c.weightBytes() / 1e6, dtypeUsed, promptTokens, newTokens, Parallel.threads(),
                    Simd.ENABLED, Simd.F.length());
        }
        // the memory bandwidth after each run, read from the model's own weights: on a machine whose bandwidth
        // changes from minute to minute, it tells which runs (and which sittings) can be compared
        Decoding d = measure(gen, prompt, newTokens, runs, PackedWeights.readProbe(m));
        double prefill = d.prefillS(), tps = d.decodeTokensPerS(), slowest = d.slowest(), fastest = d.fastest();
        int[] firstTokens = d.firstTokens();
        Profile parts = profile ? profile(gen, prompt) : null;
        double gbps = tps * bytesPerToken / 1e9;
        double cachedTotalTps = d.tokensPerS();
        Double plainTps = null;
        boolean identical = true;
        // the peak of the runs with the cache, read before the comparison without it: that one makes
        // new buffers every step, and the figure beside the decoding speed is the decoding's own
        long cachedPeak = PeakMemory.bytes();
        if (uncached > 0) {
            Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(uncached).withCache(false));
            plainTps = uncached / ((res.prefillNanos() + res.decodeNanos()) / 1e9);
            for (int i = 0; i < Math.min(uncached, firstTokens.length); i++) identical &= res.tokens()[i] == firstTokens[i];
        }
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", model.label()).put("dtype", dtypeUsed).put("parameters", c.parameterCount()).put("prompt_tokens", promptTokens)
                    .put("new_tokens", newTokens).put("threads", Parallel.threads()).put("prefill_s", prefill)
                    .put("prefill_tokens_per_s", promptTokens / prefill).put("decode_tokens_per_s", tps)
                    .put("decode_tokens_per_s_slowest", slowest).put("decode_tokens_per_s_fastest", fastest).put("runs", runs)
                    .put("cached_tokens_per_s", cachedTotalTps).put("weight_bytes_per_token", bytesPerToken)
                    .put("weights_gb_per_s", gbps).put("peak_rss_mb", Math.round(PeakMemory.mib()))
                    .put("peak_rss_mb_cached", Math.round(cachedPeak / (1024.0 * 1024.0)));
            double[] g = d.readGbps().clone();
            java.util.Arrays.sort(g);
            o.put("read_gbps", median(g)).put("read_gbps_min", g[0]).put("read_gbps_max", g[runs - 1]);
            com.fasterxml.jackson.databind.node.ArrayNode per = o.putArray("decode_tokens_per_s_runs"), reads = o.putArray("read_gbps_runs");
            for (int r = 0; r < runs; r++) {
                per.add(d.decodeRuns()[r]);
                reads.add(d.readGbps()[r]);
            }
            if (plainTps != null) {
                o.put("uncached_tokens", uncached).put("uncached_tokens_per_s", plainTps)
                        .put("speedup", cachedTotalTps / plainTps).put("same_tokens", identical);
            }
            out.println(o);
            out.flush();
            return;
        }
        out.printf("  prefill            %d tokens in %.3f s (%.1f tokens/s)%n", promptTokens, prefill, promptTokens / prefill);
        out.printf("  decode with cache  %.2f tokens/s (median of %d; slowest %.2f, fastest %.2f), %.1f MB of weights per token: %.2f GB/s%n",
                tps, runs, slowest, fastest, bytesPerToken / 1e6, gbps);
        printReads(out, d);
        out.printf("  with cache, all    %.2f tokens/s (%d new tokens, prefill included)%n", cachedTotalTps, newTokens);
        if (plainTps != null) {
            out.printf("  without cache      %.2f tokens/s (%d new tokens)%n", plainTps, uncached);
            out.printf("  speedup            %.1fx%s; same tokens: %s%n", cachedTotalTps / plainTps,
                    uncached < newTokens ? " (the uncached run was shorter, so this understates it)" : "", identical ? "yes" : "NO");
        }
        if (parts != null) printProfile(out, parts);
        out.print(PeakMemory.line(plainTps == null ? "" : String.format(java.util.Locale.ROOT, "%.0f MiB before the run without the cache",
                cachedPeak / (1024.0 * 1024.0))));
        out.println("  compare GB/s with: python3 tools/membw.py (in the myllm checkout)");
        out.flush();
    }

    /**
     * The memory bandwidth read after each run (median, range) and each run's decode rate beside
     * its read: a spread in one follows the other when the machine's bandwidth changed.
     */
    static void printReads(java.io.PrintWriter out, Decoding d) {
        double[] g = d.readGbps().clone();
        java.util.Arrays.sort(g);
        out.printf("  memory read        %.1f GB/s (median of reads after each run, %.1f-%.1f; the weights read in place by %d threads)%n",
                median(g), g[0], g[g.length - 1], Parallel.threads());
        StringBuilder sb = new StringBuilder("  runs, tokens/s at GB/s:");
        for (int r = 0; r < g.length; r++) {
            sb.append(String.format(java.util.Locale.ROOT, "%s %.1f at %.1f", r == 0 ? "" : ",", d.decodeRuns()[r], d.readGbps()[r]));
        }
        out.println(sb);
    }

    /** The most untimed runs (or rounds) {@link #warmUp} makes. */
    static final int MAX_WARMUPS = 3;

    /**
     * Runs {@code round} untimed until the JIT compiled for less than 1% of a round's time (at most
     * {@link #MAX_WARMUPS} times); returns how often it ran. One run was not always enough: on a
     * busy machine the Q8_0 kernel was still being compiled in the first timed runs.
     */
    static int warmUp(Runnable round) {
        return warmUp(round, MAX_WARMUPS);
    }

    /** As {@link #warmUp(Runnable)}, at most {@code most} times. */
    static int warmUp(Runnable round, int most) {
        for (int n = 1; ; n++) {
            long jit = jitMillis(), t0 = System.nanoTime();
            round.run();
            if (n == most || jit < 0 || jitMillis() - jit < 0.01 * (System.nanoTime() - t0) / 1e6) return n;
        }
    }

    /** Milliseconds the JIT has spent compiling so far, or -1 when the JVM does not tell. */
    static long jitMillis() {
        java.lang.management.CompilationMXBean c = java.lang.management.ManagementFactory.getCompilationMXBean();
        return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : -1;
    }

    /** The random prompt of {@code --prompt-tokens} ids (from {@code --seed}). */
    int[] prompt(GPTConfig c) {
        Rng rng = new Rng(seed + 1);
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < prompt.length; i++) prompt[i] = rng.nextInt(c.vocabSize());
        return prompt;
    }

    /**
     * Bytes read per decoded token: every weight once, except the position table (one row)
     * (matrices as stored, the rest float32: biases, LayerNorms, one row of each embedding).
     */
    static long bytesPerToken(GPTModel m) {
        long small = 2L * m.config().embDim();
        for (var p : m.namedParameters().values()) if (p.rank() == 1) small += p.size();
        return PackedWeights.bytesPerToken(m) + small * Float.BYTES;
    }

    /** One profiled decode: the timed calls, and the milliseconds per decoded token of the whole step. */
    record Profile(java.util.List<StepProfile.Entry> parts, double msPerToken, int steps) {
    }

    /**
     * One more run of {@code gen} with every weight product timed, less a prefill alone timed the
     * same way: the prefill's head is a product of one row too (the last position's), and it takes
     * the tiled path, which widens the whole matrix, so counted with decoding's it made "the rest" negative.
     */
    Profile profile(Generator gen, int[] prompt) {
        java.util.List<StepProfile.Entry> prefill = timed(gen, prompt, 1).parts();
        Timed run = timed(gen, prompt, newTokens);
        Generator.Result res = run.res();
        java.util.Map<String, StepProfile.Entry> before = new java.util.HashMap<>();
        for (StepProfile.Entry e : prefill) before.put(e.label(), e);
        java.util.List<StepProfile.Entry> decode = new java.util.ArrayList<>();
        for (StepProfile.Entry e : run.parts()) {
            StepProfile.Entry b = before.get(e.label());
            if (b == null) decode.add(e);
            else if (e.calls() > b.calls()) decode.add(new StepProfile.Entry(e.label(), e.calls() - b.calls(), Math.max(0, e.nanos() - b.nanos()), e.flops() - b.flops()));
        }
        decode.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
        int steps = res.tokens().length - 1;
        return new Profile(decode, res.decodeNanos() / 1e6 / steps, steps);
    }

    private record Timed(Generator.Result res, java.util.List<StepProfile.Entry> parts) {
    }

    private static Timed timed(Generator gen, int[] prompt, int tokens) {
        StepProfile.start();
        try {
            Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(tokens));
            return new Timed(res, StepProfile.entries());
        } finally {
            StepProfile.stop();
        }
    }

    /** Milliseconds per decoded token of each one-row weight product, and of everything else in the step. */
    static void printProfile(java.io.PrintWriter out, Profile profile) {
        java.util.List<StepProfile.Entry> parts = profile.parts();
        double msPerToken = profile.msPerToken();
        int steps = profile.steps();
        out.printf("  profile (one more run, ms per decoded token):%n");
        double products = 0;
        for (StepProfile.Entry e : parts) {
            if (!e.label().matches(".* 1×\\d+×\\d+")) continue; // decode products have one row
            double ms = e.nanos() / 1e6 / steps;
            products += ms;
            out.printf("    %-36s %7.3f ms  (%d a token)%n", e.label(), ms, e.calls() / steps);
        }
        out.printf("    %-36s %7.3f ms%n", "weight products", products);
        out.printf("    %-36s %7.3f ms  (attention over the cache, LayerNorm, GELU, adds, sampling, dispatch)%n", "the rest", msPerToken - products);
        out.printf("    %-36s %7.3f ms%n", "decode step", msPerToken);
    }

    /**
     * What {@code bench generate} times, on its own or beside another benchmark ({@code bench serve}):
     * the median prefill seconds and decode tokens/s over the runs, the slowest and fastest decode
     * rates, the first run's tokens, and tokens/s of the whole generation (prefill included); each
     * run's decode rate, and the memory bandwidth read after it (GB/s; null without a probe).
     */
    record Decoding(double prefillS, double decodeTokensPerS, double slowest, double fastest, int[] firstTokens, int newTokens,
                    double[] decodeRuns, double[] readGbps) {
        /** New tokens per second of a whole generation, prefill included (the median prefill and decode rate). */
        double tokensPerS() {
            return newTokens / (prefillS + (newTokens - 1) / decodeTokensPerS);
        }
    }

    /**
     * Warm-up runs ({@link #warmUp}), then {@code runs} timed greedy generations of {@code newTokens}
     * from {@code prompt} with the cache, each followed by a read of the memory bandwidth with
     * {@code probe} (untimed; none when it is null).
     */
    static Decoding measure(Generator gen, int[] prompt, int newTokens, int runs, ReadBandwidth probe) {
        // whole runs to warm up: the JIT compiles the decode step's code at every cache length it meets,
        // and a short warm-up left the first timed run up to 1.7x off the others
        warmUp(() -> {
            gen.generate(prompt, GenerationConfig.greedy(newTokens));
            if (probe != null) probe.gbps(); // (compiled before the first timed read)
        });
        double[] prefillS = new double[runs], decodeTps = new double[runs], gbps = probe == null ? null : new double[runs];
        int[] firstTokens = null;
        for (int r = 0; r < runs; r++) {
            Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(newTokens));
            prefillS[r] = res.prefillNanos() / 1e9;
            decodeTps[r] = (res.tokens().length - 1) / (res.decodeNanos() / 1e9);
            if (firstTokens == null) firstTokens = res.tokens();
            if (probe != null) gbps[r] = probe.gbps();
        }
        double[] sorted = decodeTps.clone();
        java.util.Arrays.sort(sorted);
        return new Decoding(median(prefillS), median(decodeTps), sorted[0], sorted[runs - 1], firstTokens, newTokens, decodeTps, gbps);
    }

    static double median(double[] x) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
