package dev.myllm.tensor;

/**
 * The fused ops a GPT is made of, each one node of the graph with a hand-written backward:
 * {@code linear}, {@code layerNorm}, {@code gelu}, {@code causalAttention}, {@code crossEntropy},
 * {@code embedding} and {@code dropout}. Forward and backward sit side by side, shapes in comments.
 */
public final class Ops {
    /** The target value that {@link #crossEntropy} skips, as in PyTorch. */
    public static final int IGNORE_INDEX = -100;

    private Ops() {
    }

    /** {@code y = x·Wᵀ + b}: x {@code (.., in)}, weight {@code (out, in)}, bias {@code (out)} or null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        int[] shape = linearShape("linear", x, weight, bias);
        int in = x.dim(-1), out = weight.dim(0), rows = x.size() / Math.max(1, in);
        float[] y = Arena.uninitialized(rows * out);
        // forward: y (rows, out) = x (rows, in) · Wᵀ (in, out) + b
        Gemm.matmulNT(x.data, 0, weight.data, 0, y, 0, rows, out, in, bias == null ? null : bias.data);
        return Tensor.result(y, shape, dy -> {
            // backward: dx (rows, in) += dy (rows, out) · W (out, in)
            if (x.requiresGrad()) Gemm.matmulNN(dy, 0, weight.data, 0, x.gradBuffer(), 0, rows, in, out, true);
            // dW (out, in) += dyᵀ (out, rows) · x (rows, in)
            if (weight.requiresGrad()) Gemm.matmulTN(dy, 0, x.data, 0, weight.gradBuffer(), 0, out, in, rows, true);
            // db (out) += Σ_rows dy
            if (bias != null && bias.requiresGrad()) sumRows(bias.gradBuffer(), dy, rows, out);
        }, x, weight, bias);
    }

    /** The output shape of {@code op}'s {@code x·Wᵀ + b} (x's with its last dimension W's rows), after checking the three fit. */
    private static int[] linearShape(String op, Tensor x, Tensor weight, Tensor bias) {
        int in = x.dim(-1), out = weight.dim(0);
        if (weight.rank() != 2 || weight.dim(1) != in) throw Shape.mismatch(op + " (input vs weight)", x.shape, weight.shape);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != out)) throw Shape.mismatch(op + " (weight vs bias)", weight.shape, bias.shape);
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        return shape;
    }

    /**
     * {@code y = gelu(x·Wᵀ + b)}, for inference only (no graph, under {@link GradMode#noGrad}): a
     * feed-forward network's first layer with its GELU, bitwise {@code gelu(linear(x, weight,
     * bias))}; the few-row kernels apply both as they finish each chunk of columns
     * ({@link Gemm#matmulNT(float[], int, float[], int, float[], int, int, int, int, float[], boolean)}).
     */
    public static Tensor linearGelu(Tensor x, Tensor weight, Tensor bias) {
        if (GradMode.isEnabled() && (x.requiresGrad() || weight.requiresGrad() || (bias != null && bias.requiresGrad()))) {
            throw new IllegalStateException("linearGelu is for inference: run it under GradMode.noGrad()");
        }
        int[] shape = linearShape("linearGelu", x, weight, bias);
        int in = x.dim(-1), out = weight.dim(0), rows = x.size() / Math.max(1, in);
        float[] y = Arena.uninitialized(rows * out);
        Gemm.matmulNT(x.data, 0, weight.data, 0, y, 0, rows, out, in, bias == null ? null : bias.data, true);
        return Tensor.result(y, shape, null);
    }

    /**
     * {@code y = gelu(h)·Wᵀ + b} (a feed-forward network's output projection on its GELU) without
     * keeping {@code gelu(h)}: backward recomputes it from h, which GELU's own backward keeps anyway.
     * The same values and gradients as {@code linear(gelu(h), weight, bias)}, with four-fifths of
     * the feed-forward network's activation memory.
     */
    public static Tensor geluLinear(Tensor h, Tensor weight, Tensor bias) {
        int[] shape = linearShape("geluLinear", h, weight, bias);
        int in = h.dim(-1), out = weight.dim(0), rows = h.size() / Math.max(1, in), n = h.size();
        float[] a = Arena.uninitialized(n);
        GeluKernel.forward(a, h.data, n);
        float[] y = Arena.uninitialized(rows * out);
        Gemm.matmulNT(a, 0, weight.data, 0, y, 0, rows, out, in, bias == null ? null : bias.data);
        Arena.release(a); // dead until backward recomputes it
        return Tensor.result(y, shape, dy -> {
            float[] act = Arena.uninitialized(n);
            if (h.requiresGrad()) {
                // d loss / d gelu(h) = dy·W first, then one pass takes it through GELU and leaves the
                // recomputed activations (bitwise the forward's values) in the same buffer for dW
                Gemm.matmulNN(dy, 0, weight.data, 0, act, 0, rows, in, out, false);
                GeluKernel.backwardRecompute(h.gradBuffer(), h.data, act, n);
            } else {
                GeluKernel.forward(act, h.data, n); // bitwise the forward's values
            }
            if (weight.requiresGrad()) Gemm.matmulTN(dy, 0, act, 0, weight.gradBuffer(), 0, out, in, rows, true);
            if (bias != null && bias.requiresGrad()) sumRows(bias.gradBuffer(), dy, rows, out);
            Arena.release(act);
        }, h, weight, bias);
    }

    /** {@code acc[j] += Σ_r g[r, j]}, split over columns so each sum runs in row order on one thread. */
    private static void sumRows(float[] acc, float[] g, int rows, int cols) {
        Elementwise.sumRowsInto(Simd.ENABLED, acc, g, 0, rows, cols);
    }

    /** LayerNorm over the last dimension (biased variance) with scale and shift: x {@code (.., C)}. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.dim(-1);
        if (weight.size() != c || bias.size() != c) throw Shape.mismatch("layerNorm (input vs weight)", x.shape, weight.shape);
        int rows = x.size() / Math.max(1, c);
        float[] out = Arena.uninitialized(x.size());
        float[] mean = Arena.uninitialized(rows), rstd = Arena.uninitialized(rows);
        // forward: out (N, C) = (x - mean) * rstd * w + b, with mean and rstd (N) kept for backward
        LayerNormKernel.forward(out, mean, rstd, x.data, weight.data, bias.data, rows, c, eps);
        return Tensor.result(out, x.shape, dout -> LayerNormKernel.backward(
                x.requiresGrad() ? x.gradBuffer() : null,
                weight.requiresGrad() ? weight.gradBuffer() : null,
                bias.requiresGrad() ? bias.gradBuffer() : null,
                dout, x.data, weight.data, mean, rstd, rows, c), x, weight, bias);
    }

    /** GELU, tanh approximation, elementwise. */
    public static Tensor gelu(Tensor x) {
        float[] out = Arena.uninitialized(x.size());
        GeluKernel.forward(out, x.data, x.size());
        return Tensor.result(out, x.shape, dout -> GeluKernel.backward(x.gradBuffer(), x.data, dout, x.size()), x);
    }

    /**
     * Causal scaled dot-product attention over {@code (B, H, T, D)} queries, keys and values:
     * softmax(q·kᵀ/√D with the future masked), optional dropout on the weights, times v.
     * {@code dropoutSeed} picks the dropout mask (ignored when {@code dropoutP} is 0). Tiled with an
     * online softmax ({@link FlashAttention}): only one log-sum-exp per row is kept for backward.
     */
    public static Tensor causalAttention(Tensor q, Tensor k, Tensor v, float dropoutP, long dropoutSeed) {
        return causalAttention(q, k, v, dropoutP > 0 ? DropoutMask.hashed(dropoutP, dropoutSeed) : null);
    }

    /** Causal attention with a given dropout mask over the {@code (B, H, T, T)} weights (null: no dropout). */
    public static Tensor causalAttention(Tensor q, Tensor k, Tensor v, DropoutMask mask) {
        if (q.rank() != 4 || !Shape.same(q.shape, k.shape) || !Shape.same(q.shape, v.shape)) {
            throw new IllegalArgumentException("causalAttention: q, k, v must share one (B, H, T, D) shape, got "
                    + Shape.str(q.shape) + ", " + Shape.str(k.shape) + ", " + Shape.str(v.shape));
        }
        int b = q.shape[0], h = q.shape[1], t = q.shape[2], d = q.shape[3];
        FlashAttention.Layout l = FlashAttention.Layout.heads(h, t, d);
        float[] out = Arena.uninitialized(q.size());
        float[] lse = Arena.uninitialized(b * h * t); // (B, H, T), kept for backward
        FlashAttention.forward(out, l, lse, q.data, l, k.data, l, v.data, l, b, h, t, d, mask);
        return Tensor.result(out, q.shape, dout -> FlashAttention.backward(
                q.requiresGrad() ? q.gradBuffer() : null,
                k.requiresGrad() ? k.gradBuffer() : null,
                v.requiresGrad() ? v.gradBuffer() : null,
                dout, out, l, lse, q.data, l, k.data, l, v.data, l, b, h, t, d, mask), q, k, v);
    }

    /**
     * Multi-head causal self-attention straight from a fused projection: qkv {@code (B, T, 3C)}
     * (queries, keys, values side by side, each {@code heads} heads of {@code C/heads}) to the
     * heads' outputs side by side {@code (B, T, C)}. The same numbers as splitting the heads,
     * {@link #causalAttention} and merging them, without the copies.
     */
    public static Tensor causalSelfAttention(Tensor qkv, int heads, float dropoutP, long dropoutSeed) {
        return causalSelfAttention(qkv, heads, dropoutP > 0 ? DropoutMask.hashed(dropoutP, dropoutSeed) : null);
    }

    /** {@link #causalSelfAttention(Tensor, int, float, long)} with a given dropout mask over the {@code (B, H, T, T)} weights (null: none). */
    public static Tensor causalSelfAttention(Tensor qkv, int heads, DropoutMask mask) {
        if (qkv.rank() != 3 || heads < 1 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("causalSelfAttention: expected (B, T, 3C) with C divisible by " + heads
                    + " heads, got " + Shape.str(qkv.shape));
        }
        int b = qkv.dim(0), t = qkv.dim(1), c = qkv.dim(2) / 3, d = c / heads;
        FlashAttention.Layout lq = FlashAttention.Layout.rows(0, t, d, 3 * c), lk = FlashAttention.Layout.rows(c, t, d, 3 * c),
                lv = FlashAttention.Layout.rows(2 * c, t, d, 3 * c), lo = FlashAttention.Layout.rows(0, t, d, c);
        float[] out = Arena.uninitialized(b * t * c);
        float[] lse = Arena.uninitialized(b * heads * t); // (B, H, T), kept for backward
        FlashAttention.forward(out, lo, lse, qkv.data, lq, qkv.data, lk, qkv.data, lv, b, heads, t, d, mask);
        return Tensor.result(out, new int[]{b, t, c}, dout -> {
            float[] g = qkv.gradBuffer();
            FlashAttention.backward(g, g, g, dout, out, lo, lse, qkv.data, lq, qkv.data, lk, qkv.data, lv,
                    b, heads, t, d, mask);
        }, qkv);
    }

    /**
     * The causal softmax weights {@code (B, H, T, T)} of {@code (B, H, T, D)} queries and keys, 0
     * above the diagonal, without dropout and outside any graph: for inspecting a forward pass.
     */
    public static Tensor causalAttentionWeights(Tensor q, Tensor k) {
        if (q.rank() != 4 || !Shape.same(q.shape, k.shape)) {
            throw new IllegalArgumentException("causalAttentionWeights: q and k must share one (B, H, T, D) shape, got "
                    + Shape.str(q.shape) + ", " + Shape.str(k.shape));
        }
        int b = q.shape[0], h = q.shape[1], t = q.shape[2], d = q.shape[3];
        float[] att = new float[b * h * t * t];
        AttentionKernel.forward(new float[q.size()], att, q.data, k.data, k.data, b, h, t, d, null);
        return Tensor.of(att, b, h, t, t);
    }

    /**
     * Mean cross-entropy of logits {@code (.., V)} against integer targets (one per row); targets
     * equal to {@link #IGNORE_INDEX} are skipped and do not count in the mean.
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        int v = logits.dim(-1);
        int rows = logits.size() / Math.max(1, v);
        if (targets.length != rows) {
            throw new IllegalArgumentException("crossEntropy: " + rows + " rows of logits " + Shape.str(logits.shape)
                    + " but " + targets.length + " targets");
        }
        int counted = 0;
        for (int t : targets) {
            if (t == IGNORE_INDEX) continue;
            if (t < 0 || t >= v) throw new IllegalArgumentException("crossEntropy: target " + t + " outside vocabulary of " + v);
            counted++;
        }
        float[] lse = Arena.uninitialized(rows); // (N) log-sum-exp per row, kept for backward
        float[] loss = Arena.uninitialized(1);
        loss[0] = CrossEntropyKernel.forward(logits.data, targets, rows, v, IGNORE_INDEX, lse);
        if (counted == 0) return Tensor.result(loss, new int[0], g -> { }, logits); // NaN loss, no gradient
        // the kernel divides by the number of counted rows itself: pass d(loss) unchanged
        return Tensor.result(loss, new int[0], g -> CrossEntropyKernel.backward(
                logits.gradBuffer(), logits.data, targets, lse, rows, v, IGNORE_INDEX, g[0]), logits);
    }

    /**
     * The output head and the loss in one op: mean cross-entropy of {@code x·Wᵀ + b} (x {@code (.., C)},
     * weight {@code (V, C)}, bias {@code (V)} or null) against one target per row, with
     * {@link #IGNORE_INDEX} as in {@link #crossEntropy}. The same value and gradients as
     * {@code crossEntropy(linear(x, weight, bias), targets)} without holding the {@code (N, V)}
     * logits and their gradient: see {@link LinearCrossEntropy}.
     */
    public static Tensor linearCrossEntropy(Tensor x, Tensor weight, Tensor bias, int[] targets) {
        return LinearCrossEntropy.apply(x, weight, bias, targets, IGNORE_INDEX, null, Simd.ENABLED);
    }

    /**
     * Mean cross-entropy of {@code x·Wᵀ} for a packed inference head (no gradient), one chunk of
     * logits at a time: what {@code score} and evaluation use when the weights are packed.
     */
    public static Tensor linearCrossEntropy(Tensor x, PackedMatrix weight, int[] targets) {
        return LinearCrossEntropy.apply(x, weight, targets, IGNORE_INDEX, Simd.ENABLED);
    }

    /**
     * Floats {@link #linearCrossEntropy} holds from forward to backward for {@code rows} rows, a
     * vocabulary of {@code vocab} and width {@code width} (for memory estimates).
     */
    public static long linearCrossEntropyFloats(int rows, int vocab, int width, boolean weightGrad) {
        return LinearCrossEntropy.heldFloats(rows, vocab, width, true, weightGrad, false);
    }

    /** Looks up rows of a table {@code (V, C)} for ids {@code (..)}, giving {@code (.., C)}. */
    public static Tensor embedding(Tensor table, int[] ids, int... idShape) {
        int vocab = table.dim(0), c = table.dim(1);
        if (Shape.size(idShape) != ids.length) {
            throw new IllegalArgumentException("embedding: " + ids.length + " ids do not fit shape " + Shape.str(idShape));
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("embedding: id " + id + " outside table of " + vocab + " rows");
        }
        int[] shape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
        shape[idShape.length] = c;
        float[] out = Arena.uninitialized(ids.length * c);
        EmbeddingKernel.forward(out, table.data, ids, ids.length, c);
        return Tensor.result(out, shape, dout -> EmbeddingKernel.backward(table.gradBuffer(), dout, ids, ids.length, c), table);
    }

    /** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
    public static Tensor dropout(Tensor x, float p, long seed) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        if (p == 0) return x;
        float[] out = Arena.uninitialized(x.size());
        DropoutKernel.forward(out, x.data, x.size(), p, seed);
        return Tensor.result(out, x.shape, dout -> DropoutKernel.backward(x.gradBuffer(), dout, x.size(), p, seed), x);
    }

    /** Dropout with a given mask: kept elements times the mask's scale, the rest zero. */
    public static Tensor dropout(Tensor x, DropoutMask mask) {
        float[] out = Arena.uninitialized(x.size());
        DropoutKernel.forward(out, x.data, x.size(), mask);
        return Tensor.result(out, x.shape, dout -> DropoutKernel.backward(x.gradBuffer(), dout, x.size(), mask), x);
    }
}
