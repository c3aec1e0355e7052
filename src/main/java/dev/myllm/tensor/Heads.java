package dev.myllm.tensor;

/**
 * The reshuffles around multi-head attention as single ops with their backward: the fused QKV
 * projection {@code (B, T, 3C)} split into per-head queries, keys and values {@code (B, H, T, D)},
 * and the heads' outputs {@code (B, H, T, D)} merged back to {@code (B, T, C)}. Each is one copy
 * through the arena, instead of a narrow, a reshape and a transpose per tensor.
 */
public final class Heads {
    private Heads() {
    }

    /** qkv {@code (B, T, 3C)} → {@code [q, k, v]}, each {@code (B, H, T, C/H)}. */
    public static Tensor[] splitQkv(Tensor qkv, int heads) {
        if (qkv.rank() != 3 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("splitQkv: expected (B, T, 3C) with C divisible by " + heads + " heads, got " + Shape.str(qkv.shape));
        }
        int b = qkv.dim(0), t = qkv.dim(1), c = qkv.dim(2) / 3, d = c / heads;
        Tensor[] out = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            int p = part;
            float[] y = Arena.uninitialized(b * t * c);
            copy(qkv.data, y, b, t, heads, d, 3 * c, p * c, true);
            out[part] = Tensor.result(y, new int[]{b, heads, t, d},
                    g -> addBack(g, qkv.gradBuffer(), b, t, heads, d, 3 * c, p * c), qkv);
        }
        return out;
    }

    /** x {@code (B, H, T, D)} → {@code (B, T, H·D)}: heads side by side again. */
    public static Tensor merge(Tensor x) {
        if (x.rank() != 4) throw new IllegalArgumentException("merge: expected (B, H, T, D), got " + Shape.str(x.shape));
        int b = x.dim(0), h = x.dim(1), t = x.dim(2), d = x.dim(3), c = h * d;
        float[] y = Arena.uninitialized(x.size());
        copy(x.data, y, b, t, h, d, c, 0, false);
        return Tensor.result(y, new int[]{b, t, c}, g -> {
            // gradient of a permutation: the inverse permutation, added
            float[] gx = x.gradBuffer();
            for (int bi = 0; bi < b; bi++)
                for (int ti = 0; ti < t; ti++)
                    for (int hi = 0; hi < h; hi++) {
                        int src = (bi * t + ti) * c + hi * d, dst = ((bi * h + hi) * t + ti) * d;
                        for (int i = 0; i < d; i++) gx[dst + i] += g[src + i];
                    }
        }, x);
    }

    /**
     * Copies between a row layout {@code (B, T, rowWidth)} (heads at {@code colOffset + h·D}) and a
     * head layout {@code (B, H, T, D)}; {@code toHeads} says which way.
     */
    private static void copy(float[] src, float[] dst, int b, int t, int h, int d, int rowWidth, int colOffset, boolean toHeads) {
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++)
                for (int hi = 0; hi < h; hi++) {
                    int row = (bi * t + ti) * rowWidth + colOffset + hi * d, head = ((bi * h + hi) * t + ti) * d;
                    if (toHeads) System.arraycopy(src, row, dst, head, d);
                    else System.arraycopy(src, head, dst, row, d);
                }
    }

    private static void addBack(float[] g, float[] gq, int b, int t, int h, int d, int rowWidth, int colOffset) {
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++)
                for (int hi = 0; hi < h; hi++) {
                    int row = (bi * t + ti) * rowWidth + colOffset + hi * d, head = ((bi * h + hi) * t + ti) * d;
                    for (int i = 0; i < d; i++) gq[row + i] += g[head + i];
                }
    }
}
