package dev.myllm.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scope that recycles the buffers of activations and their gradients: every buffer an op
 * allocates inside {@code try (Arena a = Arena.open()) { forward; backward; step }} goes back to a
 * pool when the scope closes, and the next step takes it from there instead of the heap. Training
 * therefore reaches a steady state with no new buffers per step. Tensors made inside the scope
 * are invalid after it closes: copy out what you keep ({@link Tensor#item()}, {@link Tensor#copy()}).
 * Parameters and their gradients are allocated outside any arena and live on.
 *
 * <p>The pool keeps the sizes the last two outermost scopes used: a loop whose shapes change
 * every step (generation without a KV cache, a growing prompt) cannot make it grow without bound,
 * and training steps that alternate with an evaluation (one outermost scope around its batches)
 * keep their buffers across it. A thread whose shapes recur less regularly (a server's prefill
 * passes, whose row counts depend on which prompts arrived together) can keep older sizes too, the
 * most recently used first, up to a number of bytes ({@link #retain}): a shape that comes back
 * then finds its buffers instead of allocating (and page-faulting, and having the collector copy)
 * hundreds of megabytes again.
 */
public final class Arena implements AutoCloseable {
    /** Free buffers of one length, and the outermost scope that last asked for that length. */
    private static final class Bucket {
        final int length;
        final ArrayDeque<float[]> free = new ArrayDeque<>();
        long lastUsed;

        Bucket(int length) {
            this.length = length;
        }
    }

    /**
     * One thread's free buffers by length, a count of its closed outermost scopes, the bytes of
     * older sizes it may keep, the floats it allocated from the heap, and the taken-sets of closed
     * scopes for the next ones to reuse.
     */
    private static final class Pool {
        final Map<Integer, Bucket> buckets = new HashMap<>();
        long generation;
        long retainBytes;
        long allocatedFloats;
        final ArrayDeque<IdentityHashMap<float[], Bucket>> spareSets = new ArrayDeque<>();

        Bucket bucket(int n) {
            return buckets.computeIfAbsent(n, Bucket::new);
        }
    }

    private static final ThreadLocal<Arena> CURRENT = new ThreadLocal<>();
    private static final ThreadLocal<Pool> POOL = ThreadLocal.withInitial(Pool::new);

    private final Arena outer;
    private final Pool pool;
    /** The buffers this scope handed out, each with its bucket. */
    private final IdentityHashMap<float[], Bucket> taken;
    private boolean closed;
    private long held, peak; // floats held now and at most, by this scope

    private Arena(Arena outer, Pool pool) {
        this.outer = outer;
        this.pool = pool;
        IdentityHashMap<float[], Bucket> spare = pool.spareSets.poll();
        this.taken = spare != null ? spare : new IdentityHashMap<>();
    }

    /** Opens a scope on this thread; scopes nest. */
    public static Arena open() {
        Arena a = new Arena(CURRENT.get(), POOL.get());
        CURRENT.set(a);
        return a;
    }

    /**
     * Lets this thread's pool keep, besides the sizes of its last two outermost scopes, older
     * sizes (the most recently used first) of up to {@code bytes} bytes in all; 0, the default,
     * keeps none. For threads whose shapes recur irregularly, such as a server's scheduler.
     */
    public static void retain(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("retain: bytes must be >= 0, got " + bytes);
        POOL.get().retainBytes = bytes;
    }

    /** Floats this thread's scopes have allocated from the heap so far, not taken from the pool (for tests and diagnostics). */
    public static long allocatedFloats() {
        return POOL.get().allocatedFloats;
    }

    /** Whether a scope is open on this thread. */
    public static boolean active() {
        return CURRENT.get() != null;
    }

    /** A zero-filled buffer of {@code n} floats: from the pool inside a scope, else from the heap. */
    public static float[] zeros(int n) {
        Arena a = CURRENT.get();
        if (a == null) return new float[n];
        float[] b = a.take(n);
        clear(b);
        return b;
    }

    /** Floats from which zero-filling is split over the threads: one thread's stores do not reach the memory bandwidth. */
    private static final int PARALLEL_CLEAR = 1 << 17;

    /** Sets every element to zero, on all threads when the buffer is large (gradients of big weights, activation gradients). */
    static void clear(float[] b) {
        if (b.length < PARALLEL_CLEAR) Arrays.fill(b, 0f);
        else Parallel.forRange(b.length, PARALLEL_CLEAR / 2, (s, e) -> Arrays.fill(b, s, e, 0f));
    }

    /** A buffer of {@code n} floats whose contents are undefined: the caller overwrites all of it. */
    public static float[] uninitialized(int n) {
        Arena a = CURRENT.get();
        return a == null ? new float[n] : a.take(n);
    }

    private float[] take(int n) {
        Bucket bucket = pool.bucket(n);
        bucket.lastUsed = pool.generation;
        float[] b = bucket.free.poll();
        if (b == null) {
            b = new float[n];
            pool.allocatedFloats += n;
        }
        taken.put(b, bucket);
        held += n;
        peak = Math.max(peak, held);
        return b;
    }

    /**
     * Gives a buffer back before the scope closes, because its contents are dead (the gradient of
     * an intermediate tensor once its backward has run): the next request for that length in this
     * scope reuses it, so a backward pass needs gradient memory for a few layers, not all. A buffer
     * the current scope did not hand out, or already gave back, is ignored.
     */
    public static void release(float[] b) {
        Arena a = CURRENT.get();
        if (a == null || b == null) return;
        Bucket bucket = a.taken.remove(b);
        if (bucket == null) return;
        a.held -= b.length;
        bucket.free.push(b);
    }

    /** Number of buffers this scope holds (handed out and not given back), for tests and diagnostics. */
    public int buffersTaken() {
        return taken.size();
    }

    /** The most floats this scope has held at once (for tests, diagnostics and memory estimates). */
    public long peakFloats() {
        return peak;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        taken.forEach((b, bucket) -> bucket.free.push(b));
        taken.clear();
        pool.spareSets.push(taken);
        CURRENT.set(outer);
        // the outer scope held the same while this one was open: its peak includes ours on top
        if (outer != null) outer.peak = Math.max(outer.peak, outer.held + peak);
        if (outer == null) forgetOldSizes();
    }

    /**
     * An outermost scope ends: forget the lengths neither it nor the one before asked for, but
     * those used most recently among them of up to {@link #retain} bytes in all.
     */
    private void forgetOldSizes() {
        long current = pool.generation++;
        List<Bucket> old = new ArrayList<>();
        for (Bucket b : pool.buckets.values()) if (b.lastUsed < current - 1) old.add(b);
        if (old.isEmpty()) return;
        old.sort((x, y) -> Long.compare(y.lastUsed, x.lastUsed)); // most recently used first
        long bytes = 0;
        boolean full = false;
        for (Bucket b : old) {
            if (!full && !b.free.isEmpty()) {
                bytes += 4L * b.length * b.free.size();
                full = bytes > pool.retainBytes;
                if (!full) continue;
            }
            pool.buckets.remove(b.length);
        }
    }

    /** Number of free buffers of length {@code n} in this thread's pool (for tests). */
    static int pooled(int n) {
        Bucket b = POOL.get().buckets.get(n);
        return b == null ? 0 : b.free.size();
    }

    /** Total floats held by this thread's pool (for tests and diagnostics). */
    static long pooledFloats() {
        long n = 0;
        for (Bucket b : POOL.get().buckets.values()) n += (long) b.length * b.free.size();
        return n;
    }

    /** Drops every pooled buffer of this thread (after training, to give the memory back). */
    public static void releasePool() {
        POOL.get().buckets.clear();
    }
}
