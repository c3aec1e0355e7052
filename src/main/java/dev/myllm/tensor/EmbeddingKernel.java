package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Embedding lookup: gather rows of a (vocab, C) table by id, and its deterministic scatter-add backward. */
public final class EmbeddingKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private EmbeddingKernel() {
    }

    /**
     * out[r] = table[ids[r]] for r &lt; n. A row copy has nothing to vectorize beyond
     * {@code System.arraycopy}, so there is one path.
     *
     * @param out   (n, C) written
     * @param table (vocab, C), vocab = table.length / C
     * @param ids   (n) each in [0, vocab)
     * @throws IllegalArgumentException naming the first id outside the table
     */
    public static void forward(float[] out, float[] table, int[] ids, int n, int C) {
        checkIds(ids, n, table.length / C);
        long t0 = StepProfile.begin();
        Parallel.forRange(n, Math.max(1, 16384 / Math.max(1, C)), (s, e) -> {
            for (int r = s; r < e; r++) System.arraycopy(table, ids[r] * C, out, r * C, C);
        });
        StepProfile.end(t0, "embedding forward", 0);
    }

    private static void checkIds(int[] ids, int n, int vocab) {
        for (int r = 0; r < n; r++) {
            if (ids[r] < 0 || ids[r] >= vocab) {
                throw new IllegalArgumentException("token id " + ids[r] + " at position " + r + " is outside [0, " + vocab + ")");
            }
        }
    }

    /**
     * dtable[ids[r]] += dout[r] for r &lt; n. Threads split the C columns (in whole vectors) and
     * each walks all rows in order 0..n-1, so repeated ids add in a fixed order and no two threads
     * ever touch the same element: bitwise the same for any thread count, and SIMD equals scalar.
     *
     * @param dtable (vocab, C) accumulated
     * @param dout   (n, C)
     * @param ids    (n)
     */
    public static void backward(float[] dtable, float[] dout, int[] ids, int n, int C) {
        long t0 = StepProfile.begin();
        backward(Simd.ENABLED, dtable, dout, ids, n, C);
        StepProfile.end(t0, "embedding backward", 0);
    }

    public static void backwardScalar(float[] dtable, float[] dout, int[] ids, int n, int C) {
        backward(false, dtable, dout, ids, n, C);
    }

    public static void backwardSimd(float[] dtable, float[] dout, int[] ids, int n, int C) {
        backward(true, dtable, dout, ids, n, C);
    }

    private static void backward(boolean simd, float[] dtable, float[] dout, int[] ids, int n, int C) {
        checkIds(ids, n, dtable.length / C);
        int chunks = (C + L - 1) / L;
        // Splitting columns only pays when there are many rows; a chunk should hold ~16k adds.
        int grain = Math.max(1, 16384 / Math.max(1, n * L));
        Parallel.forRange(chunks, grain, (ks, ke) -> {
            int cs = ks * L, ce = Math.min(C, ke * L);
            int vEnd = simd ? cs + (ce - cs) / L * L : cs;
            for (int r = 0; r < n; r++) {
                int src = r * C, dst = ids[r] * C;
                int c = cs;
                for (; c < vEnd; c += L) {
                    FloatVector.fromArray(F, dtable, dst + c).add(FloatVector.fromArray(F, dout, src + c))
                            .intoArray(dtable, dst + c);
                }
                for (; c < ce; c++) dtable[dst + c] += dout[src + c];
            }
        });
    }
}
