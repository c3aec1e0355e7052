package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool: every index of a loop runs exactly once whichever thread claims its range, a failure in
 * any range reaches the caller, and a loop started while another holds the pool runs on its caller.
 */
class ParallelTest {
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    @Test
    void everyIndexRunsExactlyOnceForAnyThreadCount() {
        for (int threads : new int[]{1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{1, 2, 7, 64, 1001}) {
                for (int rep = 0; rep < 50; rep++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    Parallel.forRange(n, 1, (s, e) -> {
                        for (int i = s; i < e; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("index %d of %d, %d threads", i, n, threads).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void statsCountLoopsAndTheirRanges() {
        Parallel.setThreads(2);
        Parallel.Stats before = Parallel.stats();
        for (int i = 0; i < 20; i++) Parallel.forRange(10, 1, (s, e) -> { });
        Parallel.forRange(1, 1, (s, e) -> { });   // one range: runs inline, not a split loop
        Parallel.Stats d = Parallel.stats().since(before);
        assertThat(d.jobs()).isEqualTo(20);
        assertThat(d.ranges()).isEqualTo(40);
        assertThat(d.rangesByCaller()).isBetween(0L, 40L); // usually at least one each, but a spinning worker may take both
        assertThat(d.waitNanos()).isNotNegative();
    }

    @Test
    void aFailureInAnyRangeReachesTheCaller() {
        Parallel.setThreads(3);
        for (int bad = 0; bad < 3; bad++) {
            int b = bad;
            assertThatThrownBy(() -> Parallel.forRange(3, 1, (s, e) -> {
                if (s == b) throw new IllegalArgumentException("range " + s);
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("range " + bad);
        }
        // the pool still works afterwards
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        Parallel.forRange(10, 1, (s, e) -> {
            for (int i = s; i < e; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < 10; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void aLoopStartedWhileThePoolIsBusyRunsOnItsCaller() throws Exception {
        Parallel.setThreads(2);
        // another thread's loop holds the pool (one of its ranges waits): a loop started meanwhile
        // does not wait for it, it runs all its ranges on its own thread
        CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread holder = new Thread(() -> Parallel.forRange(2, 1, (s, e) -> {
            if (s == 0) return;
            inside.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }));
        holder.start();
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        ConcurrentHashMap<Thread, Boolean> ran = new ConcurrentHashMap<>();
        Parallel.forRange(8, 1, (s, e) -> ran.put(Thread.currentThread(), true));
        assertThat(ran.keySet()).containsExactly(Thread.currentThread());
        release.countDown();
        holder.join(10_000);
        assertThat(holder.isAlive()).isFalse();
    }

    @Test
    void afterRestTheNextLoopWakesTheWorkersAndCoversEveryIndex() throws Exception {
        Parallel.setThreads(2);
        for (int rep = 0; rep < 20; rep++) {
            Parallel.rest();
            if (rep % 5 == 0) Thread.sleep(2); // long enough for the worker to park
            // each range waits until both have started: only two threads at once get through at once
            CountDownLatch both = new CountDownLatch(2);
            ConcurrentHashMap<Thread, Boolean> ran = new ConcurrentHashMap<>();
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            Parallel.forRange(10, 5, (s, e) -> {
                ran.put(Thread.currentThread(), true);
                both.countDown();
                try {
                    both.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                for (int i = s; i < e; i++) hits.incrementAndGet(i);
            });
            assertThat(both.getCount()).as("rep %d: the worker woke for the loop after rest()", rep).isZero();
            assertThat(ran).hasSize(2);
            for (int i = 0; i < 10; i++) assertThat(hits.get(i)).isEqualTo(1);
        }
    }
}
