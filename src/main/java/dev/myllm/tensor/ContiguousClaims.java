package dev.myllm.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Tasks {@code [0, n)} cut into a few contiguous parts of about equal weight, one per thread:
 * each thread takes its own part's tasks from the front, in order, and once it is done takes
 * the tasks left in the other parts from their backs. So each thread reads memory in long runs
 * (its part's tasks lie side by side), yet a thread that starts late or runs slowly has its
 * remaining work taken over. For tasks that stream neighbouring memory, such as the decode
 * attention's (sequence, head) tasks over their caches: summing 8 sequences' caches as those tasks,
 * two threads taking tasks as they came free took 1.6 times as long as each taking one contiguous
 * half (likely the hardware prefetcher running past each task's end into the other thread's
 * memory), and the decode attention itself took 0.85x the time with these parts (tools/AttentionAB).
 * Which thread runs a task never changes what the task computes.
 */
final class ContiguousClaims {
    /** Per part, the next task from the front (high 32 bits) and one past the last from the back (low 32 bits). */
    private final AtomicLong[] parts;

    /**
     * Cuts {@code [0, weights.length)} into {@code count} parts of about equal total weight
     * (weights ≥ 0; a part may be empty).
     */
    ContiguousClaims(long[] weights, int count) {
        long total = 0;
        for (long w : weights) total += w;
        parts = new AtomicLong[count];
        int start = 0;
        long sum = 0;
        for (int p = 0; p < count; p++) {
            int end = start;
            long target = total * (p + 1) / count;
            if (p == count - 1) end = weights.length;
            else while (end < weights.length && 2 * sum + weights[end] < 2 * target) sum += weights[end++]; // takes a task whose middle comes before the target
            parts[p] = new AtomicLong((long) start << 32 | end);
            start = end;
        }
    }

    /** The number of parts. */
    int count() {
        return parts.length;
    }

    /**
     * The next task for the thread that owns part {@code own}: the front of its own part, then
     * the backs of the others in turn; -1 when none is left.
     */
    int next(int own) {
        int t = takeFront(parts[own]);
        for (int i = 1; t < 0 && i < parts.length; i++) t = takeBack(parts[(own + i) % parts.length]);
        return t;
    }

    private static int takeFront(AtomicLong part) {
        for (;;) {
            long v = part.get();
            int front = (int) (v >>> 32), back = (int) v;
            if (front >= back) return -1;
            if (part.compareAndSet(v, (long) (front + 1) << 32 | back)) return front;
        }
    }

    private static int takeBack(AtomicLong part) {
        for (;;) {
            long v = part.get();
            int front = (int) (v >>> 32), back = (int) v;
            if (front >= back) return -1;
            if (part.compareAndSet(v, (long) front << 32 | (back - 1))) return back - 1;
        }
    }
}
