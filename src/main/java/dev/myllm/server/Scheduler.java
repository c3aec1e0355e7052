package dev.myllm.server;

import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Continuous batching on one thread: each turn admits waiting sequences into free slots (up to
 * {@code maxBatch}), prefills the next chunks of new prompts together ({@link GPTModel#prefillStep},
 * a chunk's worth of tokens while streams are running, more when none is), then runs one decode
 * step for every running sequence together ({@link GPTModel#decodeStep}), samples each sequence's
 * next token with its own settings, and drops finished or cancelled sequences at once.
 *
 * <p>This class owns the queue, the turns and the lifecycle; {@link Passes} runs the model for a
 * turn, so each sequence gets bitwise the logits it would get alone.
 */
final class Scheduler implements Runnable {
    private final int maxBatch;
    private final int maxQueue;
    private final int prefillChunk;
    private final Metrics metrics;
    /** Prefill passes, decode steps and the sequences' caches. */
    private final Passes passes;
    private final Object lock = new Object();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();    // guarded by lock
    private final List<Sequence> active = new ArrayList<>();            // scheduler thread only
    private final List<Sequence> dropped = new ArrayList<>();           // a turn's cancelled sequences (scheduler thread only)
    private final List<Sequence> broken = new ArrayList<>();            // a failed turn's other sequences (scheduler thread only)
    /** What a sequence's listener hears when an internal error ended it; the error itself goes to the log. */
    static final String INTERNAL_ERROR = "internal error";
    /** The server's log, for internal errors (their details are not the client's business). */
    private final java.util.function.Consumer<String> log;
    private volatile boolean accepting = true;
    private volatile boolean stopped;
    private volatile String stopMessage;
    private volatile int activeCount;
    /** Requests being read and checked by the HTTP threads, not yet queued ({@link #arriving()}). */
    private final java.util.concurrent.atomic.AtomicInteger incoming = new java.util.concurrent.atomic.AtomicInteger();
    private final Thread thread;
    /** Where the scheduler thread's time goes (read through {@link #profile()}). */
    private final SchedulerTimes times;
    /** When an idle scheduler starts on a burst of requests (scheduler thread only). */
    private final BurstGathering gathering = new BurstGathering();
    private volatile boolean profileProducts;

    Scheduler(ServedModel served, int maxBatch, int maxQueue, int prefillChunk, Metrics metrics, java.util.function.Consumer<String> log) {
        this(served, maxBatch, maxQueue, prefillChunk, true, metrics, log);
    }

    /** With {@code promptCache}, a prompt starting as an earlier one did goes on from that one's kept positions ({@link CachePool}). */
    Scheduler(ServedModel served, int maxBatch, int maxQueue, int prefillChunk, boolean promptCache, Metrics metrics,
              java.util.function.Consumer<String> log) {
        this.log = log;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.prefillChunk = prefillChunk;
        this.metrics = metrics;
        this.times = new SchedulerTimes(maxBatch);
        this.passes = new Passes(served, maxBatch, promptCache, metrics, times);
        served.model().eval();
        this.thread = new Thread(this, "myllm-scheduler");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Why {@link #submit} refused. */
    enum Refusal { NONE, QUEUE_FULL, SHUTTING_DOWN }

    /** Queues all of a request's sequences, or none of them. */
    Refusal submit(List<Sequence> seqs) {
        synchronized (lock) {
            if (!accepting) return Refusal.SHUTTING_DOWN;
            if (waiting.size() + seqs.size() > maxQueue) return Refusal.QUEUE_FULL;
            waiting.addAll(seqs);
            metrics.queued(waiting.size());
            lock.notifyAll();
        }
        return Refusal.NONE;
    }

    /**
     * A request on its way to the queue (its body being read and checked): an idle scheduler
     * gathering a burst waits for it (up to the gathering limit), so requests that come together
     * are prefilled in one pass. Close it once the request is queued or refused.
     */
    Arrival arriving() {
        incoming.incrementAndGet();
        return new Arrival();
    }

    /** One request's place among the {@link #arriving()} ones; closing it twice counts once. */
    final class Arrival implements AutoCloseable {
        private boolean closed;

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            incoming.decrementAndGet();
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    /** The time split so far (see {@link SchedulerProfile}). */
    SchedulerProfile profile() {
        return times.profile();
    }

    /** From its next turn on, the scheduler thread times every matrix product ({@link dev.myllm.tensor.StepProfile}). */
    void profileProducts() {
        profileProducts = true;
    }

    int waitingCount() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    int activeCount() {
        return activeCount;
    }

    /** KV caches taken from the pool by sequences and not given back yet (0 once nothing runs). */
    int cachesInUse() {
        return passes.cachesInUse();
    }

    /** Stops taking sequences; running and queued ones go on until {@link #stop(String)}. */
    void stopAccepting() {
        accepting = false;
    }

    /** Whether nothing is queued or running. */
    boolean idle() {
        return waitingCount() == 0 && activeCount == 0;
    }

    /**
     * Ends the loop; sequences still queued or running fail with {@code message}. Waits up to 10 s
     * for a turn in progress to end.
     */
    void stop(String message) {
        stop(message, STOP_WAIT_MILLIS);
    }

    /** How long {@link #stop(String)} waits for a turn in progress. */
    static final long STOP_WAIT_MILLIS = 10_000;

    /**
     * As {@link #stop(String)}, waiting at most {@code waitMillis}; returns whether the loop has
     * ended. The scheduler thread itself ends what is left once its turn is over (it owns the
     * running sequences: failing them from here while a long turn still ran them raced it), giving
     * their caches back and setting the gauge.
     */
    boolean stop(String message, long waitMillis) {
        stopMessage = message;
        accepting = false;
        stopped = true;
        synchronized (lock) {
            lock.notifyAll();
        }
        try {
            thread.join(waitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /** On the scheduler thread as it ends: every sequence not yet done fails with the stop's message. */
    private void failLeft() {
        List<Sequence> left = new ArrayList<>(active);
        synchronized (lock) {
            left.addAll(waiting);
            waiting.clear();
        }
        active.clear();
        for (Sequence s : left) if (s.cache != null) passes.release(s);
        activeCount = 0;
        metrics.active(0);
        String message = stopMessage == null ? "the scheduler stopped" : stopMessage;
        for (Sequence s : left) {
            if (s.state == Sequence.State.DONE) continue;
            s.state = Sequence.State.DONE;
            try {
                s.listener.failed(s, message);
            } catch (RuntimeException e) { // (a buggy listener must not keep the others from hearing)
                log.accept("scheduler: a listener failed at stop: " + ApiError.detail(e));
            }
        }
    }

    /**
     * Bytes of activation buffers of older shapes the scheduler thread's arena keeps (beyond the
     * last two prefill passes'): a pass's row count is the prompt tokens that arrived together, so
     * the shapes of one wave come back a few passes later, and each new allocation of them was
     * hundreds of megabytes to page in and for the collector to copy (gpt2-small: 270 MB for 8
     * prompts of 64 tokens). An eighth of the heap, at most 2 GB.
     */
    static long arenaRetainBytes() {
        return Math.min(2L << 30, Runtime.getRuntime().maxMemory() / 8);
    }

    @Override
    public void run() {
        Arena.retain(arenaRetainBytes());
        try {
            loop();
        } finally {
            passes.endEpoch();
            failLeft();
        }
    }

    private void loop() {
        try (GradMode g = GradMode.noGrad()) {
            while (!stopped) {
                if (profileProducts) {
                    profileProducts = false;
                    dev.myllm.tensor.StepProfile.start();
                }
                long t0 = System.nanoTime();
                admit();
                if (active.isEmpty()) {
                    passes.endEpoch(); // nothing runs: the pool may forget sizes no one asks for
                    synchronized (lock) {
                        if (waiting.isEmpty() && !stopped) {
                            try {
                                lock.wait(50);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                    times.idle(System.nanoTime() - t0);
                    continue;
                }
                if (freshBurst()) {
                    long g0 = System.nanoTime();
                    try {
                        gather();
                    } catch (InterruptedException e) {
                        return;
                    }
                    admit();
                    long gathered = System.nanoTime() - g0;
                    t0 += gathered;
                    times.idle(gathered);
                }
                times.startTurn();
                int before = active.size();
                try {
                    turn();
                } catch (RuntimeException | OutOfMemoryError e) {
                    turnFailed(e);
                }
                for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
                    Sequence s = it.next();
                    if (s.state == Sequence.State.DONE) {
                        it.remove();
                    } else if (s.cancelled()) {
                        s.state = Sequence.State.DONE;
                        passes.release(s);
                        it.remove();
                        dropped.add(s);
                    }
                }
                activeCount = active.size();
                gathering.turnEnded(before, activeCount);
                // the gauge, then the counts, then the news: a scrape that sees a cancellation (or an
                // internal error's failure) counted never sees its slot still held, and its request
                // ends with both already updated
                metrics.active(activeCount);
                metrics.cancelled(dropped.size());
                metrics.failed(broken.size());
                for (Sequence s : dropped) s.listener.failed(s, "cancelled");
                for (Sequence s : broken) s.listener.failed(s, INTERNAL_ERROR);
                dropped.clear();
                broken.clear();
                times.endTurn(System.nanoTime() - t0);
            }
        }
    }

    /**
     * After a turn threw: never leave a client hanging, and keep serving. Every sequence still
     * running ends here as the turn's drops do (its cache back in the pool, which resets it when
     * taken again; the gauge and the counts updated before its request hears of it): a cancelled
     * one as cancelled, the others failed with {@link #INTERNAL_ERROR}, the exception itself only
     * in the server's log. The turn's own arena scopes closed as it unwound; the outermost one is
     * closed here too, so the next turn starts from no open scope, and after running out of memory
     * the arena's pooled buffers go back to the heap.
     */
    private void turnFailed(Throwable e) {
        for (Sequence s : active) {
            passes.discard(s); // also of one that finished in this turn before the throw, whose cache the turn had no time to give back
            if (s.state == Sequence.State.DONE) continue;
            s.state = Sequence.State.DONE;
            (s.cancelled() ? dropped : broken).add(s);
        }
        passes.endEpoch();
        if (e instanceof OutOfMemoryError) Arena.releasePool();
        int n = broken.size();
        log.accept("scheduler: a turn failed, " + n + (n == 1 ? " sequence" : " sequences") + " with it: " + ApiError.detail(e));
    }

    /** Whether no sequence runs yet: all admitted ones wait for their first prompt chunk. */
    private boolean freshBurst() {
        for (Sequence s : active) if (s.state != Sequence.State.PREFILL || s.prefilled > 0) return false;
        return true;
    }

    /** Before the first prefill of a burst, waits for the rest of it ({@link BurstGathering}). */
    private void gather() throws InterruptedException {
        gathering.await(lock, maxBatch, () -> active.size() + waiting.size(), incoming::get, () -> stopped);
    }

    /** Moves waiting sequences into free slots; drops cancelled ones without running them. */
    private void admit() {
        synchronized (lock) {
            while (active.size() < maxBatch && !waiting.isEmpty()) {
                Sequence s = waiting.poll();
                if (s.cancelled()) {
                    metrics.cancelled(); // counted before its request hears of it, as in the turn's drops
                    s.listener.failed(s, "cancelled");
                    continue;
                }
                s.state = Sequence.State.PREFILL;
                active.add(s);
            }
            metrics.queued(waiting.size());
        }
        activeCount = active.size();
    }

    private void turn() {
        List<Sequence> decoding = new ArrayList<>();
        List<Sequence> prefilling = new ArrayList<>();
        for (Sequence s : active) {
            if (s.cancelled() || s.state == Sequence.State.DONE) continue;
            if (s.state == Sequence.State.DECODE) decoding.add(s);
            else if (s.state == Sequence.State.PREFILL) prefilling.add(s);
        }
        // prompt tokens this turn: when no stream waits on it, a chunk for every slot (up to 16),
        // so a burst of requests is prefilled in one pass (the weights read once for all) and
        // starts decoding at the same step; while streams run, a chunk for each prompt waiting, up
        // to four, so several that arrive together join in one short stall rather than one by one
        int budget = decoding.isEmpty() ? Math.max(8, Math.min(16, maxBatch)) * prefillChunk
                : Math.min(4, prefilling.size()) * prefillChunk;
        if (!prefilling.isEmpty()) {
            Sequence head = prefilling.getFirst();
            // echo with logprobs needs every position's logits: such a prompt runs alone
            if (head.promptLogprobs) passes.prefill(head, budget);
            else passes.prefillTogether(prefilling, budget);
        }
        if (!decoding.isEmpty()) passes.decode(decoding);
    }

}
