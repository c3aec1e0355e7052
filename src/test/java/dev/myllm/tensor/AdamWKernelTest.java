package dev.myllm.tensor;

import static dev.myllm.tensor.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AdamWKernelTest {
    private static final double LR = 1e-3, B1 = 0.9, B2 = 0.999, EPS = 1e-8, WD = 0.1;

    @Test
    void firstStepMovesEachParameterByAboutLrTimesSign() {
        float[] p = {1f, -2f, 0.5f}, g = {0.3f, -4f, 1e-3f}, m = new float[3], v = new float[3];
        AdamWKernel.step(p, g, m, v, 3, LR, B1, B2, EPS, WD, 1);
        // m̂ = g and v̂ = g² after one step, so the update is lr·g/(|g| + eps) after decay.
        double[] expected = {1 * (1 - LR * WD) - LR * 0.3 / (0.3 + EPS), -2 * (1 - LR * WD) + LR * 4 / (4 + EPS),
                0.5 * (1 - LR * WD) - LR * 1e-3 / (1e-3 + EPS)};
        assertClose("params", expected, p, 1e-6, 1e-7);
        assertClose("m", new double[]{0.03, -0.4, 1e-4}, m, 1e-6, 0);
        assertClose("v", new double[]{0.09e-3, 16e-3, 1e-9}, v, 1e-5, 0);
    }

    @Test
    void manyStepsTrackDoubleReferenceAndSimdEqualsScalar() {
        Random r = new Random(25);
        for (int n : SIZES) {
            float[] p = randn(r, n, 1f), m = new float[n], v = new float[n];
            float[] p2 = p.clone(), m2 = new float[n], v2 = new float[n];
            double[] pd = toDouble(p), md = new double[n], vd = new double[n];
            for (int t = 1; t <= 20; t++) {
                float[] g = randn(r, n, 0.1f);
                double bc1 = 1 - Math.pow(B1, t), bc2 = 1 - Math.pow(B2, t);
                AdamWKernel.stepSimd(p, g, m, v, n, LR, B1, B2, EPS, WD, bc1, bc2);
                AdamWKernel.stepScalar(p2, g, m2, v2, n, LR, B1, B2, EPS, WD, bc1, bc2);
                for (int i = 0; i < n; i++) {
                    pd[i] *= 1 - LR * WD;
                    md[i] = B1 * md[i] + (1 - B1) * g[i];
                    vd[i] = B2 * vd[i] + (1 - B2) * g[i] * g[i];
                    pd[i] -= LR * (md[i] / bc1) / (Math.sqrt(vd[i] / bc2) + EPS);
                }
            }
            assertArrayEquals(p2, p, "simd vs scalar params n=" + n);
            assertArrayEquals(m2, m);
            assertArrayEquals(v2, v);
            assertClose("params n=" + n, pd, p, 1e-6, 1e-6);
            assertClose("m n=" + n, md, m, 1e-5, 1e-8);
            assertClose("v n=" + n, vd, v, 1e-5, 1e-10);
        }
    }

    @Test
    void stepAndClearUpdatesBitwiseAsStepAndZeroesTheGradient() {
        Random r = new Random(26);
        for (int n : SIZES) {
            for (boolean simd : new boolean[]{true, false}) {
                float[] p = randn(r, n, 1f), m = randn(r, n, 0.1f), v = randn(r, n, 0.01f), g = randn(r, n, 0.1f);
                for (int i = 0; i < n; i++) v[i] = Math.abs(v[i]);
                float[] p2 = p.clone(), m2 = m.clone(), v2 = v.clone(), g2 = g.clone();
                if (simd) AdamWKernel.stepSimd(p, g, m, v, n, LR, B1, B2, EPS, WD, 0.3, 0.02);
                else AdamWKernel.stepScalar(p, g, m, v, n, LR, B1, B2, EPS, WD, 0.3, 0.02);
                AdamWKernel.stepAndClear(simd, p2, g2, m2, v2, n, LR, B1, B2, EPS, WD, 0.3, 0.02);
                assertArrayEquals(p, p2, "params n=" + n + " simd=" + simd);
                assertArrayEquals(m, m2);
                assertArrayEquals(v, v2);
                assertArrayEquals(new float[n], g2, "gradient cleared n=" + n);
            }
        }
    }

    @Test
    void zeroWeightDecayAndSmallBeta1Branch() {
        float[] p = {1f}, g = {2f}, m = {0.5f}, v = {0f};
        // beta1 = 0.3 takes ATen's other lerp branch: m = g + (w − 1)(g − m) = 2 − 0.3·1.5
        AdamWKernel.step(p, g, m, v, 1, 0.1, 0.3, 0.999, 1e-8, 0.0, 1);
        assertEquals(1.55f, m[0], 1e-6f);
    }

    @Test
    void bitwiseSameForOneAndTwoThreads() {
        Random r = new Random(26);
        int n = 100_001;
        float[] p0 = randn(r, n, 1f), g = randn(r, n, 1f);
        assertThreadIndependent(() -> {
            float[] p = p0.clone(), m = new float[n], v = new float[n];
            for (int t = 1; t <= 3; t++) AdamWKernel.step(p, g, m, v, n, LR, B1, B2, EPS, WD, t);
            return new float[][]{p, m, v};
        });
    }
}
