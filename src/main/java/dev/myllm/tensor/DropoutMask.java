package dev.myllm.tensor;

/**
 * Which elements one dropout call keeps, and the factor kept elements are multiplied by: either
 * counter-based (a pure function of a seed and the element's index, {@link DropoutHash}) or given
 * as bits drawn in advance (PyTorch's masks from a {@link TorchGenerator}).
 */
public final class DropoutMask {
    private final long seed;
    private final int threshold;
    private final long[] bits; // null for the counter-based kind
    private final float scale;

    private DropoutMask(long seed, int threshold, long[] bits, float scale) {
        this.seed = seed;
        this.threshold = threshold;
        this.bits = bits;
        this.scale = scale;
    }

    /** The counter-based mask of probability {@code p} and {@code seed}. */
    public static DropoutMask hashed(float p, long seed) {
        return new DropoutMask(seed, DropoutHash.threshold(p), null, DropoutHash.scale(p));
    }

    /** A mask given as bits ({@code bits[i >> 6]} bit {@code i & 63} set = kept) and the factor for kept elements. */
    public static DropoutMask ofBits(long[] bits, float scale) {
        return new DropoutMask(0, 0, bits, scale);
    }

    /**
     * PyTorch's {@code nn.Dropout(q)} mask for {@code n} elements, drawn now from {@code g}
     * ({@code q} as the double Python holds: 0.1, not 0.1f).
     */
    public static DropoutMask torch(TorchGenerator g, int n, double q) {
        return ofBits(g.dropoutMask(n, q), TorchGenerator.dropoutScale(q));
    }

    /** The factor kept elements are multiplied by. */
    public float scale() {
        return scale;
    }

    /** Whether element {@code index} is kept. */
    public boolean keep(long index) {
        if (bits == null) return DropoutHash.keep(seed, index, threshold);
        return (bits[(int) (index >>> 6)] >>> (index & 63) & 1) != 0;
    }

    /** keep[off + l] = keep(start + l) for l &lt; count, vectorised for the counter-based kind when {@code simd}. */
    public void keep(boolean simd, long start, int count, boolean[] keep, int off) {
        if (bits == null) {
            if (simd) DropoutHash.keepMaskSimd(seed, start, count, threshold, keep, off);
            else DropoutHash.keepMaskScalar(seed, start, count, threshold, keep, off);
            return;
        }
        for (int l = 0; l < count; l++) keep[off + l] = keep(start + l);
    }
}
