package dev.myllm.tensor;

/**
 * {@code torch.matmul} for 1-D to 4-D operands: vectors are promoted to matrices, leading batch
 * dimensions broadcast, and every product runs on the {@link Gemm} kernels.
 */
final class MatMul {
    private MatMul() {
    }

    static Tensor matmul(Tensor a, Tensor b) {
        if (a.shape.length == 0 || b.shape.length == 0) {
            throw new IllegalArgumentException("matmul: both operands need at least one dimension, got "
                    + Shape.str(a.shape) + " and " + Shape.str(b.shape));
        }
        // Promote vectors as torch does: (K) @ (.., K, N) and (.., M, K) @ (K), squeezed afterwards.
        boolean aVec = a.shape.length == 1, bVec = b.shape.length == 1;
        Tensor a2 = aVec ? a.reshape(1, a.shape[0]) : a;
        Tensor b2 = bVec ? b.reshape(b.shape[0], 1) : b;
        Tensor c = batched(a2, b2, a.shape, b.shape);
        if (aVec && bVec) return c.reshape();
        if (aVec) return squeeze(c, c.shape.length - 2);
        if (bVec) return squeeze(c, c.shape.length - 1);
        return c;
    }

    private static Tensor squeeze(Tensor t, int dim) {
        int[] s = new int[t.shape.length - 1];
        for (int i = 0, j = 0; i < t.shape.length; i++) if (i != dim) s[j++] = t.shape[i];
        return t.reshape(s);
    }

    /** (.., M, K) @ (.., K, N) → (.., M, N) with broadcast batch dimensions. */
    private static Tensor batched(Tensor a, Tensor b, int[] origA, int[] origB) {
        int ra = a.shape.length, rb = b.shape.length;
        int m = a.shape[ra - 2], k = a.shape[ra - 1], k2 = b.shape[rb - 2], n = b.shape[rb - 1];
        if (k != k2) throw Shape.mismatch("matmul (inner dimensions differ)", origA, origB);
        int[] batchA = java.util.Arrays.copyOf(a.shape, ra - 2), batchB = java.util.Arrays.copyOf(b.shape, rb - 2);
        int[] batch;
        try {
            batch = Broadcast.shape("matmul", batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw Shape.mismatch("matmul (batch dimensions do not broadcast)", origA, origB);
        }
        int batches = Shape.size(batch);
        int[] mapA = Broadcast.indexMap(batch, batchA), mapB = Broadcast.indexMap(batch, batchB);
        int[] shape = java.util.Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = m;
        shape[batch.length + 1] = n;
        float[] out = Arena.uninitialized(batches * m * n);
        for (int i = 0; i < batches; i++) {
            // (M, K) @ (K, N) → (M, N)
            Gemm.matmulNN(a.data, mapA[i] * m * k, b.data, mapB[i] * k * n, out, i * m * n, m, n, k, false);
        }
        return Tensor.result(out, shape, g -> {
            for (int i = 0; i < batches; i++) {
                if (a.requiresGrad()) {
                    // dA (M, K) += dC (M, N) · Bᵀ, B is (K, N): an NT product
                    Gemm.matmulNT(g, i * m * n, b.data, mapB[i] * k * n, a.gradBuffer(), mapA[i] * m * k, m, k, n, true);
                }
                if (b.requiresGrad()) {
                    // dB (K, N) += Aᵀ · dC, A is (M, K): a TN product reducing over M
                    Gemm.matmulTN(a.data, mapA[i] * m * k, g, i * m * n, b.gradBuffer(), mapB[i] * k * n, k, n, m, true);
                }
            }
        }, a, b);
    }
}
