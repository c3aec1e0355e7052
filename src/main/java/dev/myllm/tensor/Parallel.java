package dev.myllm.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * The one shared thread pool. Work is split into contiguous ranges of independent outputs (rows,
 * tiles), never over a reduction, so every result is bitwise the same for any number of threads.
 */
public final class Parallel {
    /** Body of a parallel loop: handles the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static volatile int threads = Integer.getInteger("myllm.threads", 0) > 0
            ? Integer.getInteger("myllm.threads", 0) : CORES;
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(CORES, threads),
            pool -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("myllm-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private Parallel() {
    }

    /** The number of threads loops use ({@code -Dmyllm.threads=N}, default: all cores). */
    public static int threads() {
        return threads;
    }

    /** Changes the thread count at run time (tests use it to show results do not depend on it). */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        threads = n;
    }

    private static boolean insidePool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous ranges
     * of at least {@code grain} items each; the calling thread takes the first range.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || insidePool()) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(start, end));
        }
        body.run(0, (int) ((long) n / chunks));
        for (ForkJoinTask<?> t : tasks) t.join();
    }
}
