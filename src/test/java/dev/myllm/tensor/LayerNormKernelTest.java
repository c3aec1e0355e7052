package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerNormKernelTest {
    private static final float EPS = 1e-5f;

    /** Naive double-precision layer norm: the independent reference. */
    private static double[] reference(float[] x, float[] w, float[] b, int N, int C) {
        double[] out = new double[N * C];
        for (int n = 0; n < N; n++) {
            double m = 0;
            for (int i = 0; i < C; i++) m += x[n * C + i];
            m /= C;
            double v = 0;
            for (int i = 0; i < C; i++) v += (x[n * C + i] - m) * (x[n * C + i] - m);
            v /= C;
            for (int i = 0; i < C; i++) out[n * C + i] = (x[n * C + i] - m) / Math.sqrt(v + EPS) * w[i] + b[i];
        }
        return out;
    }

    @Test
    void forwardMatchesDoubleReferenceAndScalarTwin() {
        Random r = new Random(1);
        int N = 5;
        for (int C : SIZES) {
            float[] x = randn(r, N * C, 2f), w = randn(r, C, 1f), b = randn(r, C, 1f);
            for (int i = 0; i < N * C; i++) x[i] += 3f; // an offset, so the mean matters
            float[] o1 = new float[N * C], m1 = new float[N], r1 = new float[N];
            float[] o2 = new float[N * C], m2 = new float[N], r2 = new float[N];
            LayerNormKernel.forwardSimd(o1, m1, r1, x, w, b, N, C, EPS);
            LayerNormKernel.forwardScalar(o2, m2, r2, x, w, b, N, C, EPS);
            double[] ref = reference(x, w, b, N, C);
            assertClose("simd C=" + C, ref, o1, 1e-5, 2e-5);
            assertClose("scalar C=" + C, ref, o2, 1e-5, 2e-5);
            assertClose("mean C=" + C, m2, m1, 1e-6, 1e-6);
            assertClose("rstd C=" + C, r2, r1, 1e-5, 0);
        }
    }

    @Test
    void constantRowGivesBias() {
        float[] x = {4, 4, 4}, w = {2, 2, 2}, b = {0.5f, -1f, 7f}, out = new float[3], rstd = new float[1];
        LayerNormKernel.forward(out, null, rstd, x, w, b, 1, 3, EPS);
        assertEquals(0.5f, out[0]);
        assertEquals(-1f, out[1]);
        assertEquals(7f, out[2]);
        assertEquals(1f / (float) Math.sqrt(EPS), rstd[0], 1e-2f);
    }

    @Test
    void backwardSimdMatchesScalarAndAccumulates() {
        Random r = new Random(2);
        int N = 4;
        for (int C : SIZES) {
            float[] x = randn(r, N * C, 1f), w = randn(r, C, 1f), b = randn(r, C, 1f), dout = randn(r, N * C, 1f);
            float[] out = new float[N * C], mean = new float[N], rstd = new float[N];
            LayerNormKernel.forwardScalar(out, mean, rstd, x, w, b, N, C, EPS);
            float[] init = randn(r, N * C, 1f), initW = randn(r, C, 1f), initB = randn(r, C, 1f);
            float[] dx1 = init.clone(), dw1 = initW.clone(), db1 = initB.clone();
            float[] dx2 = init.clone(), dw2 = initW.clone(), db2 = initB.clone();
            LayerNormKernel.backwardSimd(dx1, dw1, db1, dout, x, w, mean, rstd, N, C);
            LayerNormKernel.backwardScalar(dx2, dw2, db2, dout, x, w, mean, rstd, N, C);
            assertClose("dx C=" + C, dx2, dx1, 1e-4, 1e-4);
            assertClose("dw C=" + C, dw2, dw1, 1e-5, 1e-5);
            assertClose("db C=" + C, db2, db1, 0, 0);
            // accumulation: db = init + column sums of dout
            for (int i = 0; i < C; i++) {
                double s = initB[i];
                for (int n = 0; n < N; n++) s += dout[n * C + i];
                assertEquals(s, db1[i], 1e-4);
            }
            LayerNormKernel.backward(null, null, null, dout, x, w, mean, rstd, N, C); // all optional
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Random r = new Random(3);
        for (boolean simd : new boolean[]{true, false}) {
            for (int C : new int[]{7, 20}) {
                int N = 3;
                float[] x = randn(r, N * C, 1f), w = randn(r, C, 1f), b = randn(r, C, 1f), g = randn(r, N * C, 1f);
                float[] out = new float[N * C], mean = new float[N], rstd = new float[N];
                java.util.function.DoubleSupplier loss = () -> {
                    if (simd) LayerNormKernel.forwardSimd(out, mean, rstd, x, w, b, N, C, EPS);
                    else LayerNormKernel.forwardScalar(out, mean, rstd, x, w, b, N, C, EPS);
                    return dotLoss(out, g);
                };
                loss.getAsDouble();
                float[] dx = new float[N * C], dw = new float[C], db = new float[C];
                if (simd) LayerNormKernel.backwardSimd(dx, dw, db, g, x, w, mean, rstd, N, C);
                else LayerNormKernel.backwardScalar(dx, dw, db, g, x, w, mean, rstd, N, C);
                gradCheck("dx", x, dx, 1e-2f, 2e-3, loss);
                gradCheck("dw", w, dw, 1e-2f, 2e-3, loss);
                gradCheck("db", b, db, 1e-2f, 2e-3, loss);
            }
        }
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(4);
        int N = 64, C = 129;
        float[] x = randn(r, N * C, 1f), w = randn(r, C, 1f), b = randn(r, C, 1f), dout = randn(r, N * C, 1f);
        assertThreadIndependent(() -> {
            float[] out = new float[N * C], mean = new float[N], rstd = new float[N];
            LayerNormKernel.forward(out, mean, rstd, x, w, b, N, C, EPS);
            float[] dx = new float[N * C], dw = new float[C], db = new float[C];
            LayerNormKernel.backward(dx, dw, db, dout, x, w, mean, rstd, N, C);
            return new float[][]{out, mean, rstd, dx, dw, db};
        });
    }
}
