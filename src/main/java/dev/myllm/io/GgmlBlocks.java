package dev.myllm.io;

/**
 * Scalar dequantisers of the ggml block types that llama.cpp's {@code llama-quantize} writes besides
 * Q8_0 and Q4_0/Q4_1: Q5_0, Q5_1 and IQ4_NL (blocks of 32) and the K-quants Q2_K to Q6_K (super-blocks
 * of 256 with f16 scales and packed sub-block scales). Each reads one block of {@code b} at {@code p}
 * into {@code y[o ..]}, as ggml's {@code dequantize_row_*} does, operation for operation in float32
 * (no fused multiply-adds), so the values are exactly llama.cpp's. Load-time only: a model is converted
 * once, so these stay scalar.
 */
final class GgmlBlocks {
    /** Values per K-quant super-block (ggml's QK_K). */
    static final int QK_K = 256;
    /** IQ4_NL's sixteen levels (ggml's kvalues_iq4nl). */
    private static final byte[] IQ4_NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private GgmlBlocks() {
    }

    private static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    private static float f16(byte[] b, int i) {
        return Float.float16ToFloat((short) (u8(b, i) | u8(b, i + 1) << 8));
    }

    /** Q5_0: {f16 d; u32 qh; 16 bytes of low nibbles}, x = (q − 16)·d with the fifth bits in qh. */
    static void q5_0(byte[] b, int p, float[] y, int o) {
        float d = f16(b, p);
        int qh = u8(b, p + 2) | u8(b, p + 3) << 8 | u8(b, p + 4) << 16 | u8(b, p + 5) << 24;
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 6 + j);
            y[o + j] = (((q & 0xF) | ((qh >>> j) << 4 & 0x10)) - 16) * d;
            y[o + j + 16] = (((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d;
        }
    }

    /** Q5_1: {f16 d; f16 m; u32 qh; 16 bytes}, x = q·d + m. */
    static void q5_1(byte[] b, int p, float[] y, int o) {
        float d = f16(b, p), m = f16(b, p + 2);
        int qh = u8(b, p + 4) | u8(b, p + 5) << 8 | u8(b, p + 6) << 16 | u8(b, p + 7) << 24;
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 8 + j);
            y[o + j] = ((q & 0xF) | ((qh >>> j) << 4 & 0x10)) * d + m;
            y[o + j + 16] = ((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) * d + m;
        }
    }

    /** IQ4_NL: {f16 d; 16 bytes}, x = d·level[q] on a fixed non-uniform grid. */
    static void iq4_nl(byte[] b, int p, float[] y, int o) {
        float d = f16(b, p);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, p + 2 + j);
            y[o + j] = d * IQ4_NL_VALUES[q & 0xF];
            y[o + j + 16] = d * IQ4_NL_VALUES[q >>> 4];
        }
    }

    /**
     * Q2_K (84 bytes): {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}; sixteen sub-blocks of 16, each with a 4-bit
     * scale (low nibble) and min (high nibble), x = d·sc·q − dmin·m, q two bits.
     */
    static void q2_K(byte[] b, int p, float[] y, int o) {
        float d = f16(b, p + 80), min = f16(b, p + 82);
        int is = 0;
        for (int half = 0; half < 2; half++) {
            int q = p + 16 + 32 * half;
            for (int j = 0; j < 4; j++) {
                int shift = 2 * j;
                for (int part = 0; part < 2; part++) {
                    int sc = u8(b, p + is++);
                    float dl = d * (sc & 0xF), ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) y[o++] = dl * ((u8(b, q + 16 * part + l) >>> shift) & 3) - ml;
                }
            }
        }
    }

    /**
     * Q3_K (110 bytes): {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}; sixteen sub-blocks of 16 with 6-bit
     * scales (low four bits in bytes 0-7, two high bits in bytes 8-11) less 32, x = d·sc·(q − 4 if its high bit is clear).
     */
    static void q3_K(byte[] b, int p, float[] y, int o) {
        float dAll = f16(b, p + 108);
        int s = p + 96;
        int is = 0, m = 1;
        for (int half = 0; half < 2; half++) {
            int q = p + 32 + 32 * half;
            for (int j = 0; j < 4; j++) {
                int shift = 2 * j;
                for (int part = 0; part < 2; part++) {
                    int low = is < 8 ? u8(b, s + is) & 0xF : u8(b, s + is - 8) >>> 4;
                    int high = (u8(b, s + 8 + is % 4) >>> (2 * (is / 4))) & 3;
                    float dl = dAll * ((low | high << 4) - 32);
                    is++;
                    for (int l = 0; l < 16; l++) {
                        int lo = (u8(b, q + 16 * part + l) >>> shift) & 3;
                        y[o++] = dl * (lo - ((u8(b, p + 16 * part + l) & m) != 0 ? 0 : 4));
                    }
                }
                m <<= 1;
            }
        }
    }

    /** ggml's get_scale_min_k4: sub-block {@code j}'s 6-bit scale (low 8 bits of the result) and min (next 8). */
    private static int scaleMin(byte[] b, int s, int j) {
        int sc, mn;
        if (j < 4) {
            sc = u8(b, s + j) & 63;
            mn = u8(b, s + j + 4) & 63;
        } else {
            sc = (u8(b, s + j + 4) & 0xF) | (u8(b, s + j - 4) >>> 6) << 4;
            mn = (u8(b, s + j + 4) >>> 4) | (u8(b, s + j) >>> 6) << 4;
        }
        return sc | mn << 8;
    }

    /**
     * Q4_K (144 bytes) and Q5_K (176): {f16 d; f16 dmin; u8 scales[12]; (Q5_K: u8 qh[32];) u8 qs[128]}; eight
     * sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes, x = d·sc·q − dmin·m.
     */
    static void q45_K(byte[] b, int p, float[] y, int o, boolean five) {
        float d = f16(b, p), min = f16(b, p + 2);
        int qh = p + 16, ql = five ? p + 48 : p + 16;
        for (int c = 0; c < 4; c++) {
            for (int part = 0; part < 2; part++) {
                int sub = 2 * c + part;
                int sm = scaleMin(b, p + 4, sub);
                float d1 = d * (sm & 0xFF), m1 = min * (sm >>> 8);
                for (int l = 0; l < 32; l++) {
                    int q = u8(b, ql + 32 * c + l);
                    q = part == 0 ? q & 0xF : q >>> 4;
                    if (five && (u8(b, qh + l) & 1 << sub) != 0) q += 16;
                    y[o++] = d1 * q - m1;
                }
            }
        }
    }

    /**
     * Q6_K (210 bytes): {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}; sixteen sub-blocks of 16 with signed
     * 8-bit scales, x = d·sc·(q − 32), q six bits (low four in ql, high two in qh).
     */
    static void q6_K(byte[] b, int p, float[] y, int o) {
        float d = f16(b, p + 208);
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half, qh = p + 128 + 32 * half, sc = p + 192 + 8 * half, out = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = u8(b, qh + l);
                int q1 = ((u8(b, ql + l) & 0xF) | (h & 3) << 4) - 32;
                int q2 = ((u8(b, ql + l + 32) & 0xF) | (h >>> 2 & 3) << 4) - 32;
                int q3 = ((u8(b, ql + l) >>> 4) | (h >>> 4 & 3) << 4) - 32;
                int q4 = ((u8(b, ql + l + 32) >>> 4) | (h >>> 6 & 3) << 4) - 32;
                y[out + l] = d * b[sc + is] * q1;
                y[out + l + 32] = d * b[sc + is + 2] * q2;
                y[out + l + 64] = d * b[sc + is + 4] * q3;
                y[out + l + 96] = d * b[sc + is + 6] * q4;
            }
        }
    }
}
