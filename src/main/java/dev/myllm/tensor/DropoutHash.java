package dev.myllm.tensor;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Counter-based keep/drop decisions for inverted dropout: the fate of element {@code index} is a
 * pure function of (seed, index), so any thread count gives the same mask and a backward pass
 * recomputes it instead of storing it.
 */
public final class DropoutHash {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long M1 = 0xBF58476D1CE4E5B9L;
    private static final long M2 = 0x94D049BB133111EBL;
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;

    private DropoutHash() {
    }

    /** The index-th output of SplitMix64 started at {@code seed}: 64 well-mixed bits. */
    public static long bits(long seed, long index) {
        long z = seed + (index + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * M1;
        z = (z ^ (z >>> 27)) * M2;
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

    /**
     * keep[kOff + l] = keep(seed, start + l, threshold) for l &lt; count. The SIMD twin hashes a
     * whole long vector of indices at once (64-bit lane arithmetic wraps exactly like Java longs,
     * so the bits are the same); this is the hot part of dropout on (B, H, T, T) attention weights.
     */
    public static void keepMask(long seed, long start, int count, int threshold, boolean[] keep, int kOff) {
        if (Simd.ENABLED) keepMaskSimd(seed, start, count, threshold, keep, kOff);
        else keepMaskScalar(seed, start, count, threshold, keep, kOff);
    }

    public static void keepMaskScalar(long seed, long start, int count, int threshold, boolean[] keep, int kOff) {
        for (int l = 0; l < count; l++) keep[kOff + l] = keep(seed, start + l, threshold);
    }

    public static void keepMaskSimd(long seed, long start, int count, int threshold, boolean[] keep, int kOff) {
        int n = S.length();
        int l = 0;
        if (count >= n) {
            LongVector lanes = LongVector.zero(S).addIndex(1);
            for (; l + n <= count; l += n) {
                LongVector z = lanes.add(start + l + 1).mul(GOLDEN).add(seed);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(M1);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(M2);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
                VectorMask<Long> m = z.lanewise(VectorOperators.LSHR, 40).compare(VectorOperators.GE, threshold);
                m.intoArray(keep, kOff + l);
            }
        }
        for (; l < count; l++) keep[kOff + l] = keep(seed, start + l, threshold);
    }
}
