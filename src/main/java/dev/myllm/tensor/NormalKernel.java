package dev.myllm.tensor;

/**
 * The Box–Muller transform of PyTorch's 16-lane float32 {@code normal_} kernel, operation by
 * operation: its own float polynomials for log and sin/cos (Cephes-style, not the C library's),
 * with exactly the multiply-adds the compiled kernel fuses, so every value matches PyTorch's bits.
 * Scalar on purpose: it runs once per model, mostly before the JIT has compiled vector code well.
 */
final class NormalKernel {
    private static final float SQRTHF = f(0x3f3504f3);
    private static final float L0 = f(0x3d9021bb), L1 = f(0xbdebd1b8), L2 = f(0x3def251a), L3 = f(0xbdfe5d4f),
            L4 = f(0x3e11e9bf), L5 = f(0xbe2aae50), L6 = f(0x3e4cceac), L7 = f(0xbe7ffffc), L8 = f(0x3eaaaaaa);
    private static final float Q1 = f(0xb95e8083), Q2 = f(0x3f318000);
    private static final float DP1 = f(0xbf490000), DP2 = f(0xb97da000), DP3 = f(0xb3222169);
    private static final float S0 = f(0xb94ca1f9), S1 = f(0x3c08839e), S2 = f(0xbe2aaaa3);
    private static final float C0 = f(0x37ccf5ce), C1 = f(0xbab6061a), C2 = f(0x3d2aaaa5);
    private static final float FOPI = f(0x3fa2f983), TWO_PI = f(0x40c90fdb);

    private NormalKernel() {
    }

    private static float f(int bits) {
        return Float.intBitsToFloat(bits);
    }

    /** {@link #transform16} on {@code blocks} consecutive blocks of 16 starting at {@code off}. */
    static void transformBlocks(float[] d, int off, int blocks, float mean, float std) {
        for (int b = 0; b < blocks; b++) transform16(d, off + 16 * b, mean, std);
    }

    /** Turns the 16 uniforms at {@code d[off..off+15]} into normals, pairing lane j with lane j+8. */
    static void transform16(float[] d, int off, float mean, float std) {
        for (int j = off; j < off + 8; j++) {
            float u1 = 1.0f - d[j];
            float u2 = d[j + 8];
            float radius = (float) Math.sqrt(-2.0f * log(u1));
            float theta = TWO_PI * u2;
            // sincos, inlined so both results come from one range reduction
            int q = (int) (theta * FOPI);
            q = (q + 1) & ~1;
            float y = q;
            boolean swapSin = (q & 4) != 0;
            boolean sinPoly = (q & 2) == 0;
            boolean cosNeg = ((~(q - 2)) & 4) != 0;
            float r = Math.fma(y, DP1, theta);
            r = Math.fma(y, DP2, r);
            r = Math.fma(y, DP3, r);
            float z = r * r;
            float pc = Math.fma(C0, z, C1);
            pc = Math.fma(pc, z, C2);
            pc = pc * z;
            pc = Math.fma(pc, z, -(z * 0.5f));
            pc = pc + 1.0f;
            float ps = Math.fma(S0, z, S1);
            ps = Math.fma(ps, z, S2);
            ps = ps * z;
            ps = Math.fma(ps, r, r);
            float sin = sinPoly ? ps : pc, cos = sinPoly ? pc : ps;
            if (swapSin) sin = -sin;
            if (cosNeg) cos = -cos;
            d[j] = Math.fma(radius * cos, std, mean);
            d[j + 8] = Math.fma(radius * sin, std, mean);
        }
    }

    /** The kernel's float log for x in (0, 1]. */
    static float log(float x) {
        x = Math.max(x, Float.MIN_NORMAL);
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 127) + 1.0f;
        float m = Float.intBitsToFloat((bits & 0x807FFFFF) | 0x3F000000);
        if (m < SQRTHF) {
            e = e - 1.0f;
            m = (m - 1.0f) + m;
        } else {
            m = m - 1.0f;
        }
        float z = m * m;
        float y = Math.fma(L0, m, L1);
        y = Math.fma(y, m, L2);
        y = Math.fma(y, m, L3);
        y = Math.fma(y, m, L4);
        y = Math.fma(y, m, L5);
        y = Math.fma(y, m, L6);
        y = Math.fma(y, m, L7);
        y = Math.fma(y, m, L8);
        y = y * m;
        y = Math.fma(y, z, e * Q1);
        y = Math.fma(-z, 0.5f, y);
        return Math.fma(e, Q2, m + y);
    }
}
