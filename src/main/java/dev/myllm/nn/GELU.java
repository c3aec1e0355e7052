package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;

/** The GELU activation, tanh approximation {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, as GPT-2 uses. */
public final class GELU extends Module {
    public Tensor forward(Tensor x) {
        return Ops.gelu(x);
    }
}
