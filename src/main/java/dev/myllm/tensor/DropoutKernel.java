package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/** Counter-based inverted dropout on a flat array: kept elements are scaled by 1/(1−p), the mask is recomputed in backward. */
public final class DropoutKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    private static final int GRAIN = 8192;
    private static final int BLOCK = 1024; // multiple of every species length

    private DropoutKernel() {
    }

    /** out[i] = keep(seed, i) ? x[i]/(1−p) : 0; out, x (n); out may alias x. */
    public static void forward(float[] out, float[] x, int n, float p, long seed) {
        if (Simd.ENABLED) apply(out, x, n, p, seed, false, true);
        else apply(out, x, n, p, seed, false, false);
    }

    /** dx[i] += keep(seed, i) ? dout[i]/(1−p) : 0, the same mask as {@link #forward} with the same seed. */
    public static void backward(float[] dx, float[] dout, int n, float p, long seed) {
        if (Simd.ENABLED) apply(dx, dout, n, p, seed, true, true);
        else apply(dx, dout, n, p, seed, true, false);
    }

    public static void forwardScalar(float[] out, float[] x, int n, float p, long seed) {
        apply(out, x, n, p, seed, false, false);
    }

    public static void forwardSimd(float[] out, float[] x, int n, float p, long seed) {
        apply(out, x, n, p, seed, false, true);
    }

    public static void backwardScalar(float[] dx, float[] dout, int n, float p, long seed) {
        apply(dx, dout, n, p, seed, true, false);
    }

    public static void backwardSimd(float[] dx, float[] dout, int n, float p, long seed) {
        apply(dx, dout, n, p, seed, true, true);
    }

    /** out[i] = mask.keep(i) ? x[i]·scale : 0 with a given mask. */
    public static void forward(float[] out, float[] x, int n, DropoutMask mask) {
        apply(out, x, n, mask, false, Simd.ENABLED);
    }

    /** dx[i] += mask.keep(i) ? dout[i]·scale : 0. */
    public static void backward(float[] dx, float[] dout, int n, DropoutMask mask) {
        apply(dx, dout, n, mask, true, Simd.ENABLED);
    }

    private static void apply(float[] dst, float[] src, int n, float p, long seed, boolean accumulate, boolean simd) {
        apply(dst, src, n, DropoutMask.hashed(p, seed), accumulate, simd);
    }

    /** dst = (accumulate ? dst : 0) + mask ⊙ src · scale. */
    private static void apply(float[] dst, float[] src, int n, DropoutMask mask, boolean accumulate, boolean simd) {
        float scale = mask.scale();
        Parallel.forRange(n, GRAIN, (s, e) -> {
            int i = s;
            if (simd) {
                // Masks come a block at a time from the vectorized hash; vectors then do the
                // scale-and-blend. The blend (not a multiply by 0) keeps the result bitwise equal
                // to the scalar twin even for inf and NaN inputs.
                boolean[] keep = new boolean[BLOCK];
                int ub = s + F.loopBound(e - s);
                while (i < ub) {
                    int len = Math.min(BLOCK, ub - i);
                    mask.keep(true, i, len, keep, 0);
                    for (int l = 0; l < len; l += L, i += L) {
                        VectorMask<Float> kept = VectorMask.fromArray(F, keep, l);
                        FloatVector v = FloatVector.fromArray(F, src, i).mul(scale).blend(0f, kept.not());
                        if (accumulate) v = FloatVector.fromArray(F, dst, i).add(v);
                        v.intoArray(dst, i);
                    }
                }
            }
            for (; i < e; i++) {
                float v = mask.keep(i) ? src[i] * scale : 0f;
                dst[i] = accumulate ? dst[i] + v : v;
            }
        });
    }
}
