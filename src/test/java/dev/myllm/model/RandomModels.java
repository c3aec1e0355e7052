package dev.myllm.model;

import dev.myllm.tensor.Tensor;
import java.util.SplittableRandom;

/** Test models whose every parameter (biases and LayerNorm too) is random, so no mix-up of tensors can hide. */
public final class RandomModels {
    private RandomModels() {
    }

    /** A model of the given shape with all parameters uniform in [-0.2, 0.2), from {@code seed}. */
    public static GPTModel uniform(GPTConfig config, long seed) {
        GPTModel m = new GPTModel(config, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Tensor p : m.namedParameters().values()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextDouble() - 0.5) * 0.4f;
        }
        return m;
    }
}
