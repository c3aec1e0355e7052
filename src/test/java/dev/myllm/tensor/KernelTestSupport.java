package dev.myllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.Supplier;

/** Shared helpers for the kernel tests: random data, tolerant and bitwise comparisons, thread counts. */
final class KernelTestSupport {
    static final int[] SIZES = {1, 3, 7, 17, 63, 129, 1000};

    private KernelTestSupport() {
    }

    static float[] randn(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * scale;
        return a;
    }

    static float[] uniform(Random r, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.nextFloat();
        return a;
    }

    /** |a - e| <= atol + rtol * |e| element by element, with the first offending index in the message. */
    static void assertClose(String what, double[] expected, float[] actual, double rtol, double atol) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
                fail(what + ": index " + i + " expected " + e + " got " + a + " (diff " + Math.abs(a - e) + ")");
            }
        }
    }

    static void assertClose(String what, float[] expected, float[] actual, double rtol, double atol) {
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        assertClose(what, e, actual, rtol, atol);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** Runs {@code body} with 1 and then 2 threads and asserts each returned array is bitwise equal. */
    static void assertThreadIndependent(Supplier<float[][]> body) {
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[][] one = body.get();
            Parallel.setThreads(2);
            float[][] two = body.get();
            for (int k = 0; k < one.length; k++) {
                if (one[k] == null) continue;
                assertArrayEquals(one[k], two[k], "output " + k + " differs between 1 and 2 threads");
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * Central finite difference of {@code loss} with respect to {@code x[i]} in float storage; the
     * loss itself is summed in double so only the perturbation step limits the precision.
     */
    static double numericGrad(float[] x, int i, float h, java.util.function.DoubleSupplier loss) {
        float saved = x[i];
        x[i] = saved + h;
        double up = loss.getAsDouble();
        x[i] = saved - h;
        double down = loss.getAsDouble();
        x[i] = saved;
        return (up - down) / ((double) (saved + h) - (double) (saved - h));
    }

    /** sum_i out[i] * w[i] in double: a scalar loss whose gradient wrt out is w. */
    static double dotLoss(float[] out, float[] w) {
        double s = 0;
        for (int i = 0; i < out.length; i++) s += (double) out[i] * w[i];
        return s;
    }

    /** Checks analytic vs numeric gradient on every element of x with a tolerance relative to the largest gradient. */
    static void gradCheck(String what, float[] x, float[] analytic, float h, double tol,
                          java.util.function.DoubleSupplier loss) {
        double maxAbs = 1e-6;
        for (float g : analytic) maxAbs = Math.max(maxAbs, Math.abs(g));
        for (int i = 0; i < x.length; i++) {
            double num = numericGrad(x, i, h, loss);
            if (Math.abs(num - analytic[i]) > tol * maxAbs) {
                fail(what + ": grad index " + i + " analytic " + analytic[i] + " numeric " + num + " (max |g| " + maxAbs + ")");
            }
        }
    }
}
