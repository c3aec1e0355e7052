package dev.myllm.tensor;

import static dev.myllm.tensor.GemmSmall.BIT0;
import static dev.myllm.tensor.GemmSmall.BIT1;
import static dev.myllm.tensor.GemmSmall.BIT2;
import static dev.myllm.tensor.GemmSmall.XOR0;
import static dev.myllm.tensor.GemmSmall.XOR1;
import static dev.myllm.tensor.GemmSmall.XOR2;
import static dev.myllm.tensor.GemmSmall.XOR3;

import jdk.incubator.vector.FloatVector;

/**
 * Causal attention of new tokens against a key/value cache, for inference: it appends the new
 * tokens' keys and values to the cache and attends each new query to every cached position up to
 * its own. It reads the fused QKV projection directly and writes heads already concatenated, so
 * decoding one token needs no transposes. Not differentiable: call it under {@link GradMode#noGrad()}.
 */
public final class CachedAttention {
    private CachedAttention() {
    }

    /** Lane e (< 8) takes the lane where {@link GemmSmall#sumLanes8} leaves accumulator e's sum. */
    private static final jdk.incubator.vector.VectorShuffle<Float> KEY_ORDER =
            jdk.incubator.vector.VectorShuffle.fromOp(Simd.F, i -> i < 8 ? GemmSmall.sumAt(i) : i);
    private static final jdk.incubator.vector.VectorMask<Float> FIRST_EIGHT = Simd.F.indexInRange(0, 8);
    private static final jdk.incubator.vector.VectorMask<Float> FIRST_FOUR = Simd.F.indexInRange(0, 4);

    /** Each thread's room for one query's scores and weights (one array per task and call was most of a decoded token's garbage). */
    private static final ThreadLocal<float[]> WEIGHTS = ThreadLocal.withInitial(() -> new float[0]);

    /** Each thread's room for the second query of a pair ({@link #query2}). */
    private static final ThreadLocal<float[]> WEIGHTS2 = ThreadLocal.withInitial(() -> new float[0]);

    /** The calling thread's weights buffer, at least {@code n} long (only the first {@code visible} elements are ever read). */
    private static float[] weights(int n) {
        return room(WEIGHTS, n);
    }

    private static float[] room(ThreadLocal<float[]> buffer, int n) {
        float[] w = buffer.get();
        if (w.length < n) {
            w = new float[Math.max(n, 2 * w.length)];
            buffer.set(w);
        }
        return w;
    }

    /**
     * qkv {@code (B, Tn, 3C)} (queries, keys, values side by side, heads of width D = C/H inside
     * each); the caches are {@code (B, capacity, H, D)} (a position's keys as qkv has them, so that a
     * decode step reads each sequence's cache as one stream) and hold {@code past} positions already.
     * Keys and values of the new tokens go to positions {@code [past, past+Tn)}; the result is
     * {@code (B, Tn, C)}, identical in meaning to {@link Ops#causalAttention} over the whole sequence.
     */
    public static Tensor attend(Tensor qkv, int heads, float[] kCache, float[] vCache, int capacity, int past) {
        if (GradMode.isEnabled() && qkv.requiresGrad()) {
            throw new IllegalStateException("the KV cache is for inference: run it under GradMode.noGrad()");
        }
        if (qkv.rank() != 3 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("attend: qkv must be (B, T, 3C) with C divisible by " + heads + " heads, got " + Shape.str(qkv.shape));
        }
        int b = qkv.dim(0), tn = qkv.dim(1), c = qkv.dim(2) / 3, d = c / heads;
        if (past < 0 || past + tn > capacity) {
            throw new IllegalArgumentException("attend: " + past + " cached + " + tn + " new positions exceed the cache capacity " + capacity);
        }
        if (kCache.length < (long) b * heads * capacity * d || vCache.length < (long) b * heads * capacity * d) {
            throw new IllegalArgumentException("attend: cache arrays too small for (" + b + ", " + capacity + ", " + heads + ", " + d + ")");
        }
        if (b == 1 && tn == 1) { // one sequence's decode step: a share of its heads a thread
            long t0 = StepProfile.begin();
            appendRow(qkv.data, 0, c, kCache, vCache, past * c);
            float[] x = qkv.data, out = Arena.uninitialized(c);
            float scale = (float) (1 / Math.sqrt(d));
            // each thread one contiguous share of the heads, read row by row (DecodeAttention). One sequence's
            // cache by position reads about 1.2x slower than the per-head layout did (pairs of heads the same;
            // ~0.04 ms a gpt2-small token, a scratch harness): the price of the batched step's 0.72x
            int threads = Math.min(heads, Parallel.threads());
            Parallel.forRange(threads, 1, (r0, r1) -> {
                float[][] rows = DecodeAttention.rows(heads, past + 1 + Simd.F.length());
                DecodeAttention.attend(x, 0, kCache, vCache, past + 1, heads, r0 * heads / threads, r1 * heads / threads, d, scale, rows, out, 0);
            });
            StepProfile.end(t0, "attention over the cache (decode)", 0);
            return Tensor.result(out, new int[]{1, 1, c}, null);
        }
        long t0 = StepProfile.begin();
        float[] x = qkv.data;
        // append: k, v (B, Tn, H, D) inside qkv → cache (B, capacity, H, D) at [past, past+Tn); for prefill each
        // task appends its own head's (in parallel, and just before they are read)
        for (int bi = 0; bi < b && tn == 1; bi++) appendRow(x, bi * 3 * c, c, kCache, vCache, (bi * capacity + past) * c);
        float[] out = Arena.uninitialized(b * tn * c);
        float scale = (float) (1 / Math.sqrt(d));
        int total = past + tn;
        // one task per (batch, head): each writes its own D columns of the output
        Parallel.forRange(b * heads, 1, (s, e) -> {
            float[] w = weights(total + Simd.F.length()); // scores, then weights, of one query (and room for scores' last store)
            float[][] rows = tn >= PrefillAttention.GROUP ? PrefillAttention.rows(total + Simd.F.length()) : null;
            for (int bh = s; bh < e; bh++) {
                int bi = bh / heads, h = bh % heads, base = bi * capacity * c + h * d;
                if (tn > 1) append(x, bi * tn * 3 * c, 3 * c, tn, c, h, d, kCache, vCache, base + past * c, c);
                PrefillAttention.attend(x, bi * tn * 3 * c + h * d, 3 * c, kCache, vCache, base, c, past + 1, tn, d, scale, w, rows,
                        out, bi * tn * c + h * d, c);
            }
        });
        StepProfile.end(t0, tn == 1 ? "attention over the cache (decode)" : "attention over the cache (prefill)", 0);
        return Tensor.result(out, new int[]{b, tn, c}, null);
    }

    /**
     * One new token for each of B sequences that have their own caches, as in batched decoding:
     * row b of qkv {@code (B, 1, 3C)} is the token at position {@code past[b]} of the sequence
     * whose caches are {@code kCaches[b]}, {@code vCaches[b]} ({@code (1, capacity[b], H, D)}).
     * Its key and value are written at {@code past[b]}, and its query attends positions
     * {@code 0..past[b]}. Each row's result is bitwise what {@link #attend} gives for that sequence alone.
     */
    public static Tensor attendEach(Tensor qkv, int heads, float[][] kCaches, float[][] vCaches, int[] capacity, int[] past) {
        int[] ones = new int[kCaches.length];
        java.util.Arrays.fill(ones, 1);
        return attendEach(qkv, heads, kCaches, vCaches, capacity, past, ones);
    }

    /**
     * Several sequences' new tokens side by side, as in batched prefill: the rows of qkv
     * ({@code (B, T, 3C)} read as B·T rows) are {@code lengths[0]} new tokens of sequence 0, then
     * {@code lengths[1]} of sequence 1, and so on; sequence s has its own caches
     * ({@code (1, capacity[s], H, D)}) holding {@code past[s]} positions. Each segment's keys and
     * values are appended at {@code past[s]}, and each of its queries attends the positions up to
     * its own. Each row's result is bitwise what {@link #attend} gives for that sequence alone.
     */
    public static Tensor attendEach(Tensor qkv, int heads, float[][] kCaches, float[][] vCaches, int[] capacity, int[] past,
                                    int[] lengths) {
        if (GradMode.isEnabled() && qkv.requiresGrad()) {
            throw new IllegalStateException("the KV cache is for inference: run it under GradMode.noGrad()");
        }
        if (qkv.rank() != 3 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("attendEach: qkv must be (B, T, 3C) with C divisible by " + heads + " heads, got " + Shape.str(qkv.shape));
        }
        int n = kCaches.length, rows = qkv.dim(0) * qkv.dim(1), c = qkv.dim(2) / 3, d = c / heads;
        if (vCaches.length != n || capacity.length != n || past.length != n || lengths.length != n) {
            throw new IllegalArgumentException("attendEach: need one cache, position and length per sequence, " + n + " sequences");
        }
        long p0 = StepProfile.begin();
        float[] x = qkv.data;
        int[] first = new int[n + 1]; // the first row of each sequence
        int longest = 0;
        for (int s = 0; s < n; s++) {
            if (lengths[s] < 1 || past[s] < 0 || past[s] + lengths[s] > capacity[s]) {
                throw new IllegalArgumentException("attendEach: sequence " + s + ": " + past[s] + " cached + " + lengths[s]
                        + " new positions exceed the cache capacity " + capacity[s]);
            }
            if (kCaches[s].length < (long) heads * capacity[s] * d || vCaches[s].length < (long) heads * capacity[s] * d) {
                throw new IllegalArgumentException("attendEach: sequence " + s + ": cache arrays too small");
            }
            first[s + 1] = first[s] + lengths[s];
            longest = Math.max(longest, past[s] + lengths[s]);
        }
        if (first[n] != rows) throw new IllegalArgumentException("attendEach: the lengths add up to " + first[n] + ", qkv has " + rows + " rows");
        for (int s = 0; s < n; s++) { // a prefill's segment is appended by its tasks, head by head
            if (lengths[s] == 1) appendRow(x, first[s] * 3 * c, c, kCaches[s], vCaches[s], past[s] * c);
        }
        float[] out = Arena.uninitialized(rows * c);
        float scale = (float) (1 / Math.sqrt(d));
        int scratch = longest;
        if (rows == n && n >= 4 * Parallel.threads()) { // a decode step of many sequences: a sequence's heads a task
            DecodeAttention.each(x, heads, kCaches, vCaches, past, c, d, scale, scratch, out);
            StepProfile.end(p0, "attention over the cache (decode)", 0);
            return Tensor.result(out, new int[]{qkv.dim(0), qkv.dim(1), c}, null);
        }
        // one task per (sequence, pair of heads): each writes its own 2D columns of its sequence's rows
        // (a lone last head of an odd count, D); each thread takes a contiguous part of the tasks,
        // weighted by the positions they read (sequences differ in length), and then what is left
        // of the others' (a thread may start late)
        int pairs = (heads + 1) / 2, tasks = n * pairs;
        long[] weight = new long[tasks];
        for (int sp = 0; sp < tasks; sp++) {
            int s = sp / pairs;
            weight[sp] = (long) Math.min(2, heads - 2 * (sp % pairs)) * lengths[s] * (past[s] + lengths[s]);
        }
        ContiguousClaims claims = new ContiguousClaims(weight, Math.min(tasks, Parallel.threads()));
        Parallel.forRange(claims.count(), 1, (part, partEnd) -> {
            float[] w = weights(scratch + Simd.F.length()), w2 = room(WEIGHTS2, scratch + Simd.F.length());
            for (int sp; (sp = claims.next(part)) >= 0; ) {
                int s = sp / pairs, h = 2 * (sp % pairs), base = h * d;
                if (lengths[s] > 1) { // prefill: each head's rows a few at a time
                    float[][] wr = PrefillAttention.rows(scratch + Simd.F.length());
                    for (int hh = h; hh < Math.min(h + 2, heads); hh++) {
                        append(x, first[s] * 3 * c, 3 * c, lengths[s], c, hh, d, kCaches[s], vCaches[s], past[s] * c + hh * d, c);
                        PrefillAttention.attend(x, first[s] * 3 * c + hh * d, 3 * c, kCaches[s], vCaches[s], hh * d, c, past[s] + 1,
                                lengths[s], d, scale, w, wr, out, first[s] * c + hh * d, c);
                    }
                    continue;
                }
                for (int t = 0; t < lengths[s]; t++) {
                    int row = first[s] + t;
                    if (h + 1 < heads) {
                        query2(x, row * 3 * c + h * d, kCaches[s], vCaches[s], base, c, past[s] + t + 1, d, scale, w, w2, out, row * c + h * d);
                    } else {
                        query(x, row * 3 * c + h * d, kCaches[s], vCaches[s], base, c, past[s] + t + 1, d, scale, w, out, row * c + h * d);
                    }
                }
            }
        });
        StepProfile.end(p0, rows == n ? "attention over the cache (decode)" : "attention over the cache (prefill)", 0);
        return Tensor.result(out, new int[]{qkv.dim(0), qkv.dim(1), c}, null);
    }

    /**
     * Head {@code h}'s keys and values of {@code count} rows of qkv (row r at {@code x[row0 + r·stride]}, keys {@code c}
     * after the queries, values {@code 2c}) to the caches from {@code dst}, {@code d} elements a position, positions
     * {@code ps} apart.
     */
    private static void append(float[] x, int row0, int stride, int count, int c, int h, int d, float[] kCache, float[] vCache, int dst,
                               int ps) {
        for (int r = 0, row = row0 + h * d; r < count; r++, row += stride, dst += ps) {
            System.arraycopy(x, row + c, kCache, dst, d);
            System.arraycopy(x, row + 2 * c, vCache, dst, d);
        }
    }

    /** The keys and values of the qkv row at {@code x[row]} (all heads: {@code c} elements each) to the caches at {@code dst}. */
    private static void appendRow(float[] x, int row, int c, float[] kCache, float[] vCache, int dst) {
        System.arraycopy(x, row + c, kCache, dst, c);
        System.arraycopy(x, row + 2 * c, vCache, dst, c);
    }

    /**
     * One query against the first {@code visible} cached positions of one head (position j's key and
     * value at {@code cacheBase + j·ps}): scaled scores, softmax (sum in double, in position order),
     * weighted sum of the values into {@code out[oOff..oOff+d)}. Both entry points use it, so a
     * query's result depends on nothing but its inputs.
     */
    static void query(float[] x, int qOff, float[] kCache, float[] vCache, int cacheBase, int ps, int visible,
                              int d, float scale, float[] w, float[] out, int oOff) {
        scores(x, qOff, kCache, cacheBase, ps, visible, d, scale, w);
        float max = max(w, visible);
        exps(w, max, visible);
        double z = 0;
        for (int j = 0; j < visible; j++) z += w[j];
        float inv = (float) (1 / z);
        weightedSum(w, inv, vCache, cacheBase, ps, visible, d, out, oOff);
    }

    /**
     * Two queries of the same length, heads h and h+1 of one token (the second's query {@code d}
     * after the first's, its keys and values {@code d} after the first's in the cache, and its output
     * {@code d} after too), pipelined: keys of A, keys of B, values of A, values of B, with each
     * softmax sum (a chain of {@code visible} dependent double adds that left the memory idle) taken
     * alongside the next pass. Each query gets exactly {@link #query}'s operations in the same
     * order, so its result is bitwise {@link #query}'s.
     */
    private static void query2(float[] x, int qOff, float[] kCache, float[] vCache, int baseA, int ps, int visible,
                               int d, float scale, float[] wA, float[] wB, float[] out, int oOff) {
        int baseB = baseA + d;
        scores(x, qOff, kCache, baseA, ps, visible, d, scale, wA);
        exps(wA, max(wA, visible), visible);
        double zA = scoresAndSum(x, qOff + d, kCache, baseB, ps, visible, d, scale, wB, wA);
        exps(wB, max(wB, visible), visible);
        double zB = weightedSumAndSum(wA, (float) (1 / zA), vCache, baseA, ps, visible, d, out, oOff, wB);
        weightedSum(wB, (float) (1 / zB), vCache, baseB, ps, visible, d, out, oOff + d);
    }

    /**
     * The largest of {@code w[0..n)}, ignoring NaNs in the scalar twin (the first strictly larger
     * wins) and returning NaN for them with SIMD: either way a NaN score gives NaN outputs (its
     * weight is NaN, so is the sum), and otherwise the two can differ only in the sign of a zero
     * maximum, which {@code e^(w - max)} does not see ({@code w - ±0} differs only for {@code w = -0},
     * and {@code e^(±0) = 1} both ways).
     */
    static float max(float[] w, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int j = 0;
        if (Simd.ENABLED && n >= Simd.F.length()) {
            FloatVector m = FloatVector.broadcast(Simd.F, Float.NEGATIVE_INFINITY);
            for (int end = Simd.F.loopBound(n), l = Simd.F.length(); j < end; j += l) m = m.max(FloatVector.fromArray(Simd.F, w, j));
            max = m.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
        }
        for (; j < n; j++) if (w[j] > max) max = w[j];
        return max;
    }

    /**
     * {@code w[j] = e^(w[j] - max)} for {@code j < n}: with SIMD the training kernels' vector exp
     * ({@link VecMath#exp}, about 1 ulp), the last partial vector masked so that every element gets
     * the same arithmetic wherever it sits (a query's weights depend on its scores alone); the
     * scalar twin uses {@code Math.exp}. A scalar exp per cached position was a third of a decode
     * step's attention.
     */
    static void exps(float[] w, float max, int n) {
        if (!Simd.ENABLED) {
            for (int j = 0; j < n; j++) w[j] = (float) Math.exp(w[j] - max);
            return;
        }
        VecMath.expShiftedInPlace(w, max, n); // (arrays across the call: no vector to box if it is not inlined)
    }

    /**
     * {@code w[j] = dot(q, k_j)·scale} for the first {@code visible} cached keys: eight keys at a
     * time (with 8 or 16 lanes and heads of whole vectors, as GPT-2's), then four, each with its
     * own accumulator and the query's vectors loaded once for them, so the chains of multiply-adds
     * overlap. The lanes of eight accumulators are summed side by side ({@link GemmSmall#sumLanes8}'
     * steps), scaled lane by lane and stored in key order with one masked store; of four, one at a
     * time. Each score is bitwise what {@link #dot} gives (the same multiply-adds per lane, in the
     * same order, the same pairs of lanes added: {@link VecMath#sum}'s tree is
     * {@link GemmSmall#treeSum}'s; the same product by the scale). Only the first {@code visible}
     * elements of {@code w} are written; the masked store takes its fast path when {@code w} has a
     * vector's room past them, so the attention paths allocate that.
     */
    static void scores(float[] x, int qOff, float[] kCache, int cacheBase, int ps, int visible, int d, float scale, float[] w) {
        scoresAndSum(x, qOff, kCache, cacheBase, ps, visible, d, scale, w, null);
    }

    /**
     * {@link #scores}, with {@code Σ side[j]} over the same positions taken alongside when {@code side} is not null (in double,
     * in position order, as {@link #query} sums its weights): a few adds per block of keys, so that
     * chain of adds runs while the keys stream in.
     */
    static double scoresAndSum(float[] x, int qOff, float[] kCache, int cacheBase, int ps, int visible, int d, float scale, float[] w,
                               float[] side) {
        return scoresAndSum(x, qOff, kCache, cacheBase, ps, 0, visible, d, scale, w, side);
    }

    /**
     * {@link #scoresAndSum} over the keys {@code [from, visible)} only ({@code w[from..visible)}; the side sum over
     * the same positions): each score is {@link #dot}'s whatever keys share its block, so the keys may be taken in pieces.
     */
    static double scoresAndSum(float[] x, int qOff, float[] kCache, int cacheBase, int ps, int from, int visible, int d, float scale,
                               float[] w, float[] side) {
        double z = 0;
        int j = from;
        if (Simd.ENABLED && d >= Simd.F.length()) {
            int l = Simd.F.length(), end = Simd.F.loopBound(d);
            for (; (l == 8 || l == 16) && end == d && j + 8 <= visible; j += 8) {
                int k0 = cacheBase + j * ps;
                FloatVector a0 = FloatVector.zero(Simd.F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int i = 0; i < end; i += l) {
                    FloatVector q = FloatVector.fromArray(Simd.F, x, qOff + i);
                    a0 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + i), a0);
                    a1 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + ps + i), a1);
                    a2 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 2 * ps + i), a2);
                    a3 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 3 * ps + i), a3);
                    a4 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 4 * ps + i), a4);
                    a5 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 5 * ps + i), a5);
                    a6 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 6 * ps + i), a6);
                    a7 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + 7 * ps + i), a7);
                }
                // GemmSmall.sumLanes8's steps, written out (C2 may not inline a method of that size here)
                FloatVector u0 = a0.blend(a1, BIT0).add(a1.blend(a0, BIT0).rearrange(XOR0)), u1 = a2.blend(a3, BIT0).add(a3.blend(a2, BIT0).rearrange(XOR0));
                FloatVector u2 = a4.blend(a5, BIT0).add(a5.blend(a4, BIT0).rearrange(XOR0)), u3 = a6.blend(a7, BIT0).add(a7.blend(a6, BIT0).rearrange(XOR0));
                FloatVector t0 = u0.blend(u1, BIT1).add(u1.blend(u0, BIT1).rearrange(XOR1)), t1 = u2.blend(u3, BIT1).add(u3.blend(u2, BIT1).rearrange(XOR1));
                FloatVector r = t0.blend(t1, BIT2).add(t1.blend(t0, BIT2).rearrange(XOR2));
                (l == 16 ? r.add(r.rearrange(XOR3)) : r).mul(scale).rearrange(KEY_ORDER).intoArray(w, j, FIRST_EIGHT);
                if (side != null) z = z + side[j] + side[j + 1] + side[j + 2] + side[j + 3] + side[j + 4] + side[j + 5] + side[j + 6] + side[j + 7];
            }
            for (; j + 4 <= visible; j += 4) {
                int k0 = cacheBase + j * ps, k1 = k0 + ps, k2 = k1 + ps, k3 = k2 + ps;
                FloatVector a0 = FloatVector.zero(Simd.F), a1 = a0, a2 = a0, a3 = a0;
                for (int i = 0; i < end; i += l) {
                    FloatVector q = FloatVector.fromArray(Simd.F, x, qOff + i);
                    a0 = q.fma(FloatVector.fromArray(Simd.F, kCache, k0 + i), a0);
                    a1 = q.fma(FloatVector.fromArray(Simd.F, kCache, k1 + i), a1);
                    a2 = q.fma(FloatVector.fromArray(Simd.F, kCache, k2 + i), a2);
                    a3 = q.fma(FloatVector.fromArray(Simd.F, kCache, k3 + i), a3);
                }
                if ((l == 8 || l == 16) && end == d) {
                    // the eight-key block's steps on four accumulators, the third pairing t0 with itself
                    // (each lane still gets its own accumulator's pair): VecMath.sum, called here, was
                    // left out of line in this method (NodeCountInliningCutoff) and boxed its vector
                    FloatVector u0 = a0.blend(a1, BIT0).add(a1.blend(a0, BIT0).rearrange(XOR0)), u1 = a2.blend(a3, BIT0).add(a3.blend(a2, BIT0).rearrange(XOR0));
                    FloatVector t0 = u0.blend(u1, BIT1).add(u1.blend(u0, BIT1).rearrange(XOR1));
                    FloatVector r = t0.add(t0.rearrange(XOR2));
                    (l == 16 ? r.add(r.rearrange(XOR3)) : r).mul(scale).rearrange(KEY_ORDER).intoArray(w, j, FIRST_FOUR);
                    if (side != null) z = z + side[j] + side[j + 1] + side[j + 2] + side[j + 3];
                    continue;
                }
                float s0 = VecMath.sum(a0), s1 = VecMath.sum(a1), s2 = VecMath.sum(a2), s3 = VecMath.sum(a3);
                for (int i = end; i < d; i++) {
                    float qi = x[qOff + i];
                    s0 += qi * kCache[k0 + i];
                    s1 += qi * kCache[k1 + i];
                    s2 += qi * kCache[k2 + i];
                    s3 += qi * kCache[k3 + i];
                }
                w[j] = s0 * scale;
                w[j + 1] = s1 * scale;
                w[j + 2] = s2 * scale;
                w[j + 3] = s3 * scale;
                if (side != null) z = z + side[j] + side[j + 1] + side[j + 2] + side[j + 3];
            }
        }
        for (; j < visible; j++) {
            w[j] = dot(x, qOff, kCache, cacheBase + j * ps, d) * scale;
            if (side != null) z += side[j];
        }
        return z;
    }

    /**
     * {@code out[oOff..oOff+d) = Σ_j (w[j]·inv)·v_j} over the first {@code visible} cached values,
     * in position order: what {@link #axpy} into a zeroed row gives, bit for bit (the same
     * multiply-adds per element, in the same order), with up to four vectors of the output held in
     * registers across all positions instead of loaded and stored at each one.
     */
    static void weightedSum(float[] w, float inv, float[] vCache, int cacheBase, int ps, int visible, int d, float[] out, int oOff) {
        weightedSumAndSum(w, inv, vCache, cacheBase, ps, visible, d, out, oOff, null);
    }

    /**
     * {@link #weightedSum}, with {@code Σ side[j]} over the same positions taken alongside when
     * {@code side} is not null (in double, in position order, as {@link #query} sums its weights):
     * one add per position during the first pass over the values, so that chain of adds runs while
     * they stream in.
     */
    static double weightedSumAndSum(float[] w, float inv, float[] vCache, int cacheBase, int ps, int visible, int d, float[] out,
                                    int oOff, float[] side) {
        double z = 0;
        int i = 0;
        if (Simd.ENABLED && d >= Simd.F.length()) {
            int l = Simd.F.length(), end = Simd.F.loopBound(d);
            for (; i + 4 * l <= end; i += 4 * l) {
                FloatVector y0 = FloatVector.zero(Simd.F), y1 = y0, y2 = y0, y3 = y0;
                for (int j = 0, v = cacheBase + i; j < visible; j++, v += ps) {
                    FloatVector a = FloatVector.broadcast(Simd.F, w[j] * inv);
                    y0 = FloatVector.fromArray(Simd.F, vCache, v).fma(a, y0);
                    y1 = FloatVector.fromArray(Simd.F, vCache, v + l).fma(a, y1);
                    y2 = FloatVector.fromArray(Simd.F, vCache, v + 2 * l).fma(a, y2);
                    y3 = FloatVector.fromArray(Simd.F, vCache, v + 3 * l).fma(a, y3);
                    if (side != null) z += side[j];
                }
                side = null; // summed once, in the first pass
                y0.intoArray(out, oOff + i);
                y1.intoArray(out, oOff + i + l);
                y2.intoArray(out, oOff + i + 2 * l);
                y3.intoArray(out, oOff + i + 3 * l);
            }
            for (; i < end; i += l) {
                FloatVector y = FloatVector.zero(Simd.F);
                for (int j = 0, v = cacheBase + i; j < visible; j++, v += ps) {
                    y = FloatVector.fromArray(Simd.F, vCache, v).fma(FloatVector.broadcast(Simd.F, w[j] * inv), y);
                }
                y.intoArray(out, oOff + i);
            }
        }
        for (; i < d; i++) {
            float y = 0f;
            for (int j = 0, v = cacheBase + i; j < visible; j++, v += ps) y += w[j] * inv * vCache[v];
            out[oOff + i] = y;
        }
        if (side != null) for (int j = 0; j < visible; j++) z += side[j];
        return z;
    }

    /** {@code Σ a[ao+i]·b[bo+i]} over n elements. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0;
        if (Simd.ENABLED && n >= Simd.F.length()) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int end = Simd.F.loopBound(n); i < end; i += Simd.F.length()) {
                acc = FloatVector.fromArray(Simd.F, a, ao + i).fma(FloatVector.fromArray(Simd.F, b, bo + i), acc);
            }
            s = VecMath.sum(acc); // fixed lane order: reduceLanes may associate differently once compiled
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo+i] += alpha·x[xo+i]} over n elements. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (Simd.ENABLED && n >= Simd.F.length()) {
            FloatVector va = FloatVector.broadcast(Simd.F, alpha);
            for (int end = Simd.F.loopBound(n); i < end; i += Simd.F.length()) {
                FloatVector.fromArray(Simd.F, x, xo + i).fma(va, FloatVector.fromArray(Simd.F, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }
}
