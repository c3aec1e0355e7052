package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.server.SchedulerProfile;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.StepProfile;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntUnaryOperator;

/**
 * What {@code bench serve} measured, printed for a person or as one JSON object: per concurrency
 * level the median tokens/s of its rounds with the slowest and fastest, latencies over all its
 * requests, and its ratios to the first level (per round) and to {@code generate} alone.
 */
final class BenchServeReport {
    /** One level's rounds: tokens/s of each, every request's timings, and the memory bandwidth read beside each round's run. */
    private record Level(int streams, int requests, double[] tps, List<ServeLoad.Timing> timings, double[] wallS, long[] tokens, double[] gbps) {
        long allTokens() {
            return Arrays.stream(tokens).sum();
        }

        double allWallS() {
            return Arrays.stream(wallS).sum();
        }

        double median() {
            return BenchGenerateCommand.median(tps);
        }
    }

    private final PrintWriter out;
    private final boolean json;
    private final String label;
    private final List<Level> levels = new ArrayList<>();
    private final int rounds, promptTokens, maxTokens;
    /** Whether the server reused kept prompt prefixes (the prompts repeat across levels and rounds). */
    private final boolean promptCache;
    /** Prompt tokens every request shares (0: the same whole prompts at every level and round). */
    private final int sharedPrefix;
    private long gcCount, gcMillis;
    /** Generate alone's tokens/s (prefill included) in each round, or null when it did not run in the rounds. */
    private double[] generateTps;
    /** The memory bandwidth read beside generate's turn in each round, GB/s. */
    private double[] generateGbps;

    BenchServeReport(PrintWriter out, boolean json, String label, List<Integer> streams, IntUnaryOperator requests, int rounds,
                     int promptTokens, int maxTokens, boolean promptCache, int sharedPrefix) {
        this.out = out;
        this.promptCache = promptCache;
        this.sharedPrefix = sharedPrefix;
        this.json = json;
        this.label = label;
        this.rounds = rounds;
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        for (int c : streams) {
            levels.add(new Level(c, requests.applyAsInt(c), new double[rounds], new ArrayList<>(), new double[rounds], new long[rounds], nans(rounds)));
        }
    }

    private static double[] nans(int n) {
        double[] x = new double[n];
        Arrays.fill(x, Double.NaN);
        return x;
    }

    /** Round {@code round} of level {@code level}, and the memory bandwidth read beside it (GB/s; NaN: none). */
    void add(int level, int round, ServeLoad.Run run, double gbps) {
        Level l = levels.get(level);
        l.gbps()[round] = gbps;
        l.tps()[round] = run.tokensPerS();
        l.wallS()[round] = run.wallS();
        l.tokens()[round] = run.tokens();
        l.timings().addAll(run.timings());
    }

    /** Generate alone's tokens/s in round {@code round} (its whole generation, prefill included), and the bandwidth read beside it. */
    void addGenerate(int round, double tps, double gbps) {
        if (generateTps == null) {
            generateTps = new double[rounds];
            generateGbps = nans(rounds);
        }
        generateTps[round] = tps;
        generateGbps[round] = gbps;
    }

    /** Each round's tokens/s of {@code l} over generate alone's in the same round. */
    private double[] generateRatios(Level l) {
        double[] r = new double[rounds];
        for (int i = 0; i < rounds; i++) r[i] = l.tps()[i] / generateTps[i];
        return r;
    }

    /** Garbage collections during the timed rounds, and their milliseconds. */
    void collections(long count, long millis) {
        gcCount = count;
        gcMillis = millis;
    }

    /** Output tokens of every level and round. */
    long tokens() {
        long n = 0;
        for (Level l : levels) n += l.allTokens();
        return n;
    }

    /** Each round's tokens/s of {@code l} over the first level's in the same round. */
    private double[] roundRatios(Level l) {
        double[] r = new double[rounds];
        for (int i = 0; i < rounds; i++) r[i] = l.tps()[i] / levels.getFirst().tps()[i];
        return r;
    }

    void print(BenchGenerateCommand.Decoding alone, int warmups, long jitMs, SchedulerProfile p, Parallel.Stats pool) {
        double wall = 0;
        for (Level l : levels) wall += l.allWallS();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", label);
            if (levels.size() == 1) {
                levelFields(o, levels.getFirst(), alone);
            } else {
                ArrayNode c = o.putArray("concurrency");
                for (Level l : levels) c.add(l.streams());
                o.put("prompt_tokens", promptTokens).put("max_tokens", maxTokens).put("completion_tokens", tokens()).put("wall_s", wall);
            }
            o.put("prompt_cache", promptCache).put("shared_prefix_tokens", sharedPrefix).put("threads", Parallel.threads()).put("rounds", rounds).put("warmup_rounds", warmups).put("jit_ms_while_timed", jitMs)
                    .put("gc_count_while_timed", gcCount).put("gc_ms_while_timed", gcMillis).put("peak_rss_mb", Math.round(PeakMemory.mib()));
            if (alone != null) {
                o.put("generate_tokens_per_s", alone.tokensPerS()).put("generate_decode_tokens_per_s", alone.decodeTokensPerS())
                        .put("generate_prefill_s", alone.prefillS());
            }
            if (generateTps != null) {
                ArrayNode g = o.putArray("generate_tokens_per_s_rounds");
                for (double v : generateTps) g.add(v);
            }
            o.put("unsteady_limit", SteadyRounds.LIMIT);
            if (alone != null && alone.readGbps() != null) {
                double[] g = sorted(alone.readGbps());
                o.put("generate_read_gbps", BenchGenerateCommand.median(g)).put("generate_read_gbps_min", g[0]).put("generate_read_gbps_max", g[g.length - 1]);
                readArray(o, "generate_read_gbps_runs", alone.readGbps());
            }
            if (generateGbps != null) readArray(o, "generate_read_gbps_rounds", generateGbps);
            ArrayNode a = o.putArray("levels");
            for (Level l : levels) levelFields(a.addObject(), l, alone);
            if (p != null) profileFields(o.putObject("profile"), p, pool);
            out.println(o);
        } else if (levels.size() == 1) {
            printOne(levels.getFirst(), alone);
            printJit(warmups, jitMs);
            if (p != null) printProfile(p, wall, pool);
        } else {
            printLevels(alone);
            printJit(warmups, jitMs);
            if (p != null) printProfile(p, wall, pool);
        }
        out.flush();
    }

    /** One level's fields: those a single level always had at the top, and its rounds and ratios. */
    private void levelFields(ObjectNode o, Level l, BenchGenerateCommand.Decoding alone) {
        List<Long> ttft = ServeLoad.ttfts(l.timings()), gaps = ServeLoad.gaps(l.timings());
        double tps = l.median(), decode = ServeLoad.decodeRate(l.timings());
        double[] sorted = sorted(l.tps()), ratios = sorted(roundRatios(l));
        o.put("concurrency", l.streams()).put("requests", l.requests()).put("prompt_tokens", promptTokens).put("max_tokens", maxTokens)
                .put("completion_tokens", l.allTokens()).put("wall_s", l.allWallS()).put("tokens_per_s", tps)
                .put("tokens_per_s_min", sorted[0]).put("tokens_per_s_max", sorted[rounds - 1])
                .put("per_stream_tokens_per_s", tps / l.streams()).put("decode_tokens_per_s", decode)
                .put("ttft_p50_ms", ServeLoad.pct(ttft, 50)).put("ttft_p99_ms", ServeLoad.pct(ttft, 99))
                .put("itl_p50_ms", ServeLoad.pct(gaps, 50)).put("itl_p99_ms", ServeLoad.pct(gaps, 99))
                .put("ratio_to_first", tps / levels.getFirst().median()).put("round_ratio_median", BenchGenerateCommand.median(ratios))
                .put("round_ratio_min", ratios[0]).put("round_ratio_max", ratios[rounds - 1]);
        ArrayNode per = o.putArray("tokens_per_s_rounds");
        for (double v : l.tps()) per.add(v);
        if (alone != null) {
            o.put("ratio_to_generate", tps / alone.tokensPerS()).put("decode_ratio_to_generate", decode / alone.decodeTokensPerS());
        }
        if (generateTps != null) {
            double[] g = sorted(generateRatios(l));
            o.put("round_ratio_to_generate_median", BenchGenerateCommand.median(g)).put("round_ratio_to_generate_min", g[0])
                    .put("round_ratio_to_generate_max", g[rounds - 1]);
        }
        readFields(o, l, alone);
    }

    /** One level's reads beside its runs, and its ratios over the rounds whose two runs read at about the same rate. */
    private void readFields(ObjectNode o, Level l, BenchGenerateCommand.Decoding alone) {
        Level first = levels.getFirst();
        double[] g = sorted(l.gbps());
        o.put("read_gbps", BenchGenerateCommand.median(l.gbps())).put("read_gbps_min", g[0]).put("read_gbps_max", g[rounds - 1]);
        readArray(o, "read_gbps_rounds", l.gbps());
        steadyFields(o, "", l.tps(), first.tps(), l.gbps(), first.gbps());
        if (generateTps != null) steadyFields(o, "_to_generate", l.tps(), generateTps, l.gbps(), generateGbps);
        if (alone != null && alone.readGbps() != null) {
            o.put("unsteady_to_generate_alone", SteadyRounds.unsteady(BenchGenerateCommand.median(l.gbps()), BenchGenerateCommand.median(alone.readGbps())));
        }
    }

    private static void steadyFields(ObjectNode o, String suffix, double[] tps, double[] base, double[] reads, double[] baseReads) {
        ArrayNode u = o.putArray("unsteady_rounds" + suffix);
        for (int i : SteadyRounds.unsteadyRounds(reads, baseReads)) u.add(i);
        double[] r = SteadyRounds.steadyRatios(tps, base, reads, baseReads);
        o.put("steady_rounds" + suffix, r.length);
        if (r.length > 0) o.put("round_ratio" + suffix + "_steady_median", BenchGenerateCommand.median(r));
        else o.putNull("round_ratio" + suffix + "_steady_median");
    }

    /** {@code values} as a JSON array (null for a missing read). */
    private static void readArray(ObjectNode o, String name, double[] values) {
        ArrayNode a = o.putArray(name);
        for (double v : values) {
            if (Double.isNaN(v)) a.addNull();
            else a.add(v);
        }
    }

    private static void profileFields(ObjectNode pj, SchedulerProfile p, Parallel.Stats pool) {
        pj.put("turns", p.turns()).put("prefill_passes", p.prefillPasses()).put("prefill_tokens", p.prefillTokens()).put("prefill_s", p.prefillNanos() / 1e9)
                .put("decode_steps", p.decodeSteps()).put("decode_rows", p.decodeRows()).put("decode_s", p.decodeNanos() / 1e9)
                .put("accept_s", p.acceptNanos() / 1e9).put("other_s", p.otherNanos() / 1e9).put("idle_s", p.idleNanos() / 1e9);
        ObjectNode steps = pj.putObject("step_ms_by_batch");
        for (int b = 1; b < p.stepsByBatch().length; b++) if (p.stepsByBatch()[b] > 0) steps.put(Integer.toString(b), p.stepMillis(b));
        pj.put("pool_loops", pool.jobs()).put("pool_ranges", pool.ranges()).put("pool_ranges_by_caller", pool.rangesByCaller())
                .put("pool_wait_s", pool.waitNanos() / 1e9);
    }

    /** One level as a single-level run always printed it (its rounds' median when there are several). */
    private void printOne(Level l, BenchGenerateCommand.Decoding alone) {
        List<Long> ttft = ServeLoad.ttfts(l.timings()), gaps = ServeLoad.gaps(l.timings());
        double tps = l.median(), decode = ServeLoad.decodeRate(l.timings());
        if (rounds == 1) {
            out.printf("  output tokens      %d in %.2f s: %.2f tokens/s (%.2f per stream)%n", l.allTokens(), l.allWallS(), tps, tps / l.streams());
        } else {
            double[] s = sorted(l.tps());
            out.printf("  output tokens      %d in %.2f s over %d rounds: %.2f tokens/s, the median (%.2f-%.2f; %.2f per stream)%n",
                    l.allTokens(), l.allWallS(), rounds, tps, s[0], s[rounds - 1], tps / l.streams());
        }
        out.printf("  time to 1st token  p50 %.1f ms, p99 %.1f ms%n", ServeLoad.pct(ttft, 50), ServeLoad.pct(ttft, 99));
        out.printf("  inter-token        p50 %.1f ms, p99 %.1f ms%n", ServeLoad.pct(gaps, 50), ServeLoad.pct(gaps, 99));
        out.printf("  decode per stream  %.2f tokens/s after the first token (median over requests; bench generate's decode rate)%n", decode);
        if (generateTps != null) {
            double[] g = sorted(generateTps), r = sorted(generateRatios(l));
            out.printf("  generate in rounds %.2f tokens/s (median of %d, %.2f-%.2f, the server idle); this level over it each round: %.2fx (%.2f-%.2f)%n",
                    BenchGenerateCommand.median(generateTps), rounds, g[0], g[rounds - 1], BenchGenerateCommand.median(r), r[0], r[rounds - 1]);
        }
        out.printf("  memory read        %s beside the run%s%s%n", reads(l.gbps()), rounds == 1 ? "" : "s",
                generateTps == null ? "" : "; generate's turns " + reads(generateGbps) + "; this level over generate" + steady(l.tps(), generateTps, l.gbps(), generateGbps));
        if (alone == null) return;
        if (l.streams() == 1) {
            out.printf("  one stream: %.2f tokens/s = %.1f%% of generate alone (%.2f tokens/s, same process); decode %.1f%% (%.2f of %.2f)%s%n",
                    tps, 100 * tps / alone.tokensPerS(), alone.tokensPerS(), 100 * decode / alone.decodeTokensPerS(), decode,
                    alone.decodeTokensPerS(), againstAlone(l, alone));
        } else {
            out.printf("  %d streams: %.2f tokens/s = %.2fx generate alone (%.2f tokens/s, same process); per stream decode %.1f%% of it%s%n",
                    l.streams(), tps, tps / alone.tokensPerS(), alone.tokensPerS(), 100 * decode / alone.decodeTokensPerS(), againstAlone(l, alone));
        }
    }

    /** A line per level: tokens/s, its ratio to the first level and to generate alone, latencies. */
    private void printLevels(BenchGenerateCommand.Decoding alone) {
        Level first = levels.getFirst();
        out.printf("  tokens/s: median of %d rounds (slowest-fastest); x %d: ratio of the medians (each round's ratio: median, lowest-highest)%s%n",
                rounds, first.streams(), alone == null ? "" : String.format(Locale.ROOT, "; x generate: of generate alone before the server "
                        + "(%.2f tokens/s)%s", alone.tokensPerS(), generateTps == null ? "" : String.format(Locale.ROOT,
                        " and each round's over that round's generate run (%.2f tokens/s, %.2f-%.2f)", BenchGenerateCommand.median(generateTps),
                        sorted(generateTps)[0], sorted(generateTps)[rounds - 1])));
        for (Level l : levels) {
            List<Long> ttft = ServeLoad.ttfts(l.timings()), gaps = ServeLoad.gaps(l.timings());
            double tps = l.median();
            double[] s = sorted(l.tps()), r = sorted(roundRatios(l));
            out.printf("  %3d stream%s %8.2f tokens/s (%.2f-%.2f)  %5.2fx %d (rounds %.2f, %.2f-%.2f)%s  TTFT p50 %.0f p99 %.0f ms  ITL p50 %.1f p99 %.1f ms%n",
                    l.streams(), l.streams() == 1 ? " " : "s", tps, s[0], s[rounds - 1], tps / first.median(), first.streams(), BenchGenerateCommand.median(r), r[0], r[rounds - 1],
                    alone == null ? "" : String.format(Locale.ROOT, "  %5.2fx generate%s", tps / alone.tokensPerS(), generateTps == null ? ""
                            : String.format(Locale.ROOT, " (rounds %.2f, %.2f-%.2f)", BenchGenerateCommand.median(generateRatios(l)),
                            sorted(generateRatios(l))[0], sorted(generateRatios(l))[rounds - 1])),
                    ServeLoad.pct(ttft, 50), ServeLoad.pct(ttft, 99), ServeLoad.pct(gaps, 50), ServeLoad.pct(gaps, 99));
        }
        printReads(alone);
    }

    /**
     * Each level's memory bandwidth beside its runs, and its ratios to the first level and to
     * generate's turn over the steady rounds only, naming the unsteady ones.
     */
    private void printReads(BenchGenerateCommand.Decoding alone) {
        Level first = levels.getFirst();
        out.printf("  memory read, GB/s beside each run (median, lowest-highest); a round is unsteady when its two runs' reads are more than %.0f%% apart:%n",
                100 * SteadyRounds.LIMIT);
        for (Level l : levels) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %3d stream%s %6s", l.streams(), l.streams() == 1 ? " " : "s", ""));
            sb.append(reads(l.gbps()));
            if (l != first) sb.append("  x ").append(first.streams()).append(steady(l.tps(), first.tps(), l.gbps(), first.gbps()));
            if (generateTps != null) sb.append("  x generate").append(steady(l.tps(), generateTps, l.gbps(), generateGbps));
            if (alone != null) sb.append(againstAlone(l, alone).replaceFirst("^; unsteady", "  x generate alone: unsteady"));
            out.println(sb);
        }
        if (generateGbps != null) out.printf("     generate %6s%s%n", "", reads(generateGbps));
        if (alone != null && alone.readGbps() != null) {
            out.printf("     generate alone before the server %s%n", reads(alone.readGbps()));
        }
    }

    /** {@code 62.1 GB/s (48.0-79.2)}: the median read and the range. */
    private static String reads(double[] gbps) {
        double[] g = sorted(gbps);
        return String.format(Locale.ROOT, "%5.1f GB/s (%.1f-%.1f)", BenchGenerateCommand.median(gbps), g[0], g[g.length - 1]);
    }

    /** {@code over steady rounds 4.25 (2 of 3; round 3 unsteady: 70.0 against 50.0 GB/s)}. */
    private String steady(double[] tps, double[] base, double[] reads, double[] baseReads) {
        double[] r = SteadyRounds.steadyRatios(tps, base, reads, baseReads);
        StringBuilder sb = new StringBuilder(" over steady rounds ");
        sb.append(r.length == 0 ? "none" : String.format(Locale.ROOT, "%.2f", BenchGenerateCommand.median(r)));
        sb.append(" (").append(r.length).append(" of ").append(rounds);
        for (int i : SteadyRounds.unsteadyRounds(reads, baseReads)) {
            sb.append(String.format(Locale.ROOT, "; round %d unsteady: %.1f against %.1f GB/s", i + 1, reads[i], baseReads[i]));
        }
        return sb.append(')').toString();
    }

    /** {@code ; unsteady: read 70.0 against generate alone's 50.0 GB/s} when the medians of the reads are more than the limit apart; else empty. */
    private static String againstAlone(Level l, BenchGenerateCommand.Decoding alone) {
        if (alone.readGbps() == null) return "";
        double mine = BenchGenerateCommand.median(l.gbps()), theirs = BenchGenerateCommand.median(alone.readGbps());
        return SteadyRounds.unsteady(mine, theirs)
                ? String.format(Locale.ROOT, "; unsteady: read %.1f against generate alone's %.1f GB/s", mine, theirs) : "";
    }

    private void printJit(int warmups, long jitMs) {
        out.printf("  warm-up %d wave%s of every level; the JIT compiled for %d ms during the timed rounds; %d collections took %d ms%n",
                warmups, warmups == 1 ? "" : "s", jitMs, gcCount, gcMillis);
        // the server, its load generator and their clients' buffers: one process
        out.print(PeakMemory.line("the server and its load generator"));
    }

    /** The scheduler's time split over the run, decode step times by batch size, and the heaviest products. */
    private void printProfile(SchedulerProfile p, double wall, Parallel.Stats pool) {
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
            if (p.stepsByBatch()[b] > 0) sb.append(String.format(Locale.ROOT, " %d: %.1f (%d)", b, p.stepMillis(b), p.stepsByBatch()[b]));
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
    static void printPool(PrintWriter out, String who, Parallel.Stats pool) {
        // a worker that starts late (parked, or a core taken by the request threads) shows as ranges
        // the dispatching thread ran itself beyond its share, and as waits for ranges still running
        out.printf("    thread pool (%s) %d loops split over threads, %.0f%% of their ranges run by the dispatching thread, %.3f s waiting for the others%n",
                who, pool.jobs(), pool.ranges() == 0 ? 0 : 100.0 * pool.rangesByCaller() / pool.ranges(), pool.waitNanos() / 1e9);
    }

    private static double[] sorted(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s;
    }
}
