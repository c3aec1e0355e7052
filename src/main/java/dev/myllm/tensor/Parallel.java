package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one shared thread pool. Work is split into contiguous ranges of independent outputs (rows,
 * tiles), never over a reduction, so every result is bitwise the same for any number of threads.
 *
 * <p>Decoding one token runs about fifty small matrix-vector products back to back, each a
 * fraction of a millisecond; waking a parked thread for each would cost a large share of that.
 * So the workers spin for a short while after each job, waiting for the next one, before they
 * park.
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
    /** How long an idle worker spins for the next job before it parks. */
    private static final long SPIN_NANOS = 200_000;

    /**
     * One job handed to the workers: a body over {@code [0, n)} in {@code chunks} ranges. Any
     * thread claims the next unclaimed range; the dispatching thread claims ranges too, so a worker
     * that starts late (parked, or descheduled by another thread or process) leaves its range to
     * the others instead of holding the job up; only ranges already being run are waited for.
     */
    private static final class Job {
        final RangeBody body;
        final int n, chunks;
        final AtomicInteger claimed = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Runs ranges until none is left unclaimed; returns how many this thread ran. */
        int work() {
            int ran = 0;
            for (int c; (c = claimed.getAndIncrement()) < chunks; ran++) {
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
            return ran;
        }
    }

    /**
     * What the pool did since the start (for profiles): loops split over threads, their ranges,
     * how many of them the dispatching thread ran itself, and how long it then waited for ranges
     * other threads were still running.
     */
    public record Stats(long jobs, long ranges, long rangesByCaller, long waitNanos) {
        /** The difference from an earlier reading. */
        public Stats since(Stats earlier) {
            return new Stats(jobs - earlier.jobs, ranges - earlier.ranges, rangesByCaller - earlier.rangesByCaller,
                    waitNanos - earlier.waitNanos);
        }
    }

    // written only by the thread holding DISPATCH
    private static volatile long jobs, ranges, rangesByCaller, waitNanos;

    /** The pool's counts so far. */
    public static Stats stats() {
        return new Stats(jobs, ranges, rangesByCaller, waitNanos);
    }

    private static final ReentrantLock DISPATCH = new ReentrantLock();
    /** Set by {@link #rest()}: idle workers park at once instead of spinning; the next job clears it. */
    private static volatile boolean resting;
    /** The job being run, or null; each job is a new object, so a worker never runs one twice. */
    private static volatile Job job;
    private static Worker[] workers = new Worker[0];

    private Parallel() {
    }

    /** The number of threads loops use ({@code -Dmyllm.threads=N}, default, or 0: all cores). */
    public static int threads() {
        return threads;
    }

    /** Changes the thread count at run time (tests use it to show results do not depend on it). */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        threads = n;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous ranges
     * of at least {@code grain} items each; the calling thread takes ranges too, and runs any that no
     * worker has started by the time it is free. A call from
     * inside a job, or while another thread is dispatching, runs on the calling thread alone: the
     * result is the same either way.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || Thread.currentThread() instanceof Worker || DISPATCH.isHeldByCurrentThread()
                || !DISPATCH.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Worker[] ws = workersFor(chunks - 1);
            Job j = new Job(body, n, chunks);
            if (resting) resting = false;
            job = j; // publishes the job
            for (int w = 0; w < chunks - 1; w++) if (ws[w].sleeping) LockSupport.unpark(ws[w]);
            int mine = j.work();
            if (j.done.get() < chunks) {
                long w0 = System.nanoTime();
                for (int spins = 0; j.done.get() < chunks; spins++) {
                    if (spins < 1 << 16) Thread.onSpinWait();
                    else Thread.yield();
                }
                waitNanos += System.nanoTime() - w0;
            }
            job = null;
            jobs++;
            ranges += chunks;
            rangesByCaller += mine;
            Throwable t = j.failure;
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            DISPATCH.unlock();
        }
    }

    /**
     * Tells the idle workers that no job is coming soon, so they park now instead of spinning for
     * the next one: a caller that hands work to other threads between bursts of loops (a server
     * passing each decoded token to its request threads) leaves them a free core rather than one
     * held by a spinning worker, with the handing-off thread itself preempted. The next loop wakes
     * the workers. Results do not change.
     */
    public static void rest() {
        resting = true;
    }

    /** The first {@code k} workers, started on first need (called under the dispatch lock). */
    private static Worker[] workersFor(int k) {
        if (workers.length < k) {
            Worker[] grown = java.util.Arrays.copyOf(workers, k);
            for (int i = workers.length; i < k; i++) {
                grown[i] = new Worker(i + 1);
                grown[i].start();
            }
            workers = grown;
        }
        return workers;
    }

    /** A pool thread: takes ranges of every job it sees until none is left. */
    private static final class Worker extends Thread {
        private Job last;
        volatile boolean sleeping;

        Worker(int index) {
            super("myllm-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            while (true) {
                awaitNextJob().work();
            }
        }

        private boolean idle() {
            Job j = job;
            return j == null || j == last;
        }

        private Job awaitNextJob() {
            long start = System.nanoTime();
            for (int spins = 0; ; spins++) {
                Job j = job;
                if (j != null && j != last) {
                    last = j;
                    return j;
                }
                if (!resting && ((spins & 63) != 0 || System.nanoTime() - start < SPIN_NANOS)) {
                    Thread.onSpinWait();
                    continue;
                }
                // volatile write, then re-read: either the dispatcher sees us sleeping and
                // unparks us, or we see its new job and do not park
                sleeping = true;
                if (idle()) LockSupport.park(this);
                sleeping = false;
                start = System.nanoTime();
            }
        }
    }
}
