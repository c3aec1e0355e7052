package dev.myllm.nn;

import dev.myllm.tensor.DropoutMask;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.TorchGenerator;

/**
 * Where a model's dropout layers take their masks from, in the order they run: counter-based
 * masks seeded from an {@link Rng} (the default), or PyTorch's masks drawn from a
 * {@link TorchGenerator} (the book's runs, mask for mask).
 */
public final class DropoutSource {
    private final Rng rng;
    private TorchGenerator torch;

    public DropoutSource(Rng rng) {
        this.rng = rng;
    }

    /** From now on, masks come from {@code g} as PyTorch draws them (null: back to the counter-based ones). */
    public void useTorch(TorchGenerator g) {
        this.torch = g;
    }

    /** The torch generator in use, or null. */
    public TorchGenerator torch() {
        return torch;
    }

    /** The generator of the counter-based masks' seeds. */
    public Rng rng() {
        return rng;
    }

    /** The mask of the next dropout call on {@code n} elements with probability {@code p}. */
    public DropoutMask next(float p, int n) {
        if (torch != null) return DropoutMask.torch(torch, n, asPythonFloat(p));
        return DropoutMask.hashed(p, Dropout.nextSeed(rng));
    }

    /** The double a Python program wrote as this float (0.1f → 0.1): PyTorch computes 1 − q in double. */
    static double asPythonFloat(float p) {
        return Double.parseDouble(Float.toString(p));
    }
}
