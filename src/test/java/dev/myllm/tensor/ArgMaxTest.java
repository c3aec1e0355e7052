package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ArgMaxTest {
    /** The definition written out again here, independent of the class under test. */
    private static int reference(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    @Test
    void matchesThePlainLoopOnAwkwardSizesAndOffsets() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : new int[]{1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 1001, 50257}) {
            for (int off : new int[]{0, 1, 5}) {
                float[] x = new float[off + n + 3];
                for (int i = 0; i < x.length; i++) x[i] = r.nextInt(40) / 8f - 2; // many ties
                int want = reference(x, off, n);
                assertThat(ArgMax.of(x, off, n)).as("n=%d off=%d", n, off).isEqualTo(want);
                assertThat(ArgMax.scalar(x, off, n)).isEqualTo(want);
            }
        }
    }

    @Test
    void theFirstOfTiesWherevertheyFall() {
        float[] x = new float[100];
        x[70] = 5;
        x[93] = 5;  // in the tail past the last whole vector of 16 lanes
        x[99] = 5;
        assertThat(ArgMax.of(x, 0, 100)).isEqualTo(70);
        x[70] = 0;
        assertThat(ArgMax.of(x, 0, 100)).isEqualTo(93);
        x[3] = 5;
        assertThat(ArgMax.of(x, 0, 100)).isEqualTo(3);
    }

    @Test
    void signedZerosNaNAndInfinitiesAsThePlainLoop() {
        float[] zeros = new float[64];
        java.util.Arrays.fill(zeros, -1f);
        zeros[20] = -0f;
        zeros[40] = 0f;
        assertThat(ArgMax.of(zeros, 0, 64)).isEqualTo(20).isEqualTo(reference(zeros, 0, 64));

        float[] nanLater = new float[64];
        nanLater[10] = 2;
        nanLater[30] = Float.NaN;
        nanLater[50] = 3;
        assertThat(ArgMax.of(nanLater, 0, 64)).isEqualTo(50).isEqualTo(reference(nanLater, 0, 64));

        float[] nanFirst = nanLater.clone();
        nanFirst[0] = Float.NaN;
        assertThat(ArgMax.of(nanFirst, 0, 64)).isZero().isEqualTo(reference(nanFirst, 0, 64));

        // again once the JIT has compiled it (the vector max must keep NaN and zeros' signs as Math.max)
        for (int rep = 0; rep < 20_000; rep++) {
            if (ArgMax.of(nanLater, 0, 64) != 50 || ArgMax.of(zeros, 0, 64) != 20 || ArgMax.of(nanFirst, 0, 64) != 0) {
                throw new AssertionError("compiled argmax differs at repetition " + rep);
            }
        }

        float[] minusInf = new float[64];
        java.util.Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
        assertThat(ArgMax.of(minusInf, 0, 64)).isZero();
        minusInf[63] = Float.POSITIVE_INFINITY;
        assertThat(ArgMax.of(minusInf, 0, 64)).isEqualTo(63);
    }
}
