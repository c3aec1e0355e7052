package dev.myllm.tensor;

import java.util.Arrays;

/** Helpers for shapes: element counts, formatting and the checks that name both shapes. */
public final class Shape {
    private Shape() {
    }

    /** Number of elements of a shape (1 for a scalar). */
    public static int size(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + str(shape) + " has too many elements");
        return (int) n;
    }

    /** A shape as PyTorch prints it: {@code (2, 3, 4)}. */
    public static String str(int... shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Normalizes a possibly negative dimension index against a rank. */
    public static int dim(int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new IllegalArgumentException("dimension " + dim + " out of range for rank " + rank);
        return d;
    }

    /** Product of the dimensions in {@code [from, to)}. */
    public static int prod(int[] shape, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }

    /**
     * Walks a shape in row-major order and gives, for each element, {@code Σ index[i]·stride[i]}:
     * the flat offset it reads in a tensor seen through those strides (0 for a broadcast dim).
     */
    static int[] offsets(int[] shape, int[] stride) {
        int rank = shape.length;
        int[] map = new int[size(shape)];
        int[] counter = new int[rank];
        int offset = 0;
        for (int k = 0; k < map.length; k++) {
            map[k] = offset;
            for (int i = rank - 1; i >= 0; i--) { // odometer: bump the last index, carry leftwards
                counter[i]++;
                offset += stride[i];
                if (counter[i] < shape[i]) break;
                offset -= stride[i] * counter[i];
                counter[i] = 0;
            }
        }
        return map;
    }

    static boolean same(int[] a, int[] b) {
        return Arrays.equals(a, b);
    }

    static IllegalArgumentException mismatch(String op, int[] a, int[] b) {
        return new IllegalArgumentException(op + ": shape mismatch " + str(a) + " vs " + str(b));
    }
}
