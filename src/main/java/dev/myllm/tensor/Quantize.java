package dev.myllm.tensor;

/**
 * Float weights into the reduced types, each exactly as its reference does it: bfloat16 as
 * PyTorch rounds, and ggml's reference quantisers ({@code quantize_row_q8_0_ref},
 * {@code _q4_0_ref}, {@code _q4_1_ref}) for one block of 32 values. The GGUF writer and the
 * in-memory packed matrices both encode through here, so a file and a matrix hold the same codes.
 */
public final class Quantize {
    /** Values per block of the block types. */
    public static final int BLOCK = 32;

    private Quantize() {
    }

    /** float32 to bfloat16, rounding to nearest even as PyTorch does; NaN stays a (quiet) NaN. */
    public static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * Q8_0: {@code d = amax / 127}, {@code q = round(x / d)} (half away from zero, as C's
     * {@code roundf}). Writes the 32 codes of {@code x[s ..]} to {@code q[0 .. 32)} and returns d.
     */
    public static float q8_0(float[] x, int s, byte[] q) {
        float amax = 0;
        for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(x[s + j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        for (int j = 0; j < BLOCK; j++) {
            float v = x[s + j] * id;
            q[j] = (byte) (v < 0 ? -Math.round(-v) : Math.round(v));
        }
        return d;
    }

    /**
     * Q4_0: {@code d = (the value of largest magnitude) / -8}, {@code q = min(15, (int) (x/d + 8.5))}.
     * Writes 16 bytes to {@code q} (value j in the low nibble of byte j, value j+16 in its high
     * nibble, as ggml packs them) and returns d.
     */
    public static float q4_0(float[] x, int s, byte[] q) {
        float amax = 0, max = 0;
        for (int j = 0; j < BLOCK; j++) {
            if (amax < Math.abs(x[s + j])) {
                amax = Math.abs(x[s + j]);
                max = x[s + j];
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1f / d : 0f;
        for (int j = 0; j < BLOCK / 2; j++) {
            int q0 = (int) (x[s + j] * id + 8.5f), q1 = (int) (x[s + j + 16] * id + 8.5f);
            q[j] = (byte) (Math.min(15, q0) | Math.min(15, q1) << 4);
        }
        return d;
    }

    /** The minimum of a block, Q4_1's offset {@code m}. */
    public static float min(float[] x, int s) {
        float mn = Float.MAX_VALUE;
        for (int j = 0; j < BLOCK; j++) mn = Math.min(mn, x[s + j]);
        return mn;
    }

    /**
     * Q4_1: {@code m = min}, {@code d = (max - min) / 15}, {@code q = min(15, (int) ((x - m)/d + 0.5))}.
     * Writes 16 bytes to {@code q} (packed as {@link #q4_0}) and returns d; {@link #min} gives m.
     */
    public static float q4_1(float[] x, int s, byte[] q) {
        float mn = Float.MAX_VALUE, mx = -Float.MAX_VALUE;
        for (int j = 0; j < BLOCK; j++) {
            mn = Math.min(mn, x[s + j]);
            mx = Math.max(mx, x[s + j]);
        }
        float d = (mx - mn) / 15;
        float id = d != 0 ? 1f / d : 0f;
        for (int j = 0; j < BLOCK / 2; j++) {
            int q0 = (int) ((x[s + j] - mn) * id + 0.5f), q1 = (int) ((x[s + j + 16] - mn) * id + 0.5f);
            q[j] = (byte) (Math.min(15, q0) | Math.min(15, q1) << 4);
        }
        return d;
    }
}
