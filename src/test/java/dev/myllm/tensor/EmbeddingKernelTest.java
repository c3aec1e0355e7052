package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class EmbeddingKernelTest {
    @Test
    void forwardGathersRows() {
        float[] table = {0, 1, 10, 11, 20, 21}, out = new float[6];
        EmbeddingKernel.forward(out, table, new int[]{2, 0, 2}, 3, 2);
        assertArrayEquals(new float[]{20, 21, 0, 1, 20, 21}, out);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> EmbeddingKernel.forward(out, table, new int[]{0, 3}, 2, 2));
        assertTrue(ex.getMessage().contains("token id 3 at position 1"), ex.getMessage());
    }

    @Test
    void backwardScatterAddsRepeatedIdsSimdEqualsScalar() {
        Random r = new Random(22);
        int vocab = 11;
        for (int C : SIZES) {
            int n = 40;
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = r.nextInt(5) * 2; // repeats, and odd rows never hit
            float[] dout = randn(r, n * C, 1f), init = randn(r, vocab * C, 1f);
            float[] a = init.clone(), b = init.clone();
            EmbeddingKernel.backwardSimd(a, dout, ids, n, C);
            EmbeddingKernel.backwardScalar(b, dout, ids, n, C);
            assertArrayEquals(b, a, "C=" + C);
            double[] expected = toDouble(init);
            for (int i = 0; i < n; i++) for (int c = 0; c < C; c++) expected[ids[i] * C + c] += dout[i * C + c];
            assertClose("C=" + C, expected, a, 1e-5, 1e-5);
            for (int c = 0; c < C; c++) assertEquals(init[C + c], a[C + c]); // untouched row
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random r = new Random(23);
        int vocab = 6, C = 5, n = 7;
        int[] ids = {1, 4, 1, 0, 5, 1, 4};
        float[] table = randn(r, vocab * C, 1f), g = randn(r, n * C, 1f), out = new float[n * C], d = new float[vocab * C];
        EmbeddingKernel.backward(d, g, ids, n, C);
        gradCheck("embedding", table, d, 1e-2f, 1e-4, () -> {
            EmbeddingKernel.forward(out, table, ids, n, C);
            return dotLoss(out, g);
        });
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(24);
        int vocab = 50, C = 129, n = 500;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        float[] table = randn(r, vocab * C, 1f), dout = randn(r, n * C, 1f);
        assertThreadIndependent(() -> {
            float[] out = new float[n * C], d = new float[vocab * C];
            EmbeddingKernel.forward(out, table, ids, n, C);
            EmbeddingKernel.backward(d, dout, ids, n, C);
            return new float[][]{out, d};
        });
    }
}
