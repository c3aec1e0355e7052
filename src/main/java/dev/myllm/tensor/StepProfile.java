package dev.myllm.tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a training step's time goes ({@code bench train --profile}): the wall time of every
 * matrix product, by kind and shape, and of attention forward and backward, summed while a
 * profile is on. Only the thread that started it is timed, and only the outermost timed call
 * (a product inside another timed kernel counts once). Off, each hook is one field read.
 */
public final class StepProfile {
    /** One timed kind of call: its label, how often it ran, its total time and floating-point operations. */
    public record Entry(String label, long calls, long nanos, double flops) {
        /** Achieved rate, or 0 when the label has no FLOP count. */
        public double gflops() {
            return nanos == 0 ? 0 : flops / nanos;
        }
    }

    private static volatile Thread owner;
    private static boolean busy;
    private static final Map<String, long[]> TIMES = new LinkedHashMap<>();
    private static final Map<String, Double> FLOPS = new LinkedHashMap<>();

    private StepProfile() {
    }

    /** Starts timing on this thread, forgetting what was measured before. */
    public static synchronized void start() {
        TIMES.clear();
        FLOPS.clear();
        busy = false;
        owner = Thread.currentThread();
    }

    /** Stops timing. */
    public static void stop() {
        owner = null;
    }

    /** What was measured since {@link #start()}, longest total first. */
    public static synchronized List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        TIMES.forEach((k, t) -> out.add(new Entry(k, t[0], t[1], FLOPS.getOrDefault(k, 0.0))));
        out.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        return out;
    }

    /** The start time of a timed call, or 0 when this call is not timed (profile off, other thread, nested). */
    static long begin() {
        if (owner != Thread.currentThread() || busy) return 0;
        busy = true;
        return System.nanoTime();
    }

    /** Ends a product begun at {@code t0}: labelled by kind and shape, 2·M·N·K operations. */
    static void endProduct(long t0, String kind, int m, int n, int k) {
        if (t0 == 0) return;
        long dt = System.nanoTime() - t0;
        add(String.format(Locale.ROOT, "matmul %s %d×%d×%d", kind, m, n, k), dt, 2.0 * m * n * k);
    }

    /** Ends another call begun at {@code t0}, with its operation count (0 if none is given). */
    static void end(long t0, String label, double flops) {
        if (t0 == 0) return;
        add(label, System.nanoTime() - t0, flops);
    }

    private static synchronized void add(String label, long nanos, double flops) {
        busy = false;
        long[] t = TIMES.computeIfAbsent(label, k -> new long[2]);
        t[0]++;
        t[1] += nanos;
        FLOPS.merge(label, flops, Double::sum);
    }
}
