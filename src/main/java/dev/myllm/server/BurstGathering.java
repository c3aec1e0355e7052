package dev.myllm.server;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * How long an idle scheduler waits, before the first prefill of a burst, for the rest of it.
 * Requests that come together arrive a few hundred microseconds to a few milliseconds apart (the
 * HTTP threads share the cores): while they keep coming (each within GATHER_GAP of the last) or
 * others are still being read, up to GATHER_MAX in all, it waits for them, so one prefill pass
 * takes them all (the weights read once, the products at their best rate); a lone request waits
 * one gap. Right after the last running sequences finished, their clients' next requests are
 * expected: it waits for as many (up to RETURN_MAX), and not at all for one alone; more than
 * expected make a burst. Scheduler thread only.
 */
final class BurstGathering {
    /** How long an idle scheduler waits after an arrival for the next one before it starts. */
    private static final long GATHER_GAP_NANOS = 8_000_000;
    /** The longest it gathers a burst. */
    private static final long GATHER_MAX_NANOS = 30_000_000;
    /**
     * After a turn in which the last running sequences finished, arrivals within this long count
     * as their clients' next requests ({@link #returning}).
     */
    private static final long RETURN_WINDOW_NANOS = 250_000_000;
    /** The longest an idle scheduler waits for the clients of sequences that just finished to come back. */
    private static final long RETURN_MAX_NANOS = 50_000_000;

    /**
     * Sequences that finished within {@link #RETURN_WINDOW_NANOS} before the last running one did,
     * and when that was: their clients may be about to send their next requests.
     */
    private int returning;
    private long emptiedNanos;
    /** When sequences finished recently, and how many: {time, count}. */
    private final ArrayDeque<long[]> finishes = new ArrayDeque<>();

    /** After a turn: {@code before} sequences ran, {@code after} still do. */
    void turnEnded(int before, int after) {
        if (after < before) {
            long now = System.nanoTime();
            finishes.add(new long[]{now, before - after});
            while (now - finishes.getFirst()[0] > RETURN_WINDOW_NANOS) finishes.removeFirst();
        }
        if (after == 0) {
            // all of them, not only the last turn's: a burst split over several passes
            // finishes over several turns, and its clients come back together
            returning = 0;
            for (long[] f : finishes) returning += (int) f[1];
            finishes.clear();
            emptiedNanos = System.nanoTime();
        }
    }

    /**
     * Waits on {@code lock} (whose {@code notifyAll} announces arrivals) while the burst is still
     * coming: {@code sequences} counts those admitted or queued (read under the lock),
     * {@code reading} the requests still being read, up to {@code maxBatch} of them.
     */
    void await(Object lock, int maxBatch, IntSupplier sequences, IntSupplier reading, BooleanSupplier stopped)
            throws InterruptedException {
        long now = System.nanoTime();
        boolean expected = returning > 0 && now - emptiedNanos < RETURN_WINDOW_NANOS;
        int want = expected ? Math.min(maxBatch, returning) : maxBatch;
        long until = now + (expected ? RETURN_MAX_NANOS : GATHER_MAX_NANOS), quiet = now + GATHER_GAP_NANOS;
        returning = 0;
        synchronized (lock) {
            int seen = sequences.getAsInt();
            while (seen < maxBatch && !stopped.getAsBoolean() && now < until && more(expected, seen, want, now < quiet, reading.getAsInt())) {
                // arrivals, requests read and a stop notify the lock; the timeout is only the next
                // deadline (the quiet gap's end, or the limit while a request is still being read),
                // rounded up to whole milliseconds. (The former lock.wait(0, 200_000) was no 0.2 ms
                // poll: Object.wait rounds nanoseconds up to a millisecond, so it woke every 1 ms.)
                long next = now < quiet && reading.getAsInt() == 0 ? Math.min(quiet, until) : until;
                lock.wait(Math.max(1, (next - now + 999_999) / 1_000_000));
                now = System.nanoTime();
                int n = sequences.getAsInt();
                if (n != seen) {
                    seen = n;
                    quiet = now + GATHER_GAP_NANOS;
                }
            }
        }
    }

    /**
     * Whether to wait on: for requests being read; for expected clients until as many came back,
     * then no longer (a lone client's next request does not wait); for a burst (nothing expected, or
     * more than expected: 8 new streams right after 1 finished took their first request as the one
     * returning client, prefilled it alone and the rest in two more passes) while arrivals keep
     * coming within the quiet gap.
     */
    private static boolean more(boolean expected, int seen, int want, boolean beforeQuiet, int reading) {
        if (reading > 0) return true;
        if (expected && seen <= want) return seen < want;
        return beforeQuiet;
    }
}
