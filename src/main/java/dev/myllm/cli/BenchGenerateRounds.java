package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ReadBandwidth;
import dev.myllm.tensor.Simd;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code bench generate --dtype f32,f16,bf16,q8_0}: several weight types of one model measured in
 * one sitting. Each type is loaded once; after a warm-up of every type the types take turns, one
 * decode run each per round, so a machine that speeds up or slows down during the sitting moves
 * every type alike and their ratios stay fair.
 */
final class BenchGenerateRounds {
    private BenchGenerateRounds() {
    }

    /** One type under test: its model, the decode tokens/s of each round, and the memory bandwidth read after each of its runs. */
    private record Subject(String dtype, Generator gen, long bytesPerToken, double[] tps, double[] gbps, ReadBandwidth probe) {
    }

    /** {@code f32,f16,q8_0} → the types in order (names as {@link WeightDtype#parse} reads them; no repeats). */
    static List<String> types(String list) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : list.split(",", -1)) {
            String name = t.strip();
            if (name.isEmpty()) throw new CliException("--dtype: empty type in the list '" + list + "'");
            if (!out.add(WeightDtype.parse(name))) throw new CliException("--dtype: " + name + " is listed twice in '" + list + "'");
        }
        return List.copyOf(out);
    }

    static void run(BenchGenerateCommand cmd, PrintWriter out, List<String> types) {
        GPTConfig c = cmd.model.config();
        int[] prompt = cmd.prompt(c);
        int runs = cmd.runs;
        List<Subject> subjects = new ArrayList<>();
        for (String t : types) {
            WeightDtype w = new WeightDtype();
            w.dtype = t;
            w.mmap = cmd.weights.mmap;
            GPTModel m = w.build(cmd.model, cmd.seed);
            subjects.add(new Subject(w.used(), new Generator(m, null), BenchGenerateCommand.bytesPerToken(m), new double[runs], new double[runs],
                    PackedWeights.readProbe(m)));
            // the float32 weights packing dropped, collected now (not in a timed run, and the next
            // type's random weights reuse their space: gpt2-medium's four types peaked at 7.5 GB without)
            System.gc();
        }
        if (!cmd.json) {
            out.printf("bench generate: %s, %,d parameters, weights %s in %d interleaved rounds, prompt %d, new %d, threads %d, simd %s (%d lanes)%n",
                    cmd.model.label(), c.parameterCount(), String.join(",", types), runs, cmd.promptTokens, cmd.newTokens,
                    Parallel.threads(), Simd.ENABLED, Simd.F.length());
            out.flush();
        }
        GenerationConfig greedy = GenerationConfig.greedy(cmd.newTokens);
        // untimed rounds first, until the JIT is done with the kernels of every type (a later type's
        // first run can make the JIT recompile code an earlier one shares)
        // the bandwidth after each run, always read from the largest type's weights (the others' may fit
        // the caches more), so every type's reads are alike
        ReadBandwidth probe = subjects.stream().max(java.util.Comparator.comparingLong(s -> s.probe().bytes())).orElseThrow().probe();
        int warmups = BenchGenerateCommand.warmUp(() -> {
            for (Subject s : subjects) s.gen().generate(prompt, greedy);
            probe.gbps();
        });
        long jit0 = BenchGenerateCommand.jitMillis();
        for (int r = 0; r < runs; r++) {
            // each round starts one type later, so no type always runs just after the same other
            for (int i = 0; i < subjects.size(); i++) {
                Subject s = subjects.get((r + i) % subjects.size());
                Generator.Result res = s.gen().generate(prompt, greedy);
                s.tps()[r] = (res.tokens().length - 1) / (res.decodeNanos() / 1e9);
                s.gbps()[r] = probe.gbps();
            }
        }
        long jitMs = BenchGenerateCommand.jitMillis() - jit0;
        Subject base = subjects.stream().filter(s -> s.dtype().equals("f32")).findFirst().orElse(subjects.get(0));
        if (cmd.json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", cmd.model.label()).put("parameters", c.parameterCount()).put("prompt_tokens", cmd.promptTokens)
                    .put("new_tokens", cmd.newTokens).put("threads", Parallel.threads()).put("runs", runs).put("baseline", base.dtype())
                    .put("warmup_rounds", warmups).put("unsteady_limit", SteadyRounds.LIMIT).put("read_bytes", probe.bytes()).put("jit_ms_while_timed", jitMs).put("peak_rss_mb", Math.round(PeakMemory.mib()));
            ArrayNode a = o.putArray("types");
            for (Subject s : subjects) {
                double[] ratios = ratios(s, base), sorted = sorted(s.tps());
                ObjectNode e = a.addObject();
                e.put("dtype", s.dtype()).put("decode_tokens_per_s", median(s.tps())).put("decode_tokens_per_s_slowest", sorted[0])
                        .put("decode_tokens_per_s_fastest", sorted[runs - 1]).put("weight_bytes_per_token", s.bytesPerToken())
                        .put("weights_gb_per_s", median(s.tps()) * s.bytesPerToken() / 1e9)
                        .put("ratio", median(s.tps()) / median(base.tps())).put("round_ratio_median", median(ratios))
                        .put("round_ratio_min", sorted(ratios)[0]).put("round_ratio_max", sorted(ratios)[runs - 1]);
                ArrayNode per = e.putArray("decode_tokens_per_s_rounds");
                for (double v : s.tps()) per.add(v);
                double[] g = sorted(s.gbps()), steady = SteadyRounds.steadyRatios(s.tps(), base.tps(), s.gbps(), base.gbps());
                e.put("read_gbps", median(s.gbps())).put("read_gbps_min", g[0]).put("read_gbps_max", g[runs - 1]).put("steady_rounds", steady.length);
                if (steady.length > 0) e.put("round_ratio_steady_median", median(steady));
                else e.putNull("round_ratio_steady_median");
                ArrayNode reads = e.putArray("read_gbps_rounds");
                for (double v : s.gbps()) reads.add(v);
                ArrayNode unsteady = e.putArray("unsteady_rounds");
                for (int i : SteadyRounds.unsteadyRounds(s.gbps(), base.gbps())) unsteady.add(i);
            }
            out.println(o);
            out.flush();
            return;
        }
        out.printf("  decode with cache, tokens/s: median of %d rounds (slowest-fastest); weights read; x %s: ratio of the medians (each round's ratio: median, lowest-highest)%n",
                runs, base.dtype());
        for (Subject s : subjects) {
            double[] sorted = sorted(s.tps()), ratios = ratios(s, base), rs = sorted(ratios);
            double tps = median(s.tps());
            out.printf("  %-5s %8.2f tokens/s (%.2f-%.2f)  %6.1f MB/token %6.2f GB/s  %5.2fx %s (rounds %.2f, %.2f-%.2f)%n",
                    s.dtype(), tps, sorted[0], sorted[runs - 1], s.bytesPerToken() / 1e6, tps * s.bytesPerToken() / 1e9,
                    tps / median(base.tps()), base.dtype(), median(ratios), rs[0], rs[runs - 1]);
        }
        out.printf("  memory read after each run, GB/s (median, lowest-highest; %.0f MB of weights in place); x %s over the rounds whose two reads "
                + "are within %.0f%%:%n", probe.bytes() / 1e6, base.dtype(), 100 * SteadyRounds.LIMIT);
        for (Subject s : subjects) {
            double[] g = sorted(s.gbps()), steady = SteadyRounds.steadyRatios(s.tps(), base.tps(), s.gbps(), base.gbps());
            out.printf("  %-5s %6.1f (%.1f-%.1f)%s%n", s.dtype(), median(s.gbps()), g[0], g[runs - 1], s == base ? ""
                    : String.format(java.util.Locale.ROOT, "  %s over %d steady round%s of %d", steady.length == 0 ? "none" : String.format(java.util.Locale.ROOT,
                    "%.2fx", median(steady)), steady.length, steady.length == 1 ? "" : "s", runs));
        }
        out.printf("  warm-up %d round%s; the JIT compiled for %d ms during the timed rounds%n", warmups, warmups == 1 ? "" : "s", jitMs);
        if (cmd.profile) {
            for (Subject s : subjects) {
                out.printf("  %s:%n", s.dtype());
                BenchGenerateCommand.printProfile(out, cmd.profile(s.gen(), prompt));
            }
        }
        out.print(PeakMemory.line("every type loaded"));
        out.println("  compare GB/s with: python3 tools/membw.py (in the myllm checkout)");
        out.flush();
    }

    /** Each round's tokens/s of {@code s} over the baseline's in the same round. */
    private static double[] ratios(Subject s, Subject base) {
        double[] r = new double[s.tps().length];
        for (int i = 0; i < r.length; i++) r[i] = s.tps()[i] / base.tps()[i];
        return r;
    }

    private static double[] sorted(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s;
    }

    private static double median(double[] x) {
        return BenchGenerateCommand.median(x);
    }
}
