package dev.myllm.tensor;

/**
 * Counter-based keep/drop decisions for inverted dropout: the fate of element {@code index} is a
 * pure function of (seed, index), so any thread count gives the same mask and a backward pass
 * recomputes it instead of storing it.
 */
public final class DropoutHash {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private DropoutHash() {
    }

    /** The index-th output of SplitMix64 started at {@code seed}: 64 well-mixed bits. */
    public static long bits(long seed, long index) {
        long z = seed + (index + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The 24-bit cut: an element is dropped iff its top 24 hash bits are below it (p·2^24, rounded). */
    public static int threshold(float p) {
        if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        return (int) Math.round(p * 16777216.0);
    }

    /** True when element {@code index} is kept under {@code threshold(p)}. */
    public static boolean keep(long seed, long index, int threshold) {
        return (int) (bits(seed, index) >>> 40) >= threshold;
    }

    /** The inverted-dropout scale 1/(1−p) applied to kept elements (0 when p = 1: nothing is kept). */
    public static float scale(float p) {
        return p >= 1f ? 0f : (float) (1.0 / (1.0 - p));
    }
}
