package dev.myllm.nn;

import java.util.function.Supplier;

/**
 * A scope in which modules built without a random generator give their matrices (Linear weights,
 * embedding tables) a shape and no values: a loader hands them packed 16-, 8- or 4-bit weights
 * next, so a model opened for inference never allocates a float32 copy of its matrices.
 */
public final class UnfilledMatrices {
    private static final ScopedValue<Boolean> ON = ScopedValue.newInstance();

    private UnfilledMatrices() {
    }

    /** Runs {@code build} with matrices left unfilled. */
    public static <T> T build(Supplier<T> build) {
        return ScopedValue.where(ON, true).call(build::get);
    }

    /** Runs {@code build} with matrices allocated as usual (a table that stays float32 inside {@link #build}). */
    public static <T> T filled(Supplier<T> build) {
        return ScopedValue.where(ON, false).call(build::get);
    }

    /** Whether a matrix made now without a generator gets no values. */
    static boolean active() {
        return ON.orElse(false);
    }
}
