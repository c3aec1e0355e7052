package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise ops with NumPy broadcasting and their hand-written backward passes. These are the
 * fine-grained building blocks the book writes attention and LayerNorm with; the model's hot
 * path uses the fused ops of {@link Ops} instead.
 */
final class Elementwise {
    private Elementwise() {
    }

    /** How a binary op combines two values, and its two partial derivatives. */
    private enum Binary {
        ADD, SUB, MUL, DIV;

        float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
            };
        }

        float dA(float a, float b) {
            return switch (this) {
                case ADD, SUB -> 1f;
                case MUL -> b;
                case DIV -> 1f / b;
            };
        }

        float dB(float a, float b) {
            return switch (this) {
                case ADD -> 1f;
                case SUB -> -1f;
                case MUL -> a;
                case DIV -> -a / (b * b);
            };
        }
    }

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Elements per parallel chunk of a streaming pass (whole vectors, so chunk tails do not depend on the thread count). */
    private static final int GRAIN = 1 << 14;

    static Tensor add(Tensor a, Tensor b) {
        if (Shape.same(a.shape, b.shape)) return addSame(a, b);
        return binary("add", Binary.ADD, a, b);
    }

    /**
     * {@code a + b} of one shape (the residual connections): one parallel vector pass each way,
     * with the generic path's values ({@code x + y}, and {@code g·1 = g} added to each gradient).
     */
    private static Tensor addSame(Tensor a, Tensor b) {
        int n = a.size();
        float[] x = a.data, y = b.data;
        float[] out = Arena.uninitialized(n);
        long t0 = StepProfile.begin();
        sum(Simd.ENABLED, out, x, y, n);
        StepProfile.end(t0, "add forward", 0);
        return Tensor.result(out, a.shape, g -> {
            long t1 = StepProfile.begin();
            if (a.requiresGrad()) accumulate(Simd.ENABLED, a.gradBuffer(), g, n);
            if (b.requiresGrad()) accumulate(Simd.ENABLED, b.gradBuffer(), g, n);
            StepProfile.end(t1, "add backward", 0);
        }, a, b);
    }

    /** {@code out[i] = x[i] + y[i]} for i &lt; n; {@code simd} false is the scalar twin. */
    static void sum(boolean simd, float[] out, float[] x, float[] y, int n) {
        Parallel.forRange((n + L - 1) / L, GRAIN / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            if (simd) {
                for (int ub = i + F.loopBound(e - i); i < ub; i += L) {
                    FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(out, i);
                }
            }
            for (; i < e; i++) out[i] = x[i] + y[i];
        });
    }

    /** {@code acc[i] += g[i]} for i &lt; n; {@code simd} false is the scalar twin. */
    static void accumulate(boolean simd, float[] acc, float[] g, int n) {
        Parallel.forRange((n + L - 1) / L, GRAIN / L, (ks, ke) -> {
            int i = ks * L, e = Math.min(n, ke * L);
            if (simd) {
                for (int ub = i + F.loopBound(e - i); i < ub; i += L) {
                    FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, g, i)).intoArray(acc, i);
                }
            }
            for (; i < e; i++) acc[i] += g[i];
        });
    }

    /** {@code y[r, j] += b[j]} over {@code (rows, cols)} (a bias added to every row); {@code simd} false is the scalar twin. */
    static void addToRows(boolean simd, float[] y, int yOff, float[] b, int rows, int cols) {
        long t0 = StepProfile.begin();
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, cols)), (r0, r1) -> {
            int ub = simd ? F.loopBound(cols) : 0;
            for (int r = r0; r < r1; r++) {
                int o = yOff + r * cols, j = 0;
                for (; j < ub; j += L) {
                    FloatVector.fromArray(F, y, o + j).add(FloatVector.fromArray(F, b, j)).intoArray(y, o + j);
                }
                for (; j < cols; j++) y[o + j] += b[j];
            }
        });
        StepProfile.end(t0, "bias add", 0);
    }

    /**
     * {@code acc[j] += Σ_r g[r, j]} over {@code (rows, cols)} at {@code gOff} (a bias gradient): split
     * over columns, each column adding its rows in order 0..rows-1 onto {@code acc[j]}, so the bits do
     * not depend on the thread count or on {@code simd} (false is the scalar twin).
     */
    static void sumRowsInto(boolean simd, float[] acc, float[] g, int gOff, int rows, int cols) {
        long t0 = StepProfile.begin();
        int block = 4 * L; // columns kept in four vector registers while the rows stream past
        int blocks = (cols + block - 1) / block;
        Parallel.forRange(blocks, Math.max(1, GRAIN / Math.max(1, rows * block)), (q0, q1) -> {
            int c0 = q0 * block, c1 = Math.min(cols, q1 * block), j = c0;
            if (simd) {
                for (; j + block <= c1; j += block) {
                    FloatVector s0 = FloatVector.fromArray(F, acc, j), s1 = FloatVector.fromArray(F, acc, j + L);
                    FloatVector s2 = FloatVector.fromArray(F, acc, j + 2 * L), s3 = FloatVector.fromArray(F, acc, j + 3 * L);
                    for (int r = 0, o = gOff + j; r < rows; r++, o += cols) {
                        s0 = s0.add(FloatVector.fromArray(F, g, o));
                        s1 = s1.add(FloatVector.fromArray(F, g, o + L));
                        s2 = s2.add(FloatVector.fromArray(F, g, o + 2 * L));
                        s3 = s3.add(FloatVector.fromArray(F, g, o + 3 * L));
                    }
                    s0.intoArray(acc, j);
                    s1.intoArray(acc, j + L);
                    s2.intoArray(acc, j + 2 * L);
                    s3.intoArray(acc, j + 3 * L);
                }
            }
            for (; j < c1; j++) {
                float s = acc[j];
                for (int r = 0, o = gOff + j; r < rows; r++, o += cols) s += g[o];
                acc[j] = s;
            }
        });
        StepProfile.end(t0, "bias gradient", 0);
    }

    static Tensor sub(Tensor a, Tensor b) {
        return binary("sub", Binary.SUB, a, b);
    }

    static Tensor mul(Tensor a, Tensor b) {
        return binary("mul", Binary.MUL, a, b);
    }

    static Tensor div(Tensor a, Tensor b) {
        return binary("div", Binary.DIV, a, b);
    }

    private static Tensor binary(String name, Binary op, Tensor a, Tensor b) {
        int[] shape = Shape.same(a.shape, b.shape) ? a.shape : Broadcast.shape(name, a.shape, b.shape);
        int n = Shape.size(shape);
        // Same shapes need no index maps; broadcast operands read through one.
        int[] mapA = Shape.same(shape, a.shape) ? null : Broadcast.indexMap(shape, a.shape);
        int[] mapB = Shape.same(shape, b.shape) ? null : Broadcast.indexMap(shape, b.shape);
        float[] x = a.data, y = b.data;
        float[] out = Arena.uninitialized(n);
        long t0 = StepProfile.begin();
        for (int i = 0; i < n; i++) {
            out[i] = op.apply(x[mapA == null ? i : mapA[i]], y[mapB == null ? i : mapB[i]]);
        }
        StepProfile.end(t0, name + " forward", 0);
        return Tensor.result(out, shape, g -> {
            long t1 = StepProfile.begin();
            // Broadcast dimensions sum their gradients back: several outputs read one input.
            if (a.requiresGrad()) {
                float[] ga = a.gradBuffer();
                for (int i = 0; i < n; i++) {
                    int ia = mapA == null ? i : mapA[i], ib = mapB == null ? i : mapB[i];
                    ga[ia] += g[i] * op.dA(x[ia], y[ib]);
                }
            }
            if (b.requiresGrad()) {
                float[] gb = b.gradBuffer();
                for (int i = 0; i < n; i++) {
                    int ia = mapA == null ? i : mapA[i], ib = mapB == null ? i : mapB[i];
                    gb[ib] += g[i] * op.dB(x[ia], y[ib]);
                }
            }
            StepProfile.end(t1, name + " backward", 0);
        }, a, b);
    }

    static Tensor addScalar(Tensor a, float c) {
        float[] x = a.data, out = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) out[i] = x[i] + c;
        return Tensor.result(out, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i];
        }, a);
    }

    static Tensor scale(Tensor a, float c) {
        float[] x = a.data, out = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) out[i] = x[i] * c;
        return Tensor.result(out, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * c;
        }, a);
    }

    static Tensor exp(Tensor a) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.exp(x[i]);
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * y[i]; // d exp(x) = exp(x)
        }, a);
    }

    static Tensor log(Tensor a) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.log(x[i]);
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] / x[i];
        }, a);
    }

    static Tensor tanh(Tensor a) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.tanh(x[i]);
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * (1f - y[i] * y[i]);
        }, a);
    }

    static Tensor sqrt(Tensor a) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.sqrt(x[i]);
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * 0.5f / y[i];
        }, a);
    }

    static Tensor pow(Tensor a, float p) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.pow(x[i], p);
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * p * (float) Math.pow(x[i], p - 1);
        }, a);
    }

    static Tensor sigmoid(Tensor a) {
        float[] x = a.data, y = Arena.uninitialized(x.length);
        for (int i = 0; i < x.length; i++) y[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
        return Tensor.result(y, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i] * y[i] * (1f - y[i]);
        }, a);
    }
}
