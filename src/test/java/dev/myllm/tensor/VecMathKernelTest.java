package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VecMathKernelTest {
    @Test
    void vectorExpIsWithinTwoUlpOfMathExp() {
        int L = VecMath.L;
        float[] x = new float[L], y = new float[L];
        float maxUlps = 0;
        for (float start = -87f; start < 88f; start += 0.37f * L) {
            for (int l = 0; l < L; l++) x[l] = Math.min(88f, start + 0.37f * l);
            VecMath.exp(FloatVector.fromArray(VecMath.F, x, 0)).intoArray(y, 0);
            for (int l = 0; l < L; l++) {
                float e = (float) Math.exp(x[l]);
                maxUlps = Math.max(maxUlps, Math.abs(y[l] - e) / Math.ulp(e));
            }
        }
        assertTrue(maxUlps <= 2f, "max error " + maxUlps + " ulp");
        x[0] = -100f;
        x[1] = Float.NaN;
        x[Math.min(2, L - 1)] = 0f;
        VecMath.exp(FloatVector.fromArray(VecMath.F, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        if (L > 2) {
            assertTrue(Float.isNaN(y[1]));
            assertEquals(1f, y[2]);
        }
    }

    @Test
    void expShiftedInPlaceIsExpBitForBitWholeAndMaskedVectors() {
        int L = VecMath.L;
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(61);
        for (int n : new int[]{1, L - 1, L, L + 1, 3 * L + 5}) {
            float[] w = new float[n + L], want = new float[n + L];
            for (int j = 0; j < w.length; j++) w[j] = (float) (rnd.nextDouble() * 200 - 150);
            if (n > 3) { w[0] = Float.NaN; w[1] = Float.POSITIVE_INFINITY; w[2] = -0f; w[3] = Float.NEGATIVE_INFINITY; }
            System.arraycopy(w, 0, want, 0, w.length);
            float shift = 7.25f;
            for (int j = 0; j < n; j += L) {
                var m = VecMath.F.indexInRange(j, n);
                VecMath.exp(jdk.incubator.vector.FloatVector.fromArray(VecMath.F, want, j, m).sub(shift)).intoArray(want, j, m);
            }
            VecMath.expShiftedInPlace(w, shift, n);
            assertArrayEquals(want, w, "n=" + n); // and nothing past n written
        }
    }

    @Test
    void sumAndDotAreExactOnIntegers() {
        float[] a = new float[129], b = new float[129];
        for (int i = 0; i < 129; i++) {
            a[i] = i;
            b[i] = 2;
        }
        for (int n : SIZES) {
            if (n > 129) continue;
            float expected = n * (n - 1);
            assertEquals(expected, VecMath.dot(a, 0, b, 0, n));
            assertEquals(expected, VecMath.dotScalar(a, 0, b, 0, n));
        }
    }

    /**
     * The first calls run interpreted, later ones C2-compiled; the kernels must give the same bits
     * either way (this is why VecMath avoids reduceLanes(ADD) and lanewise(EXP)).
     */
    @Test
    void coldAndCompiledCallsGiveTheSameBits() {
        Random r = new Random(27);
        int N = 3, C = 77;
        float[] x = randn(r, N * C, 3f), first = new float[N * C], again = new float[N * C];
        float[] firstLse = new float[N], lse = new float[N];
        int[] t = {1, 5, 76};
        SoftmaxKernel.softmaxForwardSimd(first, x, N, C);
        CrossEntropyKernel.forwardSimd(x, t, N, C, -100, firstLse);
        for (int rep = 0; rep < 3000; rep++) {
            SoftmaxKernel.softmaxForwardSimd(again, x, N, C);
            CrossEntropyKernel.forwardSimd(x, t, N, C, -100, lse);
            if (rep % 500 == 0 || rep == 2999) {
                assertArrayEquals(first, again, "softmax changed at call " + rep);
                assertArrayEquals(firstLse, lse, "lse changed at call " + rep);
            }
        }
    }
}
