package dev.myllm.nn;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/**
 * Inverted dropout: in training mode each call takes its mask from the model's shared
 * {@link DropoutSource} (a seed from its {@link Rng}, so a checkpoint that saves the state replays
 * the same masks, or PyTorch's own masks); in evaluation mode, or with p = 0, it is the identity.
 */
public final class Dropout extends Module {
    private final float p;
    private final DropoutSource source;

    public Dropout(float p, Rng rng) {
        this(p, new DropoutSource(rng));
    }

    public Dropout(float p, DropoutSource source) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        this.p = p;
        this.source = source;
    }

    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0f) return x;
        return Ops.dropout(x, source.next(p, x.size()));
    }

    public float p() {
        return p;
    }

    /** A 64-bit seed from two draws of the generator. */
    public static long nextSeed(Rng rng) {
        return ((long) rng.nextInt() << 32) | (rng.nextInt() & 0xFFFFFFFFL);
    }
}
