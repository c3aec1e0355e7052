package dev.myllm.io;

import java.nio.ByteBuffer;

/**
 * ggml's reference quantisers of the types {@code export --format gguf} writes beyond Q8_0 and Q4_0/Q4_1:
 * Q4_K, Q5_K and Q6_K ({@code quantize_row_q4_K_ref} ...: what {@code llama-quantize} runs without an
 * importance matrix) and Q5_0 and Q5_1 (llama.cpp's stand-ins for Q4_K and Q5_K in a matrix whose rows are
 * not whole super-blocks). Operation for operation in float32 as the C code is written, so the bytes are
 * the reference's.
 */
final class GgmlQuantize {
    private static final int QK_K = GgmlBlocks.QK_K;
    /** ggml's GROUP_MAX_EPS: a group whose largest magnitude is below it is all zero. */
    private static final float GROUP_MAX_EPS = 1e-15f;

    private GgmlQuantize() {
    }

    /** ggml's nearest_int: rounds to the nearest integer, ties to even, by adding 1.5·2^23 in float32. */
    static int nearestInt(float f) {
        int i = Float.floatToRawIntBits(f + 12582912f);
        return (i & 0x007FFFFF) - 0x00400000;
    }

    private static void putHalf(byte[] b, int at, short h) {
        b[at] = (byte) h;
        b[at + 1] = (byte) (h >> 8);
    }

    /** One Q5_0 block of 32 values from {@code x[o ..]}, 22 bytes (quantize_row_q5_0_ref). */
    static void q5_0(float[] x, int o, ByteBuffer dst) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        short dh = Float.floatToFloat16(d);
        byte[] b = new byte[22];
        putHalf(b, 0, dh);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // C's (int8_t) of a float truncates toward zero, as Java's (int)
            int xi0 = Math.min(31, (int) (x[o + j] * id + 16.5f));
            int xi1 = Math.min(31, (int) (x[o + 16 + j] * id + 16.5f));
            b[6 + j] = (byte) ((xi0 & 0xF) | (xi1 & 0xF) << 4);
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[2 + k] = (byte) (qh >>> (8 * k));
        dst.put(b);
    }

    /** One Q5_1 block of 32 values from {@code x[o ..]}, 24 bytes (quantize_row_q5_1_ref): Q5_K's stand-in. */
    static void q5_1(float[] x, int o, ByteBuffer dst) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        byte[] b = new byte[24];
        putHalf(b, 0, Float.floatToFloat16(d));
        putHalf(b, 2, Float.floatToFloat16(min));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // C's (uint8_t) of a float in [0, 32) truncates, as Java's (int)
            int xi0 = (int) ((x[o + j] - min) * id + 0.5f) & 0xFF;
            int xi1 = (int) ((x[o + 16 + j] - min) * id + 0.5f) & 0xFF;
            b[8 + j] = (byte) ((xi0 & 0xF) | (xi1 & 0xF) << 4);
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[4 + k] = (byte) (qh >>> (8 * k));
        dst.put(b);
    }

    /**
     * ggml's make_qkx2_quants: a scale and a min (returned as {@code -min} in {@code theMin[mi]}) for {@code n} values
     * at {@code x[xo ..]}, levels 0..nmax into {@code L[lo ..]}, searching {@code nstep + 1} scales around the range's.
     */
    private static float makeQkx2(int n, int nmax, float[] x, int xo, float[] w, int[] L, int lo, float[] theMin, int mi, int[] laux,
                                  float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo], max = x[xo];
        float sumW = w[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float xi = x[xo + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float wi = w[i];
            sumW += wi;
            sumX += wi * xi;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[mi] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += w[i] * diff;
        }
        if (nstep < 1) {
            theMin[mi] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                laux[i] = l;
                float wi = w[i];
                sumL += wi * l;
                sumL2 += wi * l * l;
                sumXl += wi * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += w[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, L, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[mi] = -min;
        return scale;
    }

    /** One Q4_K super-block of 256 values from {@code x[o ..]}, 144 bytes (quantize_row_q4_K_ref). */
    static void q4_K(float[] x, int o, ByteBuffer dst) {
        q45_K(x, o, dst, false);
    }

    /** One Q5_K super-block of 256 values from {@code x[o ..]}, 176 bytes (quantize_row_q5_K_ref). */
    static void q5_K(float[] x, int o, ByteBuffer dst) {
        q45_K(x, o, dst, true);
    }

    /**
     * Q4_K or ({@code five}) Q5_K: the same code in ggml but for the levels (0..15 or 0..31), make_qkx2_quants' search
     * (rmin −1, 21 steps or −0.5, 16 steps) and the packing ({f16 d; f16 dmin; u8 scales[12]; (Q5_K: u8 qh[32];) u8 qs[128]}).
     */
    private static void q45_K(float[] x, int o, ByteBuffer dst, boolean five) {
        int nmax = five ? 31 : 15;
        int[] L = new int[QK_K];
        int[] laux = new int[32];
        float[] weights = new float[32], mins = new float[8], scales = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32); // sqrtf: the double root rounds to the float one
            for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[o + 32 * j + l]);
            scales[j] = makeQkx2(32, nmax, x, o + 32 * j, weights, L, 32 * j, mins, j, laux, five ? -0.5f : -1f, 0.1f, five ? 15 : 20, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        byte[] b = new byte[five ? 176 : 144];
        int s = 4;
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF); // uint8_t, then MIN(63, ·)
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                b[s + j] = (byte) ls;
                b[s + j + 4] = (byte) lm;
            } else {
                b[s + j + 4] = (byte) ((ls & 0xF) | (lm & 0xF) << 4);
                b[s + j - 4] |= (byte) ((ls >> 4) << 6);
                b[s + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dh = Float.floatToFloat16(maxScale / 63f), mh = Float.floatToFloat16(maxMin / 63f);
        putHalf(b, 0, dh);
        putHalf(b, 2, mh);
        float d = Float.float16ToFloat(dh), dmin = Float.float16ToFloat(mh);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            if (j < 4) {
                sc = b[s + j] & 63;
                m = b[s + j + 4] & 63;
            } else {
                sc = (b[s + j + 4] & 0xF) | ((b[s + j - 4] & 0xFF) >>> 6) << 4;
                m = ((b[s + j + 4] & 0xFF) >>> 4) | ((b[s + j] & 0xFF) >>> 6) << 4;
            }
            float dd = d * sc;
            if (dd == 0) continue;
            float dm = dmin * m;
            for (int ii = 0; ii < 32; ii++) {
                int l = nearestInt((x[o + 32 * j + ii] + dm) / dd);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
        int qs = five ? 48 : 16; // Q5_K: the fifth bits first, qh[32] at 16, bits 2c and 2c+1 for the c-th 64 values
        for (int j = 0, q = qs, c = 0; j < QK_K; j += 64, q += 32, c++) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                if (five) b[16 + l] |= (byte) ((l1 >> 4) << 2 * c | (l2 >> 4) << 2 * c + 1);
                b[q + l] = (byte) ((l1 & 0xF) | (l2 & 0xF) << 4);
            }
        }
        dst.put(b);
    }

    /** ggml's make_qx_quants with rmse_type 1 and no weights (the squares weigh): a signed scale, levels 0..2·nmax−1. */
    private static float makeQx(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
            L[lo + i] = l + nmax;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /** One Q6_K super-block of 256 values from {@code x[o ..]}, 210 bytes (quantize_row_q6_K_ref). */
    static void q6_K(float[] x, int o, ByteBuffer dst) {
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQx(16, 32, x, o + 16 * ib, L, 16 * ib);
            scales[ib] = scale;
            float abs = Math.abs(scale);
            if (abs > maxAbsScale) {
                maxAbsScale = abs;
                maxScale = scale;
            }
        }
        byte[] b = new byte[210];
        if (maxAbsScale < GROUP_MAX_EPS) { // all zero: the block stays zeros, d = 0
            dst.put(b);
            return;
        }
        float iscale = -128f / maxScale;
        short dh = Float.floatToFloat16(1 / iscale);
        putHalf(b, 208, dh);
        float d = Float.float16ToFloat(dh);
        for (int ib = 0; ib < 16; ib++) b[192 + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        for (int j = 0; j < 16; j++) {
            float dd = d * b[192 + j];
            if (dd == 0) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearestInt(x[o + 16 * j + ii] / dd);
                L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
            }
        }
        for (int j = 0, ql = 0, qh = 128; j < QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                b[ql + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                b[ql + l + 32] = (byte) ((q2 & 0xF) | (q4 & 0xF) << 4);
                b[qh + l] = (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        dst.put(b);
    }
}
