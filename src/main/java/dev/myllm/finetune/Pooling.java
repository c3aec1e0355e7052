package dev.myllm.finetune;

import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Tensor;

/**
 * The two ops that turn hidden states {@code (B, T, C)} into one vector per sequence for the
 * classifier head, each with its hand-written backward: picking one position per row, and the
 * mean over positions.
 */
public final class Pooling {
    private Pooling() {
    }

    /** {@code out[b] = x[b, at[b]]}: {@code (B, T, C)} → {@code (B, C)}. */
    public static Tensor select(Tensor x, int[] at) {
        if (x.rank() != 3 || at.length != x.dim(0)) {
            throw new IllegalArgumentException("select: need (B, T, C) states and B positions, got " + java.util.Arrays.toString(x.shape())
                    + " and " + at.length);
        }
        int b = x.dim(0), t = x.dim(1), c = x.dim(2);
        for (int p : at) if (p < 0 || p >= t) throw new IllegalArgumentException("select: position " + p + " outside 0.." + (t - 1));
        float[] out = Arena.uninitialized(b * c);
        float[] xd = x.data();
        for (int r = 0; r < b; r++) System.arraycopy(xd, (r * t + at[r]) * c, out, r * c, c);
        return Tensor.result(out, new int[]{b, c}, g -> {
            float[] gx = x.gradBuffer();
            for (int r = 0; r < b; r++) {
                int o = (r * t + at[r]) * c;
                for (int j = 0; j < c; j++) gx[o + j] += g[r * c + j];
            }
        }, x);
    }

    /** {@code out[b] = (1/T) Σ_t x[b, t]}: {@code (B, T, C)} → {@code (B, C)}, summed in position order. */
    public static Tensor mean(Tensor x) {
        if (x.rank() != 3) throw new IllegalArgumentException("mean: need (B, T, C) states, got " + java.util.Arrays.toString(x.shape()));
        int b = x.dim(0), t = x.dim(1), c = x.dim(2);
        float[] out = Arena.zeros(b * c);
        float[] xd = x.data();
        float inv = 1f / t;
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < t; p++) {
                int o = (r * t + p) * c;
                for (int j = 0; j < c; j++) out[r * c + j] += xd[o + j];
            }
            for (int j = 0; j < c; j++) out[r * c + j] *= inv;
        }
        return Tensor.result(out, new int[]{b, c}, g -> {
            float[] gx = x.gradBuffer();
            for (int r = 0; r < b; r++) {
                for (int p = 0; p < t; p++) {
                    int o = (r * t + p) * c;
                    for (int j = 0; j < c; j++) gx[o + j] += g[r * c + j] * inv;
                }
            }
        }, x);
    }
}
