package dev.myllm.nn;

import dev.myllm.tensor.DropoutMask;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Where a model's dropout layers take their masks from, in the order they run: counter-based
 * masks seeded from an {@link Rng} (the default), or PyTorch's masks drawn from a
 * {@link TorchGenerator} (the book's runs, mask for mask).
 */
public final class DropoutSource {
    private final Rng rng;
    private TorchGenerator torch;
    private List<DropoutMask> recording; // masks handed out are also added here
    private Iterator<DropoutMask> replaying; // masks are taken from here instead of drawn

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
        if (replaying != null) {
            if (!replaying.hasNext()) throw new IllegalStateException("a recomputation asked for more dropout masks than the first run");
            return replaying.next();
        }
        DropoutMask m = torch != null ? DropoutMask.torch(torch, n, asPythonFloat(p)) : DropoutMask.hashed(p, Dropout.nextSeed(rng));
        if (recording != null) recording.add(m);
        return m;
    }

    /**
     * {@code f} drawing its masks once: the first call draws (and records) them, every later call
     * gets the same ones back, as a checkpointed block's recomputation in backward must.
     */
    public UnaryOperator<Tensor> sameMasks(UnaryOperator<Tensor> f) {
        List<DropoutMask> masks = new ArrayList<>();
        boolean[] drawn = {false};
        return x -> {
            if (drawn[0]) {
                replaying = masks.iterator();
            } else {
                drawn[0] = true;
                recording = masks;
            }
            try {
                return f.apply(x);
            } finally {
                replaying = null;
                recording = null;
            }
        };
    }

    /** The double a Python program wrote as this float (0.1f → 0.1): PyTorch computes 1 − q in double. */
    static double asPythonFloat(float p) {
        return Double.parseDouble(Float.toString(p));
    }
}
