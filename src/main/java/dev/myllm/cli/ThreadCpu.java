package dev.myllm.cli;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process's threads, grouped by name with the numbers taken out (the
 * scheduler, the pool's workers, the HTTP server's carriers, the load generator's threads):
 * what a token costs on each, beside the model's own work.
 */
record ThreadCpu(Map<Long, String> names, Map<Long, Long> nanos, Map<Long, Long> bytes, long process) {
    static ThreadCpu now() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> nanos = new HashMap<>(), bytes = new HashMap<>();
        for (ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti == null) continue;
            long t = mx.getThreadCpuTime(ti.getThreadId());
            if (t < 0) continue;
            names.put(ti.getThreadId(), ti.getThreadName().replaceAll("[@{].*", "").replaceAll("\\d+", "N"));
            nanos.put(ti.getThreadId(), t);
            // allocation tells where the garbage that the collector pauses for comes from
            if (mx instanceof com.sun.management.ThreadMXBean sun) bytes.put(ti.getThreadId(), Math.max(0, sun.getThreadAllocatedBytes(ti.getThreadId())));
        }
        long process = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        return new ThreadCpu(names, nanos, bytes, process);
    }

    /** CPU spent and bytes allocated since {@code earlier}, per thread (threads started since count from zero). */
    ThreadCpu since(ThreadCpu earlier) {
        Map<Long, Long> d = new HashMap<>(), b = new HashMap<>();
        for (var e : nanos.entrySet()) d.put(e.getKey(), e.getValue() - earlier.nanos.getOrDefault(e.getKey(), 0L));
        for (var e : bytes.entrySet()) b.put(e.getKey(), e.getValue() - earlier.bytes.getOrDefault(e.getKey(), 0L));
        return new ThreadCpu(names, d, b, process < 0 || earlier.process < 0 ? -1 : process - earlier.process);
    }

    void print(PrintWriter out, String who, long tokens) {
        Map<String, Long> byGroup = new TreeMap<>();
        for (var e : nanos.entrySet()) byGroup.merge(names.get(e.getKey()), e.getValue(), Long::sum);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "    cpu ms per token (%s):", who));
        long threads = 0;
        for (var e : byGroup.entrySet()) {
            threads += e.getValue();
            if (e.getValue() / 1e6 / tokens >= 0.005) sb.append(String.format(Locale.ROOT, " %s %.3f;", e.getKey(), e.getValue() / 1e6 / tokens));
        }
        if (process >= 0) sb.append(String.format(Locale.ROOT, " other (GC, JIT) %.3f", (process - threads) / 1e6 / tokens));
        out.println(sb);
        if (bytes.isEmpty()) return;
        Map<String, Long> allocated = new TreeMap<>();
        for (var e : bytes.entrySet()) allocated.merge(names.get(e.getKey()), e.getValue(), Long::sum);
        StringBuilder kb = new StringBuilder(String.format(Locale.ROOT, "    KB allocated per token (%s):", who));
        for (var e : allocated.entrySet()) {
            if (e.getValue() / 1024.0 / tokens >= 0.05) kb.append(String.format(Locale.ROOT, " %s %.1f;", e.getKey(), e.getValue() / 1024.0 / tokens));
        }
        out.println(kb);
    }
}
