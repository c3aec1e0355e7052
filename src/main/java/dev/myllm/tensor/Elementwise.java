package dev.myllm.tensor;

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

    static Tensor add(Tensor a, Tensor b) {
        return binary("add", Binary.ADD, a, b);
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
        for (int i = 0; i < n; i++) {
            out[i] = op.apply(x[mapA == null ? i : mapA[i]], y[mapB == null ? i : mapB[i]]);
        }
        return Tensor.result(out, shape, g -> {
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
