package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** GELU with the tanh approximation, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), forward and backward. */
public final class GeluKernel {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    private static final double K = Math.sqrt(2.0 / Math.PI);
    private static final double C3 = 0.044715;
    private static final float KF = (float) K;
    private static final float C3F = (float) C3;
    private static final int GRAIN = 8192;

    private GeluKernel() {
    }

    /** out = gelu(x); out (n) written, x (n). */
    public static void forward(float[] out, float[] x, int n) {
        forward(out, 0, x, 0, n);
    }

    /** out[outOff ..] = gelu(x[xOff ..]) over n elements (out may be x). */
    public static void forward(float[] out, int outOff, float[] x, int xOff, int n) {
        long t0 = StepProfile.begin();
        if (Simd.ENABLED) forwardSimd(out, outOff, x, xOff, n);
        else forwardScalar(out, outOff, x, xOff, n);
        StepProfile.end(t0, "GELU forward", 0);
    }

    /** Scalar twin: the formula in double with {@code Math.tanh}, rounded once to float. */
    public static void forwardScalar(float[] out, float[] x, int n) {
        forwardScalar(out, 0, x, 0, n);
    }

    private static void forwardScalar(float[] out, int outOff, float[] x, int xOff, int n) {
        Parallel.forRange(n, GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) out[outOff + i] = (float) geluDouble(x[xOff + i]);
        });
    }

    /** The scalar twins' gelu(x), in double with {@code Math.tanh}. */
    private static double geluDouble(double x) {
        return 0.5 * x * (1.0 + Math.tanh(K * (x + C3 * x * x * x)));
    }

    /** The scalar twins' gelu'(x): 0.5(1 + t) + 0.5·x·(1 - t²)·K(1 + 3·0.044715·x²), t = tanh(u), in double. */
    private static double geluGradDouble(double x) {
        double t = Math.tanh(K * (x + C3 * x * x * x));
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K * (1.0 + 3.0 * C3 * x * x);
    }

    /**
     * SIMD twin: 0.5·(1 + tanh(u)) = sigmoid(2u) = 1/(1 + e^(-2u)), so gelu = x/(1 + e^(-2u)); this
     * form keeps full relative precision for large negative x, where 1 + tanh(u) would cancel.
     */
    public static void forwardSimd(float[] out, float[] x, int n) {
        forwardSimd(out, 0, x, 0, n);
    }

    private static void forwardSimd(float[] out, int outOff, float[] x, int xOff, int n) {
        // Split on whole vectors so the scalar tail is always the same last n % L elements,
        // whatever the thread count.
        Parallel.forRange((n + L - 1) / L, GRAIN / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            int ub = i + F.loopBound(e - i);
            for (; i < ub; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
                FloatVector u = xv.mul(xv).mul(xv).fma(FloatVector.broadcast(F, C3F), xv).mul(KF);
                FloatVector den = VecMath.exp(u.mul(-2f)).add(1f);
                xv.div(den).intoArray(out, outOff + i);
            }
            for (; i < e; i++) out[outOff + i] = geluFloat(x[xOff + i]);
        });
    }

    /**
     * {@link #forwardSimd}'s vector formula in place on columns {@code [n0, n1)} of {@code rows}
     * rows of a {@code (.., N)} block at {@code ci} (a product's columns, just stored), the last
     * vector of each row masked: every element gets the operations {@link #forwardSimd} gives the
     * elements of its whole vectors, so this equals it wherever that has no scalar tail (n a
     * multiple of the vector width).
     *
     * <p>It calls no method of ours that takes or returns a vector: {@link #forwardSimd}'s loop
     * body and {@link VecMath#exp} are written out here, the same operations in the same order
     * (GeluKernelTest checks the bits). C2 leaves such a call out of line, boxing its argument and
     * result, whenever the call site's profile has no count: it inlined this method into {@link
     * PanelKernels#store} (the decoding products' stores), and where the busy JIT had compiled it
     * first at C1's level 2, which keeps no profile, it took the call of {@code VecMath.exp} for a
     * cold call of an already compiled method ("already compiled into a medium method";
     * LogCompilation of DecodeAllocationTest's BF16 loop, 2 JVMs of 6: 32 KB a token and 2.5 MB a
     * 100-token prompt, against 9 KB and 19 KB). The Vector API's own methods are inlined whatever
     * the profile. (At 377 bytes of bytecode, over FreqInlineSize, this is now compiled on its own;
     * it takes arrays and ints.)
     */
    static void forwardBlock(float[] c, int ci, int N, int rows, int n0, int n1) {
        for (int r = 0, o = ci; r < rows; r++, o += N) {
            for (int j = n0; j < n1; j += L) {
                var m = F.indexInRange(j, n1);
                FloatVector xv = FloatVector.fromArray(F, c, o + j, m);
                FloatVector u = xv.mul(xv).mul(xv).fma(FloatVector.broadcast(F, C3F), xv).mul(KF);
                // VecMath.exp(u.mul(-2f)), written out
                FloatVector x = u.mul(-2f);
                var tooSmall = x.lt(VecMath.EXP_LO);
                FloatVector xc = x.max(VecMath.EXP_LO).min(VecMath.EXP_HI);
                FloatVector nf = xc.mul(VecMath.LOG2E).add(VecMath.ROUND_MAGIC).sub(VecMath.ROUND_MAGIC);
                FloatVector q = nf.mul(-VecMath.LN2_HI).add(xc);
                q = nf.fma(FloatVector.broadcast(F, -VecMath.LN2_LO), q);
                FloatVector p = FloatVector.broadcast(F, VecMath.EXP_P5);
                p = p.fma(q, FloatVector.broadcast(F, VecMath.EXP_P4));
                p = p.fma(q, FloatVector.broadcast(F, VecMath.EXP_P3));
                p = p.fma(q, FloatVector.broadcast(F, VecMath.EXP_P2));
                p = p.fma(q, FloatVector.broadcast(F, VecMath.EXP_P1));
                p = p.fma(q, FloatVector.broadcast(F, VecMath.EXP_P0));
                FloatVector y = p.mul(q.mul(q)).add(q).add(1f);
                FloatVector pow2n = ((IntVector) nf.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector den = y.mul(pow2n).blend(0f, tooSmall).add(1f);
                xv.div(den).intoArray(c, o + j, m);
            }
        }
    }

    /** The SIMD formula for one element (tails), in float with Math.exp. */
    private static float geluFloat(float x) {
        float u = KF * Math.fma(C3F, x * x * x, x);
        return x / (1f + (float) Math.exp(-2f * u));
    }

    /** dx += gelu'(x) · dout; dx, x, dout (n). */
    public static void backward(float[] dx, float[] x, float[] dout, int n) {
        long t0 = StepProfile.begin();
        if (Simd.ENABLED) backwardSimd(dx, x, dout, n);
        else backwardScalar(dx, x, dout, n);
        StepProfile.end(t0, "GELU backward", 0);
    }

    /** Scalar twin: 0.5(1 + t) + 0.5·x·(1 - t²)·K(1 + 3·0.044715·x²) in double. */
    public static void backwardScalar(float[] dx, float[] x, float[] dout, int n) {
        Parallel.forRange(n, GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) dx[i] += (float) (geluGradDouble(x[i]) * dout[i]);
        });
    }

    /** SIMD twin with s = sigmoid(2u): gelu' = s + 2·x·s·(1 - s)·K(1 + 3·0.044715·x²). */
    public static void backwardSimd(float[] dx, float[] x, float[] dout, int n) {
        backwardSimd(dx, x, dout, n, false);
    }

    /**
     * Both passes a recomputing backward needs, in one: {@code dx += gelu'(x)·g[i]}, then
     * {@code g[i] = gelu(x)}, so {@code g} holds the gradient with respect to gelu(x) on entry and
     * the activations on return. Bitwise {@link #backward} followed by {@link #forward} into
     * {@code g}, with one e^(−2u) per element instead of two and one pass over x instead of two.
     */
    public static void backwardRecompute(float[] dx, float[] x, float[] g, int n) {
        long t0 = StepProfile.begin();
        if (Simd.ENABLED) backwardRecomputeSimd(dx, x, g, n);
        else backwardRecomputeScalar(dx, x, g, n);
        StepProfile.end(t0, "GELU backward and recompute", 0);
    }

    /** Scalar twin of {@link #backwardRecompute}: {@link #backwardScalar}'s and {@link #forwardScalar}'s formulas per element. */
    public static void backwardRecomputeScalar(float[] dx, float[] x, float[] g, int n) {
        Parallel.forRange(n, GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) {
                dx[i] += (float) (geluGradDouble(x[i]) * g[i]);
                g[i] = (float) geluDouble(x[i]);
            }
        });
    }

    /** SIMD twin of {@link #backwardRecompute}: {@link #backwardSimd}'s and {@link #forwardSimd}'s expressions, sharing e^(−2u). */
    public static void backwardRecomputeSimd(float[] dx, float[] x, float[] g, int n) {
        backwardSimd(dx, x, g, n, true);
    }

    /**
     * {@code dx += gelu'(x)·g}, and with {@code recompute} also {@code g = gelu(x)} = x/(1 + e^(−2u))
     * from the same e^(−2u) (the loop-invariant flag is unswitched by the JIT).
     */
    private static void backwardSimd(float[] dx, float[] x, float[] g, int n, boolean recompute) {
        Parallel.forRange((n + L - 1) / L, GRAIN / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            int ub = i + F.loopBound(e - i);
            for (; i < ub; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, i);
                FloatVector x2 = xv.mul(xv);
                FloatVector u = x2.mul(xv).fma(FloatVector.broadcast(F, C3F), xv).mul(KF);
                FloatVector en = VecMath.exp(u.mul(-2f));
                FloatVector den = en.add(1f);
                FloatVector sg = FloatVector.broadcast(F, 1f).div(den);
                FloatVector du = x2.fma(FloatVector.broadcast(F, 3f * C3F), FloatVector.broadcast(F, 1f)).mul(KF);
                FloatVector oneMinus = en.mul(sg); // 1 - s without cancellation
                FloatVector d = xv.mul(2f).mul(sg).mul(oneMinus).fma(du, sg);
                d.fma(FloatVector.fromArray(F, g, i), FloatVector.fromArray(F, dx, i)).intoArray(dx, i);
                if (recompute) xv.div(den).intoArray(g, i);
            }
            for (; i < e; i++) {
                float xi = x[i];
                float u = KF * Math.fma(C3F, xi * xi * xi, xi);
                float en = (float) Math.exp(-2f * u);
                float sg = 1f / (1f + en);
                float du = KF * Math.fma(3f * C3F, xi * xi, 1f);
                float d = Math.fma(2f * xi * sg * (en * sg), du, sg);
                dx[i] = Math.fma(d, g[i], dx[i]);
                if (recompute) g[i] = xi / (1f + en);
            }
        });
    }
}
