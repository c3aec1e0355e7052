package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.tensor.Gemm;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Simd;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code myllm bench matmul}: GFLOP/s of the three linear-layer products at GPT-2 shapes. */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = {"Time the forward (X·Wᵀ), input-gradient (dY·W) and weight-gradient (dYᵀ·X) products "
                + "at GPT-2 layer shapes and print GFLOP/s.",
                "Compare with python3 tools/sgemm_ceiling.py run in the same sitting."})
final class BenchMatmulCommand implements Runnable {
    /** GPT-2 small's linear layers as (in, out): attention qkv, MLP up, MLP down, LM head. */
    static final int[][] SHAPES = {{768, 2304}, {768, 3072}, {3072, 768}, {768, 50304}};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rows", description = "Rows of X (batch × context), default ${DEFAULT-VALUE}.", defaultValue = "256")
    int rows;

    @Option(names = "--seconds", description = "Timing budget per product and shape, default ${DEFAULT-VALUE}.",
            defaultValue = "1.0")
    double seconds;

    @Option(names = "--threads", description = "Threads (default: all cores).")
    Integer threads;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    /** One timed product: its label, shape and median rate. */
    record Result(String product, int in, int out, int m, int n, int k, double medianMs, double gflops, double bestGflops) {
    }

    @Override
    public void run() {
        PrintWriter pw = spec.commandLine().getOut();
        if (rows < 1) throw new CliException("--rows must be >= 1, got " + rows);
        if (!(seconds > 0) || seconds > 600) throw new CliException("--seconds must be in (0, 600], got " + seconds);
        if (threads != null) {
            if (threads < 1) throw new CliException("--threads must be >= 1, got " + threads);
            Parallel.setThreads(threads);
        }
        if (!json) {
            pw.printf("matmul bench: rows=%d, threads=%d, simd=%s (%d lanes)%n",
                    rows, Parallel.threads(), Simd.ENABLED, Simd.F.length());
        }
        warmUp();
        List<Result> results = new ArrayList<>();
        for (int[] s : SHAPES) {
            int in = s[0], out = s[1];
            SplittableRandom rnd = new SplittableRandom(in * 31L + out);
            float[] x = random(rnd, rows * in);       // (rows, in)
            float[] w = random(rnd, out * in);        // (out, in)
            float[] dy = random(rnd, rows * out);     // (rows, out)
            float[] y = new float[rows * out];        // (rows, out)
            float[] dx = new float[rows * in];        // (rows, in)
            float[] dw = new float[out * in];         // (out, in)
            Runnable fwd = () -> Gemm.matmulNT(x, 0, w, 0, y, 0, rows, out, in, false);
            Runnable bwdX = () -> Gemm.matmulNN(dy, 0, w, 0, dx, 0, rows, in, out, false);
            Runnable bwdW = () -> Gemm.matmulTN(dy, 0, x, 0, dw, 0, out, in, rows, true);
            results.add(time("fwd X·Wt (NT)", in, out, rows, out, in, fwd));
            results.add(time("dX dY·W (NN)", in, out, rows, in, out, bwdX));
            results.add(time("dW dYt·X (TN)", in, out, out, in, rows, bwdW));
            if (!json) {
                for (Result r : results.subList(results.size() - 3, results.size())) {
                    pw.printf("  %4d->%-5d %-15s M=%-5d N=%-5d K=%-5d %8.2f ms %7.1f GFLOP/s (best %.1f)%n",
                            r.in, r.out, r.product, r.m, r.n, r.k, r.medianMs, r.gflops, r.bestGflops);
                }
            }
        }
        double median = median(results.stream().mapToDouble(Result::gflops).toArray());
        if (json) {
            pw.println(json(results, median));
        } else {
            pw.printf("median over products and shapes: %.1f GFLOP/s%n", median);
            pw.println("compare: python3 tools/sgemm_ceiling.py (run it in the same sitting; "
                    + "quote the ratio, not the absolute rate)");
        }
    }

    /**
     * Runs all three products on a mid-sized shape for a while first, so the JIT has compiled the
     * micro-kernel, the packers and the drivers (interpreted Vector API code is ~100× slower)
     * before anything is timed.
     */
    private void warmUp() {
        int m = Math.min(rows, 256), in = 768, out = 768;
        SplittableRandom rnd = new SplittableRandom(1);
        float[] x = random(rnd, m * in), w = random(rnd, out * in), dy = random(rnd, m * out);
        float[] y = new float[m * out], dx = new float[m * in], dw = new float[out * in];
        long end = System.nanoTime() + (long) (Math.min(2.0, Math.max(0.5, seconds)) * 1e9);
        for (int i = 0; i < 30 || System.nanoTime() < end; i++) {
            Gemm.matmulNT(x, 0, w, 0, y, 0, m, out, in, false);
            Gemm.matmulNN(dy, 0, w, 0, dx, 0, m, in, out, false);
            Gemm.matmulTN(dy, 0, x, 0, dw, 0, out, in, m, true);
        }
    }

    /** Times single calls (after two untimed ones) until the budget is spent; reports the median call. */
    private Result time(String product, int in, int out, int m, int n, int k, Runnable body) {
        double flops = 2.0 * m * n * k;
        long budget = (long) (seconds * 1e9);
        body.run();
        body.run();
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + budget;
        while (times.size() < 5 || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            body.run();
            times.add(System.nanoTime() - t0);
        }
        double[] ms = times.stream().mapToDouble(t -> t / 1e6).toArray();
        double med = median(ms);
        double best = Arrays.stream(ms).min().orElse(med);
        return new Result(product, in, out, m, n, k, med, flops / (med * 1e6), flops / (best * 1e6));
    }

    private String json(List<Result> results, double median) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("rows", rows).put("threads", Parallel.threads()).put("simd", Simd.ENABLED)
                .put("lanes", Simd.F.length()).put("median_gflops", median);
        ArrayNode arr = root.putArray("results");
        for (Result r : results) {
            arr.addObject().put("product", r.product).put("in", r.in).put("out", r.out)
                    .put("M", r.m).put("N", r.n).put("K", r.k)
                    .put("median_ms", r.medianMs).put("gflops", r.gflops).put("best_gflops", r.bestGflops);
        }
        root.put("ceiling", "python3 tools/sgemm_ceiling.py");
        return root.toString();
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() - 0.5);
        return x;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
