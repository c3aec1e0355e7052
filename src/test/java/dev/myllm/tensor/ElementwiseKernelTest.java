package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The vector passes behind same-shape adds and bias rows: SIMD equals its scalar twin bit for bit, for any thread count. */
class ElementwiseKernelTest {
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    @Test
    void sumAndAccumulateMatchTheirScalarTwins() {
        Random r = new Random(3);
        for (int n : new int[]{1, 15, 17, 1000, 40_003}) {
            float[] x = KernelTestSupport.randn(r, n, 1f), y = KernelTestSupport.randn(r, n, 3f), acc = KernelTestSupport.randn(r, n, 1f);
            float[] want = new float[n], wantAcc = acc.clone();
            for (int i = 0; i < n; i++) {
                want[i] = x[i] + y[i];
                wantAcc[i] += y[i];
            }
            for (boolean simd : new boolean[]{true, false}) {
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] out = new float[n], a = acc.clone();
                    Elementwise.sum(simd, out, x, y, n);
                    Elementwise.accumulate(simd, a, y, n);
                    assertThat(out).as("sum n=%d simd=%s threads=%d", n, simd, t).isEqualTo(want);
                    assertThat(a).as("accumulate n=%d simd=%s threads=%d", n, simd, t).isEqualTo(wantAcc);
                }
            }
        }
    }

    @Test
    void biasRowsAndTheirGradientMatchTheScalarLoops() {
        Random r = new Random(4);
        for (int[] s : new int[][]{{1, 1}, {3, 17}, {7, 64}, {256, 768}, {33, 2304 + 5}, {5, 130}}) {
            int rows = s[0], cols = s[1], off = 2;
            float[] y = KernelTestSupport.randn(r, off + rows * cols, 1f), b = KernelTestSupport.randn(r, cols, 1f);
            float[] acc = KernelTestSupport.randn(r, cols, 1f);
            float[] wantY = y.clone(), wantAcc = acc.clone();
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) wantY[off + i * cols + j] += b[j];
            for (int j = 0; j < cols; j++) for (int i = 0; i < rows; i++) wantAcc[j] += y[off + i * cols + j]; // rows in order
            for (boolean simd : new boolean[]{true, false}) {
                for (int t : new int[]{1, 2, 3}) {
                    Parallel.setThreads(t);
                    float[] yy = y.clone(), a = acc.clone();
                    Elementwise.sumRowsInto(simd, a, y, off, rows, cols);
                    Elementwise.addToRows(simd, yy, off, b, rows, cols);
                    assertThat(yy).as("addToRows %dx%d simd=%s threads=%d", rows, cols, simd, t).isEqualTo(wantY);
                    assertThat(a).as("sumRowsInto %dx%d simd=%s threads=%d", rows, cols, simd, t).isEqualTo(wantAcc);
                }
            }
        }
    }

    @Test
    void sameShapeAddPassesTheGradientToBothInputs() {
        Tensor a = Tensor.of(new float[]{1, 2, 3}, 3).requiresGrad(true), b = Tensor.of(new float[]{10, 20, 30}, 3).requiresGrad(true);
        Tensor y = a.add(b);
        assertThat(y.data()).containsExactly(11f, 22f, 33f);
        y.mul(Tensor.of(new float[]{1, -2, 0.5f}, 3)).sum().backward();
        assertThat(a.grad().data()).containsExactly(1f, -2f, 0.5f);
        assertThat(b.grad().data()).containsExactly(1f, -2f, 0.5f);
    }
}
