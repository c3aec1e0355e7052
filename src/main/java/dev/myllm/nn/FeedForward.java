package dev.myllm.nn;

import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * The transformer's position-wise feed-forward network: expand to {@code 4·C}, GELU, project back;
 * the layers are named {@code c_fc} and {@code c_proj} as in Hugging Face GPT-2's {@code mlp}.
 */
public final class FeedForward extends Module {
    private final Linear fc;
    private final GELU gelu = new GELU();
    private final Linear proj;

    /**
     * GPT-2 initialization: both weights normal(0, 0.02), the output projection scaled by
     * {@code projStd} (GPT-2 uses 0.02/√(2·layers) on layers that write into the residual stream).
     */
    public FeedForward(int dim, int hidden, Rng rng, float std, float projStd) {
        this.fc = child("c_fc", new Linear(dim, hidden, true, rng, std));
        this.proj = child("c_proj", new Linear(hidden, dim, true, rng, projStd));
    }

    /** x {@code (.., C)} → {@code (.., C)}. */
    public Tensor forward(Tensor x) {
        if (!GradMode.isEnabled() && fc.adapter() == null) {
            // inference: the expansion, its bias and GELU in one pass over the hidden columns (packed
            // weights: as their products store, from panels)
            PackedMatrix packed = fc.packed();
            return proj.forward(packed == null ? Ops.linearGelu(x, fc.weight(), fc.bias()) : packed.linearGelu(x, fc.bias()));
        }
        Tensor h = fc.forward(x);                          // (.., 4C)
        // GELU's output is recomputed in backward rather than kept, unless a LoRA adapter on c_proj reads it
        // or c_proj computes from packed weights (the fused op reads the float32 weight)
        if (proj.adapter() == null && proj.packed() == null) return Ops.geluLinear(h, proj.weight(), proj.bias());
        return proj.forward(gelu.forward(h));
    }

    public Linear fc() {
        return fc;
    }

    public Linear proj() {
        return proj;
    }
}
