package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The output head fused with the cross-entropy loss, as llm.c's fused classifier: the logits
 * {@code x·Wᵀ + b} are made a chunk of rows at a time and reduced to the loss at once, so the
 * full {@code (N, V)} logits never exist together with their gradient.
 *
 * <p>Without a backward to follow (evaluation, {@code score}) only one chunk of logits is alive.
 * When a backward follows, the softmax is turned into the logits' gradient in the same pass
 * (the upstream gradient of a loss is almost always 1, and scaling afterwards is exact then),
 * and one of two plans keeps what backward needs, whichever holds fewer floats:
 * <ul>
 * <li>{@link Plan#KEEP_PROBS}: the logits' gradient {@code (N, V)} (for an upstream gradient of
 *     1) in place of the logits; backward runs the head's two products on it, exactly as the
 *     unfused {@code linear} + {@code crossEntropy} pair does. Small batches.</li>
 * <li>{@link Plan#FOLD}: each chunk's logit gradient is folded at once into the gradients of
 *     {@code x} {@code (N, C)}, {@code W} {@code (V, C)} and {@code b}, kept until backward adds
 *     them (times the upstream gradient) to the inputs' gradients. Large batches.</li>
 * </ul>
 * Another upstream gradient scales the kept gradient (within float rounding of the unfused pair;
 * exact for powers of two, as a loss divided by 2, 4, 8 accumulation steps).
 * For an upstream gradient of 1 both give bitwise the unfused pair's loss and gradients: chunks
 * start at multiples of {@link #CHUNK}, which is the products' k block, so the weight gradient
 * adds the same partial sums in the same order.
 */
final class LinearCrossEntropy {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Rows of logits per chunk: {@link GemmDriver#KC}, so chunk boundaries are k-block boundaries of the weight-gradient product. */
    static final int CHUNK = GemmDriver.KC;

    /** What the forward pass keeps for backward. */
    enum Plan { LOSS_ONLY, KEEP_PROBS, FOLD }

    private LinearCrossEntropy() {
    }

    /**
     * Mean cross-entropy of {@code x·Wᵀ + b} against {@code targets}, ignoring {@code ignoreIndex}.
     * {@code plan} null picks the plan that holds the fewest floats.
     */
    static Tensor apply(Tensor x, Tensor w, Tensor b, int[] targets, int ignoreIndex, Plan plan, boolean simd) {
        int c = x.dim(-1);
        if (w.rank() != 2 || w.dim(1) != c) throw Shape.mismatch("linearCrossEntropy (input vs weight)", x.shape, w.shape);
        int v = w.dim(0);
        if (b != null && (b.rank() != 1 || b.dim(0) != v)) throw Shape.mismatch("linearCrossEntropy (weight vs bias)", w.shape, b.shape);
        int n = x.size() / Math.max(1, c);
        int counted = validTargets(x, n, v, targets, ignoreIndex);
        boolean dx = x.requiresGrad(), dw = w.requiresGrad(), db = b != null && b.requiresGrad();
        boolean grad = GradMode.isEnabled() && (dx || dw || db);
        if (counted == 0) return Tensor.result(new float[]{Float.NaN}, new int[0], g -> { }, x, w, b); // as crossEntropy: NaN, no gradient
        if (!grad) plan = Plan.LOSS_ONLY;
        else if (plan == null || plan == Plan.LOSS_ONLY) plan = cheaper(n, v, c, dx, dw, db);
        float scale = 1f / counted;
        double[] rowLoss = new double[n];
        return switch (plan) {
            case LOSS_ONLY -> Tensor.result(new float[]{lossOnly(n, v, targets, ignoreIndex, counted, simd,
                    (r0, rows, out) -> logits(x, w, b, r0, rows, c, v, out))}, new int[0], g -> { }, x, w, b);
            case KEEP_PROBS -> {
                // all rows at once into one (N, V) buffer: it holds the logits, then their softmax
                float[] p = Arena.uninitialized(n * v);
                logits(x, w, b, 0, n, c, v, p);
                // made into the logits' gradient for an upstream gradient of 1 (a loss's), in the same pass
                long t0 = StepProfile.begin();
                rows(simd, p, targets, 0, n, v, ignoreIndex, rowLoss, scale);
                StepProfile.end(t0, "cross-entropy softmax", 0);
                yield Tensor.result(new float[]{mean(rowLoss, targets, ignoreIndex, counted)}, new int[0], g -> {
                    if (g[0] != 1f) {
                        // another upstream gradient (a loss scaled for accumulation): scale the gradient by it,
                        // within float rounding of forming it with g/count directly (exact for powers of two)
                        long t1 = StepProfile.begin();
                        rescale(simd, p, n * v, g[0]);
                        StepProfile.end(t1, "cross-entropy gradient", 0);
                    }
                    // the unfused head's backward: dx += dlogits·W, dW += dlogitsᵀ·x, db += Σ_rows dlogits
                    if (dx) Gemm.matmulNN(p, 0, w.data, 0, x.gradBuffer(), 0, n, c, v, true);
                    if (dw) Gemm.matmulTN(p, 0, x.data, 0, w.gradBuffer(), 0, v, c, n, true);
                    if (db) sumRows(b.gradBuffer(), p, 0, n, v);
                }, x, w, b);
            }
            case FOLD -> {
                float[] chunk = Arena.uninitialized(Math.min(n, CHUNK + 4) * v);
                float[] gx = dx ? Arena.uninitialized(n * c) : null;
                float[] gw = dw ? Arena.uninitialized(v * c) : null;
                float[] gb = db ? Arena.zeros(v) : null;
                for (int r0 = 0; r0 < n; ) {
                    int rows = chunkRows(r0, n);
                    logits(x, w, b, r0, rows, c, v, chunk);
                    // the chunk becomes d(loss)/d(logits) for an upstream gradient of 1
                    rows(simd, chunk, targets, r0, rows, v, ignoreIndex, rowLoss, scale);
                    if (dx) Gemm.matmulNN(chunk, 0, w.data, 0, gx, r0 * c, rows, c, v, false);
                    if (dw) Gemm.matmulTN(chunk, 0, x.data, r0 * c, gw, 0, v, c, rows, r0 > 0);
                    if (db) sumRows(gb, chunk, 0, rows, v);
                    r0 += rows;
                }
                yield Tensor.result(new float[]{mean(rowLoss, targets, ignoreIndex, counted)}, new int[0], g -> {
                    if (dx) addScaled(x.gradBuffer(), gx, g[0]);
                    if (dw) addScaled(w.gradBuffer(), gw, g[0]);
                    if (db) addScaled(b.gradBuffer(), gb, g[0]);
                }, x, w, b);
            }
        };
    }

    /**
     * Mean cross-entropy of {@code x·Wᵀ} for inference weights kept packed ({@link PackedMatrix}, in
     * 32, 16, 8 or 4 bits): the loss only, one chunk of logits at a time as {@link #apply}'s, so a
     * float32 matrix gives bitwise the loss of the float32 array.
     */
    static Tensor apply(Tensor x, PackedMatrix w, int[] targets, int ignoreIndex, boolean simd) {
        int c = x.dim(-1), v = w.rows();
        if (w.cols() != c) throw Shape.mismatch("linearCrossEntropy (input vs packed weight)", x.shape, new int[]{v, w.cols()});
        if (GradMode.isEnabled() && x.requiresGrad()) throw new IllegalStateException("packed weights are for inference only (no gradient)");
        int n = x.size() / Math.max(1, c);
        int valid = validTargets(x, n, v, targets, ignoreIndex);
        float loss = valid == 0 ? Float.NaN
                : lossOnly(n, v, targets, ignoreIndex, valid, simd, (r0, rows, out) -> w.matmulNT(x.data, r0 * c, rows, out, 0));
        return Tensor.of(new float[]{loss}, new int[0]);
    }

    /** The targets that count (not {@code ignoreIndex}), after checking there is one per row and each is in the vocabulary. */
    private static int validTargets(Tensor x, int n, int v, int[] targets, int ignoreIndex) {
        if (targets.length != n) {
            throw new IllegalArgumentException("linearCrossEntropy: " + n + " rows of input " + Shape.str(x.shape) + " but "
                    + targets.length + " targets");
        }
        int valid = 0;
        for (int t : targets) {
            if (t == ignoreIndex) continue;
            if (t < 0 || t >= v) throw new IllegalArgumentException("linearCrossEntropy: target " + t + " outside vocabulary of " + v);
            valid++;
        }
        return valid;
    }

    /** Writes the logits of rows {@code [r0, r0 + rows)} into {@code out (rows, V)}. */
    private interface ChunkLogits {
        void into(int r0, int rows, float[] out);
    }

    /** The mean loss with one chunk of logits alive at a time. */
    private static float lossOnly(int n, int v, int[] targets, int ignoreIndex, int counted, boolean simd, ChunkLogits logits) {
        double[] rowLoss = new double[n];
        float[] chunk = Arena.uninitialized(Math.min(n, CHUNK + 4) * v);
        for (int r0 = 0; r0 < n; ) {
            int rows = chunkRows(r0, n);
            logits.into(r0, rows, chunk);
            rows(simd, chunk, targets, r0, rows, v, ignoreIndex, rowLoss, Float.NaN);
            r0 += rows;
        }
        return mean(rowLoss, targets, ignoreIndex, counted);
    }

    /** The plan that keeps fewer floats for backward. */
    static Plan cheaper(int n, int v, int c, boolean dx, boolean dw, boolean db) {
        return keepFloats(n, v) <= foldFloats(n, v, c, dx, dw, db) ? Plan.KEEP_PROBS : Plan.FOLD;
    }

    /** Floats the cheaper plan holds from forward to backward. */
    static long heldFloats(int n, int v, int c, boolean dx, boolean dw, boolean db) {
        return Math.min(keepFloats(n, v), foldFloats(n, v, c, dx, dw, db));
    }

    private static long keepFloats(int n, int v) {
        return (long) n * v;
    }

    private static long foldFloats(int n, int v, int c, boolean dx, boolean dw, boolean db) {
        return (long) Math.min(n, CHUNK + 4) * v + (dx ? (long) n * c : 0) + (dw ? (long) v * c : 0) + (db ? v : 0);
    }

    /**
     * Rows of the chunk starting at {@code r0}: {@link #CHUNK}, except that a remainder of up to 4
     * rows joins the chunk before it, so no chunk is small enough to take a different matrix-product
     * kernel than the whole would (which would change the logits' last bits).
     */
    static int chunkRows(int r0, int n) {
        int left = n - r0;
        return left <= CHUNK + GemmSmall.MAX_ROWS ? left : CHUNK;
    }

    /** out (rows, V) = x[r0..r0+rows) · Wᵀ + b. */
    private static void logits(Tensor x, Tensor w, Tensor b, int r0, int rows, int c, int v, float[] out) {
        Gemm.matmulNT(x.data, r0 * c, w.data, 0, out, 0, rows, v, c, false);
        if (b != null) Elementwise.addToRows(Simd.ENABLED, out, 0, b.data, rows, v);
    }

    /**
     * For each row of {@code buf} (rows {@code r0..r0+rows} of the batch): the row's loss
     * {@code lse − logit[target]} into {@code rowLoss}, then, unless {@code scale} is NaN, the row
     * replaced by {@code softmax · scale} with {@code scale} subtracted at the target (scale 0
     * leaves the plain softmax). Ignored rows become zeros.
     */
    private static void rows(boolean simd, float[] buf, int[] targets, int r0, int rows, int v, int ignoreIndex,
                             double[] rowLoss, float scale) {
        boolean write = !Float.isNaN(scale);
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, v)), (s, e) -> {
            for (int r = s; r < e; r++) {
                int t = targets[r0 + r];
                int o = r * v;
                if (t == ignoreIndex) {
                    if (write) java.util.Arrays.fill(buf, o, o + v, 0f);
                    continue;
                }
                double lse = simd ? CrossEntropyKernel.lseSimd(buf, o, v) : CrossEntropyKernel.lseScalar(buf, o, v);
                rowLoss[r0 + r] = lse - buf[o + t];
                if (!write) continue;
                softmax(simd, buf, o, v, (float) lse, scale);
                if (scale != 0f) buf[o + t] -= scale;
            }
        });
    }

    /**
     * row = e^(row − lse), with the same expressions as the cross-entropy kernel's backward, then
     * (scale not 0) {@code fma(e, scale, 0)}: one rounding, as the unfused kernel's fused multiply-add
     * onto a zeroed gradient, in the same pass.
     */
    private static void softmax(boolean simd, float[] x, int o, int v, float lse, float scale) {
        int i = 0;
        boolean scaled = scale != 0f;
        if (simd) {
            FloatVector lv = FloatVector.broadcast(F, lse), sc = FloatVector.broadcast(F, scale), zero = FloatVector.zero(F);
            for (int ub = F.loopBound(v); i < ub; i += L) {
                FloatVector e = VecMath.exp(FloatVector.fromArray(F, x, o + i).sub(lv));
                (scaled ? e.fma(sc, zero) : e).intoArray(x, o + i);
            }
        }
        for (; i < v; i++) {
            float e = (float) Math.exp(x[o + i] - lse);
            x[o + i] = scaled ? Math.fma(e, scale, 0f) : e;
        }
    }

    /** {@code x[i] = fma(x[i], g, 0)} for i &lt; n (a gradient times a non-unit upstream gradient). */
    private static void rescale(boolean simd, float[] x, int n, float g) {
        Parallel.forRange((n + L - 1) / L, 4096 / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            if (simd) {
                FloatVector gv = FloatVector.broadcast(F, g), zero = FloatVector.zero(F);
                for (int ub = i + F.loopBound(e - i); i < ub; i += L) {
                    FloatVector.fromArray(F, x, i).fma(gv, zero).intoArray(x, i);
                }
            }
            for (; i < e; i++) x[i] = Math.fma(x[i], g, 0f);
        });
    }

    /** The mean of the counted rows' losses, summed in double in row order (as the cross-entropy kernel). */
    private static float mean(double[] rowLoss, int[] targets, int ignoreIndex, int counted) {
        double total = 0;
        for (int r = 0; r < rowLoss.length; r++) if (targets[r] != ignoreIndex) total += rowLoss[r];
        return (float) (total / counted);
    }

    /** {@code acc[j] += Σ_r g[r, j]}, split over columns so each sum runs in row order on one thread. */
    private static void sumRows(float[] acc, float[] g, int off, int rows, int cols) {
        Elementwise.sumRowsInto(Simd.ENABLED, acc, g, off, rows, cols);
    }

    /** {@code dst += s·src} (just {@code dst += src} when s is 1, so the sum is exact as the unfused path's). */
    private static void addScaled(float[] dst, float[] src, float s) {
        Parallel.forRange(src.length, 1 << 15, (i0, i1) -> {
            if (s == 1f) {
                for (int i = i0; i < i1; i++) dst[i] += src[i];
            } else {
                for (int i = i0; i < i1; i++) dst[i] += s * src[i];
            }
        });
    }
}
