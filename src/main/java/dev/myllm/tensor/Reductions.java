package dev.myllm.tensor;

/**
 * Sum, mean and max over all elements or over the last dimension, and softmax / log-softmax over
 * the last dimension, with their backward passes. Sums run in a fixed order (double
 * accumulators), so they do not depend on threads.
 */
final class Reductions {
    private Reductions() {
    }

    static Tensor sumAll(Tensor a) {
        return sumAll(a, 1f);
    }

    static Tensor meanAll(Tensor a) {
        return sumAll(a, 1f / a.data.length);
    }

    private static Tensor sumAll(Tensor a, float factor) {
        double s = 0;
        for (float v : a.data) s += v;
        float[] out = Arena.uninitialized(1);
        out[0] = (float) (s * factor);
        return Tensor.result(out, new int[0], g -> {
            float[] ga = a.gradBuffer();
            float d = g[0] * factor;
            for (int i = 0; i < ga.length; i++) ga[i] += d;
        }, a);
    }

    static Tensor maxAll(Tensor a) {
        if (a.data.length == 0) throw new IllegalArgumentException("max() of an empty tensor");
        int arg = 0;
        for (int i = 1; i < a.data.length; i++) if (a.data[i] > a.data[arg]) arg = i;
        int at = arg;
        float[] out = Arena.uninitialized(1);
        out[0] = a.data[at];
        return Tensor.result(out, new int[0], g -> a.gradBuffer()[at] += g[0], a);
    }

    /** The shape without its last dimension, or with it set to 1. */
    private static int[] reducedShape(int[] shape, boolean keepDim) {
        if (shape.length == 0) throw new IllegalArgumentException("cannot reduce the last dimension of a scalar");
        int[] s = keepDim ? shape.clone() : java.util.Arrays.copyOf(shape, shape.length - 1);
        if (keepDim) s[s.length - 1] = 1;
        return s;
    }

    static Tensor sumLast(Tensor a, boolean keepDim, boolean mean) {
        int[] shape = reducedShape(a.shape, keepDim);
        int c = a.shape[a.shape.length - 1];
        int rows = Shape.size(shape);
        float factor = mean ? 1f / c : 1f;
        float[] out = Arena.uninitialized(rows);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < c; j++) s += a.data[r * c + j];
            out[r] = (float) (s * factor);
        }
        return Tensor.result(out, shape, g -> {
            float[] ga = a.gradBuffer();
            for (int r = 0; r < rows; r++) {
                float d = g[r] * factor;
                for (int j = 0; j < c; j++) ga[r * c + j] += d;
            }
        }, a);
    }

    static Tensor maxLast(Tensor a, boolean keepDim) {
        int[] shape = reducedShape(a.shape, keepDim);
        int c = a.shape[a.shape.length - 1];
        if (c == 0) throw new IllegalArgumentException("max over an empty last dimension, shape " + Shape.str(a.shape));
        int rows = Shape.size(shape);
        int[] arg = new int[rows];
        float[] out = Arena.uninitialized(rows);
        for (int r = 0; r < rows; r++) {
            int best = r * c;
            for (int j = 1; j < c; j++) if (a.data[r * c + j] > a.data[best]) best = r * c + j;
            arg[r] = best;
            out[r] = a.data[best];
        }
        return Tensor.result(out, shape, g -> {
            float[] ga = a.gradBuffer();
            for (int r = 0; r < rows; r++) ga[arg[r]] += g[r];
        }, a);
    }

    static Tensor softmax(Tensor a) {
        int c = lastDim(a, "softmax");
        int rows = a.data.length / Math.max(1, c);
        float[] y = Arena.uninitialized(a.data.length);
        SoftmaxKernel.softmaxForward(y, a.data, rows, c);
        return Tensor.result(y, a.shape, g -> SoftmaxKernel.softmaxBackward(a.gradBuffer(), y, g, rows, c), a);
    }

    static Tensor logSoftmax(Tensor a) {
        int c = lastDim(a, "logSoftmax");
        int rows = a.data.length / Math.max(1, c);
        float[] y = Arena.uninitialized(a.data.length);
        SoftmaxKernel.logSoftmaxForward(y, a.data, rows, c);
        return Tensor.result(y, a.shape, g -> SoftmaxKernel.logSoftmaxBackward(a.gradBuffer(), y, g, rows, c), a);
    }

    private static int lastDim(Tensor a, String op) {
        if (a.shape.length == 0) throw new IllegalArgumentException(op + " needs at least one dimension");
        return a.shape[a.shape.length - 1];
    }
}
