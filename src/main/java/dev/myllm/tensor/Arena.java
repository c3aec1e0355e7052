package dev.myllm.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A scope that recycles the buffers of activations and their gradients: every buffer an op
 * allocates inside {@code try (Arena a = Arena.open()) { forward; backward; step }} goes back to a
 * pool when the scope closes, and the next step takes it from there instead of the heap. Training
 * therefore reaches a steady state with no new buffers per step. Tensors made inside the scope
 * are invalid after it closes: copy out what you keep ({@link Tensor#item()}, {@link Tensor#copy()}).
 * Parameters and their gradients are allocated outside any arena and live on.
 *
 * <p>The pool keeps only the sizes the last two outermost scopes used: a loop whose shapes change
 * every step (generation without a KV cache, a growing prompt) cannot make it grow without bound,
 * and training steps that alternate with an evaluation (one outermost scope around its batches)
 * keep their buffers across it.
 */
public final class Arena implements AutoCloseable {
    /** Free buffers of one length, and the outermost scope that last asked for that length. */
    private static final class Bucket {
        final ArrayDeque<float[]> free = new ArrayDeque<>();
        long lastUsed;
    }

    /** One thread's free buffers by length, and a count of its closed outermost scopes. */
    private static final class Pool {
        final Map<Integer, Bucket> buckets = new HashMap<>();
        long generation;
    }

    private static final ThreadLocal<Arena> CURRENT = new ThreadLocal<>();
    private static final ThreadLocal<Pool> POOL = ThreadLocal.withInitial(Pool::new);

    private final Arena outer;
    private final Set<float[]> taken = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;
    private long held, peak; // floats held now and at most, by this scope

    private Arena(Arena outer) {
        this.outer = outer;
    }

    /** Opens a scope on this thread; scopes nest. */
    public static Arena open() {
        Arena a = new Arena(CURRENT.get());
        CURRENT.set(a);
        return a;
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
        Pool pool = POOL.get();
        Bucket bucket = pool.buckets.computeIfAbsent(n, k -> new Bucket());
        bucket.lastUsed = pool.generation;
        float[] b = bucket.free.isEmpty() ? new float[n] : bucket.free.pop();
        taken.add(b);
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
        if (a == null || b == null || !a.taken.remove(b)) return;
        a.held -= b.length;
        POOL.get().buckets.get(b.length).free.push(b);
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
        Pool pool = POOL.get();
        for (float[] b : taken) pool.buckets.get(b.length).free.push(b);
        taken.clear();
        CURRENT.set(outer);
        // the outer scope held the same while this one was open: its peak includes ours on top
        if (outer != null) outer.peak = Math.max(outer.peak, outer.held + peak);
        if (outer == null) {
            // an outermost scope ends: forget the lengths neither it nor the one before asked for
            long current = pool.generation++;
            pool.buckets.values().removeIf(bucket -> bucket.lastUsed < current - 1);
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
        for (var e : POOL.get().buckets.entrySet()) n += (long) e.getKey() * e.getValue().free.size();
        return n;
    }

    /** Drops every pooled buffer of this thread (after training, to give the memory back). */
    public static void releasePool() {
        POOL.get().buckets.clear();
    }
}
