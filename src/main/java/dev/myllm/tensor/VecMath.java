package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small vector helpers shared by the kernels, built only from IEEE-exact lanewise operations so
 * they give the same bits interpreted, C1- or C2-compiled, on any thread.
 *
 * <p>Why not {@code reduceLanes(ADD)} and {@code lanewise(EXP)}: the JDK leaves the order of a
 * float add-reduction unspecified (C2 may use a tree, the Java fallback a left fold) and EXP may
 * be an SVML stub or {@code Math.exp}, so a row computed before and after JIT compilation could
 * differ in the last bit, which would break "bitwise equal for any thread count".
 */
final class VecMath {
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();

    private VecMath() {
    }

    // Rotations by L/2, L/4, L/8, L/16 lanes for the pairwise sum. Static final so C2 folds them
    // (a shuffle built inside the loop costs ~20x more).
    private static final VectorShuffle<Float> ROT1 = VectorShuffle.iota(F, Math.max(1, L / 2), 1, true);
    private static final VectorShuffle<Float> ROT2 = VectorShuffle.iota(F, Math.max(1, L / 4), 1, true);
    private static final VectorShuffle<Float> ROT3 = VectorShuffle.iota(F, Math.max(1, L / 8), 1, true);
    private static final VectorShuffle<Float> ROT4 = VectorShuffle.iota(F, Math.max(1, L / 16), 1, true);

    /** Sum of all lanes in a fixed pairwise order (lane i + lane i+L/2, then L/4, ...). */
    static float sum(FloatVector v) {
        if (L > 16) return v.reduceLanes(VectorOperators.ADD); // wider than any x86 species
        v = v.add(v.rearrange(ROT1));
        if (L >= 4) v = v.add(v.rearrange(ROT2));
        if (L >= 8) v = v.add(v.rearrange(ROT3));
        if (L >= 16) v = v.add(v.rearrange(ROT4));
        return v.lane(0);
    }

    /** Dot product of {@code a[ao..ao+n)} and {@code b[bo..bo+n)}, vector part then scalar tail. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int ub = F.loopBound(n);
        for (; i < ub; i += L) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** Scalar twin of {@link #dot}: a left fold. */
    static float dotScalar(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo..yo+n) += alpha * x[xo..xo+n)}. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, alpha);
        int i = 0;
        int ub = F.loopBound(n);
        for (; i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
    }

    /** Scalar twin of {@link #axpy}; uses fma too, so the two are bitwise equal. */
    static void axpyScalar(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
    }

    /** Largest element of {@code a[o..o+n)} (max is order-independent, so reduceLanes is safe). */
    static float max(float[] a, int o, int n) {
        float m = Float.NEGATIVE_INFINITY;
        int i = 0;
        int ub = F.loopBound(n);
        if (ub > 0) {
            FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < ub; i += L) mv = mv.max(FloatVector.fromArray(F, a, o + i));
            m = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, a[o + i]);
        return m;
    }

    // exp's constants, package-private for GeluKernel.forwardBlock, which writes exp out (see there)
    static final float EXP_HI = 88.0f;
    static final float EXP_LO = -87.0f;
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    /** exp's polynomial P in Horner's order (P5 first): e^r ≈ 1 + r + r²·P(r). */
    static final float EXP_P5 = 1.9875691500e-4f, EXP_P4 = 1.3981999507e-3f, EXP_P3 = 8.3334519073e-3f,
            EXP_P2 = 4.1665795894e-2f, EXP_P1 = 1.6666665459e-1f, EXP_P0 = 5.0000001201e-1f;

    /**
     * e^x per lane, Cephes {@code expf} (about 1 ulp): x = n·ln2 + r, |r| ≤ ln2/2, a degree-6
     * polynomial for e^r, and 2^n built in the exponent bits. Inputs below -87 give 0 (the true
     * value is below 1.7e-38), above 88 are clamped to e^88; NaN stays NaN. GeluKernel.forwardBlock
     * has these operations written out (why: see there; GeluKernelTest compares the bits).
     */
    static FloatVector exp(FloatVector x) {
        var tooSmall = x.lt(EXP_LO);
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = xc.mul(LOG2E).add(ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.mul(-LN2_HI).add(xc); // n*LN2_HI is exact (LN2_HI has 9 bits), so no fma needed
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, EXP_P5);
        p = p.fma(r, FloatVector.broadcast(F, EXP_P4));
        p = p.fma(r, FloatVector.broadcast(F, EXP_P3));
        p = p.fma(r, FloatVector.broadcast(F, EXP_P2));
        p = p.fma(r, FloatVector.broadcast(F, EXP_P1));
        p = p.fma(r, FloatVector.broadcast(F, EXP_P0));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        IntVector e = (IntVector) n.convert(VectorOperators.F2I, 0);
        FloatVector pow2n = e.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(pow2n).blend(0f, tooSmall);
    }

    /**
     * {@code w[j] = e^(w[j] - shift)} for {@code j < n}, every vector (the last one masked) through {@link #exp}'s
     * operations written out here: its callers hand it arrays, never a vector, so no vector is boxed at a call
     * that the JIT leaves out of line (attention's softmax: see GeluKernel.forwardBlock for how that happens; in
     * the decode path a step of a small model then allocated 42 KB instead of ~30). VecMathKernelTest compares the bits with {@link #exp}.
     */
    static void expShiftedInPlace(float[] w, float shift, int n) {
        FloatVector sh = FloatVector.broadcast(F, shift);
        for (int j = 0; j < n; j += L) {
            var mask = F.indexInRange(j, n);
            FloatVector x = FloatVector.fromArray(F, w, j, mask).sub(sh);
            var tooSmall = x.lt(EXP_LO);
            FloatVector xc = x.max(EXP_LO).min(EXP_HI);
            FloatVector nf = xc.mul(LOG2E).add(ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = nf.mul(-LN2_HI).add(xc);
            r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(F, EXP_P5);
            p = p.fma(r, FloatVector.broadcast(F, EXP_P4));
            p = p.fma(r, FloatVector.broadcast(F, EXP_P3));
            p = p.fma(r, FloatVector.broadcast(F, EXP_P2));
            p = p.fma(r, FloatVector.broadcast(F, EXP_P1));
            p = p.fma(r, FloatVector.broadcast(F, EXP_P0));
            FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
            FloatVector pow2n = ((IntVector) nf.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            y.mul(pow2n).blend(0f, tooSmall).intoArray(w, j, mask);
        }
    }

    /** out[oo+i] = e^(x[xo+i] - shift) for i < n; returns their float sum (vector lanes, then tail). */
    static float expStore(float[] x, int xo, float shift, float[] out, int oo, int n) {
        FloatVector sh = FloatVector.broadcast(F, shift);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int ub = F.loopBound(n);
        for (; i < ub; i += L) {
            FloatVector ev = exp(FloatVector.fromArray(F, x, xo + i).sub(sh));
            ev.intoArray(out, oo + i);
            acc = acc.add(ev);
        }
        float s = sum(acc);
        if (i < n) {
            // The tail goes through the same vector exp (masked), so every element of a row gets
            // identical arithmetic wherever it sits.
            var m = F.indexInRange(i, n);
            FloatVector ev = exp(FloatVector.fromArray(F, x, xo + i, m).sub(sh));
            ev.intoArray(out, oo + i, m);
            s += sum(ev.blend(0f, m.not()));
        }
        return s;
    }

    /**
     * Sum of e^(x[xo+i] - shift) for i < n, accumulated in float lanes over blocks of 64 vectors
     * and then in double, so a 50k-long vocabulary row keeps about double-level accuracy.
     */
    static double expSum(float[] x, int xo, float shift, int n) {
        FloatVector sh = FloatVector.broadcast(F, shift);
        double total = 0;
        int i = 0;
        int ub = F.loopBound(n);
        while (i < ub) {
            int blockEnd = Math.min(ub, i + 64 * L);
            FloatVector acc = FloatVector.zero(F);
            for (; i < blockEnd; i += L) acc = acc.add(exp(FloatVector.fromArray(F, x, xo + i).sub(sh)));
            total += sum(acc);
        }
        if (i < n) {
            var m = F.indexInRange(i, n);
            FloatVector ev = exp(FloatVector.fromArray(F, x, xo + i, m).sub(sh));
            total += sum(ev.blend(0f, m.not()));
        }
        return total;
    }
}
