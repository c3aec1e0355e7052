package dev.myllm.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * A float32 tensor: a contiguous row-major {@code float[]} with a shape, and the autograd
 * bookkeeping of reverse mode (the op that made it, its inputs, its gradient).
 *
 * <p>Ops are instance methods for the elementwise and shape ops ({@code x.add(y)},
 * {@code x.matmul(w)}) and static methods of {@link Ops} for the fused layers
 * ({@code Ops.linear}, {@code Ops.layerNorm}, {@code Ops.causalAttention}, ...).
 */
public final class Tensor {
    /** Hand-written backward of one op: reads the output's gradient, adds into its inputs' gradients. */
    @FunctionalInterface
    public interface Backward {
        void run(float[] gradOut);
    }

    final float[] data;
    final int[] shape;
    private final int size; // data.length, except for a shape-only tensor
    float[] grad;
    private boolean requiresGrad;
    private Backward backward;
    private Tensor[] inputs;
    private String name;

    private Tensor(float[] data, int[] shape) {
        if (data.length != Shape.size(shape)) {
            throw new IllegalArgumentException("data of length " + data.length + " does not fit shape " + Shape.str(shape));
        }
        this.data = data;
        this.shape = shape.clone();
        this.size = data.length;
    }

    private Tensor(int[] shape) {
        this.data = new float[0];
        this.shape = shape.clone();
        this.size = Shape.size(shape);
    }

    /**
     * A shape without values: a parameter whose weights live elsewhere (a layer computing from
     * packed 16- or 8-bit weights keeps no float32 copy). Any op reading its values fails.
     */
    public static Tensor shapeOnly(int... shape) {
        return new Tensor(shape);
    }

    // ---------------------------------------------------------------- factories

    /** Wraps an array (not copied) as a tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(data, shape);
    }

    /** A 1-D tensor holding a copy of the values. */
    public static Tensor vector(float... values) {
        return new Tensor(values.clone(), new int[]{values.length});
    }

    /** A 0-D tensor (a scalar). */
    public static Tensor scalar(float value) {
        return new Tensor(new float[]{value}, new int[0]);
    }

    /** A tensor of zeros (taken from the current {@link Arena} if one is open). */
    public static Tensor zeros(int... shape) {
        return new Tensor(Arena.zeros(Shape.size(shape)), shape);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shape.size(shape)];
        Arrays.fill(d, value);
        return new Tensor(d, shape);
    }

    /** {@code 0, 1, ..., n-1} as floats. */
    public static Tensor arange(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return new Tensor(d, new int[]{n});
    }

    /** Uniform values in {@code [low, high)} drawn from a seeded generator. */
    public static Tensor uniform(Rng rng, float low, float high, int... shape) {
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.nextFloat();
        return new Tensor(d, shape);
    }

    /**
     * Normal values with the given mean and standard deviation drawn from a seeded generator; a
     * null generator draws nothing and leaves zeros (for weights another initialisation fills in).
     */
    public static Tensor normal(Rng rng, float mean, float std, int... shape) {
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; rng != null && i < d.length; i++) d[i] = (float) (mean + std * rng.nextGaussian());
        return new Tensor(d, shape);
    }

    /**
     * The output of an op: records {@code backward} and the inputs only when grad mode is on and
     * some input needs a gradient, so inference builds no graph.
     */
    public static Tensor result(float[] data, int[] shape, Backward backward, Tensor... inputs) {
        Tensor out = new Tensor(data, shape);
        if (GradMode.isEnabled()) {
            for (Tensor t : inputs) {
                if (t != null && t.requiresGrad) {
                    out.requiresGrad = true;
                    out.backward = backward;
                    out.inputs = inputs;
                    break;
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- accessors

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of one dimension; negative indices count from the end. */
    public int dim(int d) {
        return shape[Shape.dim(d, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return size;
    }

    /** The backing array itself (row-major); writing to it changes the tensor. */
    public float[] data() {
        return data;
    }

    /** The value of a one-element tensor. */
    public float item() {
        if (data.length != 1) throw new IllegalStateException("item() needs one element, shape is " + Shape.str(shape));
        return data[0];
    }

    /** A copy of the values. */
    public float[] toArray() {
        return data.clone();
    }

    /** The element at a full index. */
    public float get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for shape " + Shape.str(shape));
        }
        int flat = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of shape " + Shape.str(shape));
            }
            flat = flat * shape[i] + index[i];
        }
        return data[flat];
    }

    public String name() {
        return name;
    }

    public Tensor name(String name) {
        this.name = name;
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("tensor").append(Shape.str(shape)).append(' ');
        int n = Math.min(data.length, 8);
        sb.append('[');
        for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.4f", data[i]));
        if (data.length > n) sb.append(", ...");
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- autograd

    /** Marks a leaf as needing (or not needing, that is frozen) a gradient; returns this. */
    public Tensor requiresGrad(boolean on) {
        if (backward != null && !on) throw new IllegalStateException("cannot freeze a non-leaf tensor; use detach()");
        requiresGrad = on;
        return this;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Whether this tensor was made by a user rather than by an op. */
    public boolean isLeaf() {
        return backward == null;
    }

    /** The accumulated gradient as a tensor sharing its storage, or null before any backward. */
    public Tensor grad() {
        return grad == null ? null : new Tensor(grad, shape);
    }

    /**
     * The gradient buffer ops accumulate into, allocated zeroed on first use: leaves (parameters)
     * get a heap buffer that outlives any arena, intermediate tensors one from the arena.
     */
    public float[] gradBuffer() {
        if (grad == null) grad = backward == null ? new float[data.length] : Arena.zeros(data.length);
        return grad;
    }

    /** Clears the gradient to zeros (keeping the buffer). */
    public void zeroGrad() {
        if (grad != null) Arena.clear(grad);
    }

    /** Drops the gradient buffer. */
    public void clearGrad() {
        grad = null;
    }

    /** The same values, cut from the graph. */
    public Tensor detach() {
        return new Tensor(data, shape);
    }

    /** A deep copy of the values (no graph). */
    public Tensor copy() {
        return new Tensor(data.clone(), shape);
    }

    /**
     * Reverse-mode differentiation from this scalar: every tensor on the graph that requires a
     * gradient receives d(this)/d(it), added to what its gradient already holds. The graph is
     * freed afterwards, as in PyTorch; leaves keep their gradients.
     */
    public void backward() {
        BACKWARD_PASSES.incrementAndGet();
        if (data.length != 1) throw new IllegalStateException("backward() needs a scalar, shape is " + Shape.str(shape));
        if (!requiresGrad) throw new IllegalStateException("backward(): this tensor does not require a gradient");
        gradBuffer()[0] += 1f;
        propagate();
    }

    private static final java.util.concurrent.atomic.AtomicLong BACKWARD_PASSES = new java.util.concurrent.atomic.AtomicLong();

    /**
     * How many times {@link #backward()} has been called in this process: an optimizer that left
     * the gradients zero knows from it whether any were added since.
     */
    public static long backwardPasses() {
        return BACKWARD_PASSES.get();
    }

    /** Backward from a non-scalar output whose gradient is {@code seed} (a checkpointed function's recomputation). */
    void backwardFrom(float[] seed) {
        grad = seed;
        propagate();
    }

    private void propagate() {
        List<Tensor> order = topologicalOrder();
        for (int i = order.size() - 1; i >= 0; i--) {
            Tensor t = order.get(i);
            if (t.backward != null && t.grad != null) t.backward.run(t.grad);
            if (t.backward != null) {
                float[] used = t.grad;
                t.backward = null;
                t.inputs = null;
                t.grad = null;
                t.requiresGrad = false;
                Arena.release(used); // nothing reads an intermediate gradient after its own backward
            }
        }
    }

    /** The leaves on this tensor's graph that need a gradient (parameters being trained). */
    List<Tensor> trainableLeaves() {
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : topologicalOrder()) if (t.backward == null && t.requiresGrad) leaves.add(t);
        return leaves;
    }

    /** Tensors reachable from this one, each after all of its inputs. */
    private List<Tensor> topologicalOrder() {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[]{this, 0});
        seen.add(this);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] ins = t.inputs == null ? new Tensor[0] : t.inputs;
            if (next < ins.length) {
                frame[1] = next + 1;
                Tensor in = ins[next];
                if (in != null && in.requiresGrad && seen.add(in)) stack.push(new Object[]{in, 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }

    // ---------------------------------------------------------------- elementwise (see Elementwise)

    public Tensor add(Tensor o) {
        return Elementwise.add(this, o);
    }

    public Tensor sub(Tensor o) {
        return Elementwise.sub(this, o);
    }

    public Tensor mul(Tensor o) {
        return Elementwise.mul(this, o);
    }

    public Tensor div(Tensor o) {
        return Elementwise.div(this, o);
    }

    public Tensor add(float c) {
        return Elementwise.addScalar(this, c);
    }

    public Tensor scale(float c) {
        return Elementwise.scale(this, c);
    }

    public Tensor neg() {
        return Elementwise.scale(this, -1f);
    }

    public Tensor exp() {
        return Elementwise.exp(this);
    }

    public Tensor log() {
        return Elementwise.log(this);
    }

    public Tensor tanh() {
        return Elementwise.tanh(this);
    }

    public Tensor sqrt() {
        return Elementwise.sqrt(this);
    }

    public Tensor pow(float p) {
        return Elementwise.pow(this, p);
    }

    public Tensor sigmoid() {
        return Elementwise.sigmoid(this);
    }

    // ---------------------------------------------------------------- reductions (see Reductions)

    public Tensor sum() {
        return Reductions.sumAll(this);
    }

    public Tensor mean() {
        return Reductions.meanAll(this);
    }

    public Tensor max() {
        return Reductions.maxAll(this);
    }

    /** Sum over the last dimension; {@code keepDim} keeps it with size 1. */
    public Tensor sumLast(boolean keepDim) {
        return Reductions.sumLast(this, keepDim, false);
    }

    public Tensor meanLast(boolean keepDim) {
        return Reductions.sumLast(this, keepDim, true);
    }

    public Tensor maxLast(boolean keepDim) {
        return Reductions.maxLast(this, keepDim);
    }

    public Tensor softmax() {
        return Reductions.softmax(this);
    }

    public Tensor logSoftmax() {
        return Reductions.logSoftmax(this);
    }

    // ---------------------------------------------------------------- shape ops (see ShapeOps)

    /** Same data, new shape (one dimension may be -1). */
    public Tensor reshape(int... newShape) {
        return ShapeOps.reshape(this, newShape);
    }

    /** Alias of {@link #reshape}: storage is always contiguous, so a view never copies. */
    public Tensor view(int... newShape) {
        return ShapeOps.reshape(this, newShape);
    }

    /** Swaps two dimensions (materialized, so the result is contiguous). */
    public Tensor transpose(int d0, int d1) {
        return ShapeOps.transpose(this, d0, d1);
    }

    /** The slice {@code [start, start+length)} along a dimension. */
    public Tensor narrow(int dim, int start, int length) {
        return ShapeOps.narrow(this, dim, start, length);
    }

    /** Splits a dimension into pieces of the given size (the last may be smaller). */
    public List<Tensor> split(int size, int dim) {
        return ShapeOps.split(this, size, dim);
    }

    /** Joins tensors along a dimension. */
    public static Tensor concat(List<Tensor> parts, int dim) {
        return ShapeOps.concat(parts, dim);
    }

    /** Matrix product with {@code torch.matmul}'s rules for 1-D to 4-D operands. */
    public Tensor matmul(Tensor o) {
        return MatMul.matmul(this, o);
    }

    /** Entries above the diagonal of the last two dims set to {@code value} (the causal mask). */
    public Tensor maskedFillCausal(float value) {
        return ShapeOps.maskedFillCausal(this, value);
    }

    /** Entries where {@code mask} is non-zero set to {@code value}; the mask broadcasts over leading dims. */
    public Tensor maskedFill(Tensor mask, float value) {
        return ShapeOps.maskedFill(this, mask, value);
    }
}
