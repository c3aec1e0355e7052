package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QuantizeTest {
    private static float bf16(float f) {
        return Float.intBitsToFloat(Quantize.bf16(f) << 16);
    }

    @Test
    void bfloat16RoundsToNearestEvenAndKeepsNaN() {
        float ulp = 0x1p-7f; // bfloat16's spacing in [1, 2)
        assertThat(bf16(1f + ulp / 2)).as("a tie goes to the even 1.0").isEqualTo(1f);
        assertThat(bf16(1f + 3 * ulp / 2)).as("a tie goes to the even 1 + 2 ulp").isEqualTo(1f + 2 * ulp);
        assertThat(bf16(1f + ulp / 2 + 0x1p-20f)).as("above the tie rounds up").isEqualTo(1f + ulp);
        assertThat(bf16(-3.0f)).isEqualTo(-3.0f);
        assertThat(bf16(Float.NaN)).isNaN();
        assertThat(bf16(Float.intBitsToFloat(0x7f800001))).as("a NaN whose payload is in the low bits stays NaN").isNaN();
        assertThat(bf16(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
    }

    @Test
    void q8_0RoundsHalfAwayFromZeroOnTheBlockScale() {
        float[] x = new float[40];
        x[8] = 127f;
        x[9] = 2.5f;   // 2.5 / 1 → 3 (half away from zero), not 2
        x[10] = -2.5f; // → -3
        x[11] = 0.49f;
        byte[] q = new byte[32];
        assertThat(Quantize.q8_0(x, 8, q)).isEqualTo(1f);
        assertThat(new byte[]{q[0], q[1], q[2], q[3], q[4]}).containsExactly(127, 3, -3, 0, 0);
        assertThat(Quantize.q8_0(new float[32], 0, q)).as("an all-zero block has scale 0 and codes 0").isZero();
        assertThat(q).containsOnly(0);
    }

    @Test
    void q4PacksValueJLowAndValueJPlus16High() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j - 16; // largest magnitude -16: d = 2
        byte[] q = new byte[32];
        assertThat(Quantize.q4_0(x, 0, q)).isEqualTo(2f);
        // q = min(15, (int) (x/2 + 8.5)): x = -16 → 0, x = 0 → 8, x = 15 → 15 (16 clamps)
        assertThat(q[0] & 0xF).isEqualTo(0);
        assertThat((q[0] >> 4) & 0xF).isEqualTo(8);
        assertThat((q[15] >> 4) & 0xF).isEqualTo(15);
        assertThat(Quantize.q4_1(x, 0, q)).isEqualTo(31f / 15);
        assertThat(Quantize.min(x, 0)).isEqualTo(-16f);
        assertThat(q[0] & 0xF).isZero();
        assertThat((q[15] >> 4) & 0xF).isEqualTo(15);
    }
}
