package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxKernelTest {
    private static double[] referenceLogSoftmax(float[] x, int N, int C) {
        double[] out = new double[N * C];
        for (int n = 0; n < N; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < C; i++) max = Math.max(max, x[n * C + i]);
            double s = 0;
            for (int i = 0; i < C; i++) s += Math.exp(x[n * C + i] - max);
            for (int i = 0; i < C; i++) out[n * C + i] = x[n * C + i] - max - Math.log(s);
        }
        return out;
    }

    @Test
    void forwardMatchesReferenceAndTwins() {
        Random r = new Random(8);
        int N = 3;
        for (int C : SIZES) {
            float[] x = randn(r, N * C, 4f);
            x[0] += 1000f; // huge logits must not overflow (max subtraction)
            double[] logRef = referenceLogSoftmax(x, N, C);
            double[] ref = new double[N * C];
            for (int i = 0; i < ref.length; i++) ref[i] = Math.exp(logRef[i]);
            float[] a = new float[N * C], b = new float[N * C], la = new float[N * C], lb = new float[N * C];
            SoftmaxKernel.softmaxForwardSimd(a, x, N, C);
            SoftmaxKernel.softmaxForwardScalar(b, x, N, C);
            SoftmaxKernel.logSoftmaxForwardSimd(la, x, N, C);
            SoftmaxKernel.logSoftmaxForwardScalar(lb, x, N, C);
            assertClose("softmax simd C=" + C, ref, a, 1e-5, 1e-9);
            assertClose("softmax scalar C=" + C, ref, b, 1e-5, 1e-9);
            assertClose("logsoftmax simd C=" + C, logRef, la, 1e-6, 1e-5);
            assertClose("logsoftmax scalar C=" + C, logRef, lb, 1e-6, 1e-5);
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int i = 0; i < C; i++) s += a[n * C + i];
                assertEquals(1.0, s, 1e-5);
            }
        }
    }

    @Test
    void backwardSimdMatchesScalar() {
        Random r = new Random(9);
        int N = 3;
        for (int C : SIZES) {
            float[] x = randn(r, N * C, 2f), dout = randn(r, N * C, 1f), init = randn(r, N * C, 1f);
            float[] y = new float[N * C], ly = new float[N * C];
            SoftmaxKernel.softmaxForwardScalar(y, x, N, C);
            SoftmaxKernel.logSoftmaxForwardScalar(ly, x, N, C);
            float[] a = init.clone(), b = init.clone();
            SoftmaxKernel.softmaxBackwardSimd(a, y, dout, N, C);
            SoftmaxKernel.softmaxBackwardScalar(b, y, dout, N, C);
            assertClose("softmax backward C=" + C, b, a, 1e-5, 1e-6);
            a = init.clone();
            b = init.clone();
            SoftmaxKernel.logSoftmaxBackwardSimd(a, ly, dout, N, C);
            SoftmaxKernel.logSoftmaxBackwardScalar(b, ly, dout, N, C);
            assertClose("logsoftmax backward C=" + C, b, a, 1e-5, 1e-5);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Random r = new Random(10);
        int N = 2;
        for (int C : new int[]{5, 19}) {
            for (boolean simd : new boolean[]{true, false}) {
                float[] x = randn(r, N * C, 1f), g = randn(r, N * C, 1f), out = new float[N * C];
                java.util.function.DoubleSupplier sm = () -> {
                    if (simd) SoftmaxKernel.softmaxForwardSimd(out, x, N, C);
                    else SoftmaxKernel.softmaxForwardScalar(out, x, N, C);
                    return dotLoss(out, g);
                };
                sm.getAsDouble();
                float[] dx = new float[N * C];
                SoftmaxKernel.softmaxBackward(dx, out.clone(), g, N, C);
                gradCheck("softmax", x, dx, 1e-2f, 2e-3, sm);
                java.util.function.DoubleSupplier lsm = () -> {
                    if (simd) SoftmaxKernel.logSoftmaxForwardSimd(out, x, N, C);
                    else SoftmaxKernel.logSoftmaxForwardScalar(out, x, N, C);
                    return dotLoss(out, g);
                };
                lsm.getAsDouble();
                dx = new float[N * C];
                SoftmaxKernel.logSoftmaxBackward(dx, out.clone(), g, N, C);
                gradCheck("logsoftmax", x, dx, 1e-2f, 2e-3, lsm);
            }
        }
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(11);
        int N = 40, C = 1000;
        float[] x = randn(r, N * C, 3f), dout = randn(r, N * C, 1f);
        assertThreadIndependent(() -> {
            float[] y = new float[N * C], ly = new float[N * C], dx = new float[N * C], dlx = new float[N * C];
            SoftmaxKernel.softmaxForward(y, x, N, C);
            SoftmaxKernel.logSoftmaxForward(ly, x, N, C);
            SoftmaxKernel.softmaxBackward(dx, y, dout, N, C);
            SoftmaxKernel.logSoftmaxBackward(dlx, ly, dout, N, C);
            return new float[][]{y, ly, dx, dlx};
        });
    }
}
