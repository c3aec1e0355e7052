package dev.myllm.tensor;

/**
 * NumPy broadcasting of two shapes: dimensions are aligned from the right, and a dimension of
 * size 1 (or a missing one) is repeated. Maps each output element to the element it reads in
 * an operand, for the forward pass and for summing gradients back in the backward pass.
 */
final class Broadcast {
    private Broadcast() {
    }

    /** The broadcast shape of {@code a} and {@code b}, or a message naming both shapes. */
    static int[] shape(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) throw Shape.mismatch(op, a, b);
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * For every element of {@code out} (row-major), the flat index it reads in an operand of
     * shape {@code in}. The result is an index array of the output's size.
     */
    static int[] indexMap(int[] out, int[] in) {
        int rank = out.length;
        int[] stride = new int[rank];
        int s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            int inDim = i - (rank - in.length);
            int d = inDim < 0 ? 1 : in[inDim];
            stride[i] = d == 1 ? 0 : s;
            s *= d;
        }
        return Shape.offsets(out, stride);
    }
}
