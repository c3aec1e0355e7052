package dev.myllm.server;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The forward passes served beside the decoding scheduler ({@code /v1/inspect}, {@code
 * /v1/embeddings}), one at a time on one platform thread, not on the requests' (virtual) threads:
 * its buffer pool ({@code Arena}) then outlives a request, so the next pass reuses the activation
 * buffers instead of allocating them anew, which made garbage collection the larger part of an
 * inspection.
 */
final class SideThread {
    private final Semaphore busy = new Semaphore(1);
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "myllm-side");
        t.setDaemon(true);
        return t;
    });

    /** Runs {@code work} on the thread once the one before it ended, waiting at most {@code waitMillis}; else a 429. */
    <T> T run(Callable<T> work, long waitMillis) throws InterruptedException {
        if (!busy.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
            throw new ApiError(429, "rate_limit_error", null, "busy", "Another inspection or embedding is running; retry later");
        }
        try {
            return worker.submit(work).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        } finally {
            busy.release();
        }
    }

    /** Ends the thread. */
    void close() {
        worker.shutdownNow();
    }
}
