package dev.myllm.tensor;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Activation checkpointing ({@code torch.utils.checkpoint}): a function's forward runs without
 * keeping its intermediate tensors, and backward runs it again from the saved input to get them.
 * A transformer block then keeps only its input between forward and backward, at the price of a
 * second forward pass. The recomputation is the same arithmetic on the same values, so the
 * gradients are bitwise those of the plain graph, as long as the function draws the same random
 * numbers (dropout masks) both times: the caller makes it so.
 */
public final class Checkpoint {
    private Checkpoint() {
    }

    /**
     * {@code f(x)} whose backward recomputes {@code f}: x and the trainable tensors f reads (a
     * block's weights, LoRA adapters) receive their gradients during the recomputation. Without
     * grad mode this is just {@code f(x)}.
     */
    public static Tensor apply(Tensor x, UnaryOperator<Tensor> f) {
        if (!GradMode.isEnabled()) return f.apply(x);
        Tensor y;
        List<Tensor> leaves;
        // The intermediates live in an inner scope that hands its buffers back as soon as f returns,
        // so the next block's forward reuses them. The graph is recorded only to learn which leaves
        // need gradients (the output needs one when any does, even if x does not: frozen embeddings
        // under LoRA), and dropped with the scope.
        try (Arena inner = Arena.open()) {
            y = f.apply(x.detach());
            leaves = y.requiresGrad() ? y.trainableLeaves() : List.of();
        }
        // y's buffer went back to the pool with the scope but nothing has overwritten it yet; the
        // copy may even get that very buffer back, in which case it copies onto itself.
        float[] out = Arena.uninitialized(y.size());
        System.arraycopy(y.data, 0, out, 0, out.length);
        Tensor[] inputs = new Tensor[leaves.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < leaves.size(); i++) inputs[i + 1] = leaves.get(i);
        return Tensor.result(out, y.shape, gradOut -> recompute(x, f, gradOut), inputs);
    }

    /** Runs f again with the graph on and backpropagates {@code gradOut} through it into x and the parameters. */
    private static void recompute(Tensor x, UnaryOperator<Tensor> f, float[] gradOut) {
        float[] gx = x.requiresGrad() ? x.gradBuffer() : null; // from the outer scope: it outlives this one
        try (Arena inner = Arena.open(); GradMode on = GradMode.enabled()) {
            Tensor xr = x.detach();
            if (x.requiresGrad()) {
                xr.requiresGrad(true);
                xr.grad = Arena.zeros(xr.size()); // from the inner scope, not the heap a leaf would get
            }
            Tensor y = f.apply(xr);
            if (y.requiresGrad()) y.backwardFrom(gradOut);
            if (gx != null) {
                for (int i = 0; i < gx.length; i++) gx[i] += xr.grad[i];
            }
        }
    }
}
