package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Function;

/** Finite-difference gradient checks: analytic gradients of autograd against central differences. */
final class GradCheck {
    private GradCheck() {
    }

    /**
     * Checks d(Σ w·f(inputs))/d(input) for every input that requires a gradient, where w is a
     * fixed random weighting so every output element matters differently.
     */
    static void check(String name, Function<Tensor[], Tensor> f, Tensor... inputs) {
        check(name, 1e-3f, f, inputs);
    }

    static void check(String name, float eps, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Tensor probe = f.apply(inputs);
        Tensor weights = Tensor.uniform(new Rng(99), -1f, 1f, probe.shape());
        for (Tensor in : inputs) in.clearGrad();
        Tensor loss = f.apply(inputs).mul(weights).sum();
        loss.backward();
        for (int which = 0; which < inputs.length; which++) {
            Tensor in = inputs[which];
            if (!in.requiresGrad()) continue;
            assertThat(in.grad()).as("%s: input %d got no gradient", name, which).isNotNull();
            float[] analytic = in.grad().toArray();
            float[] x = in.data();
            for (int i = 0; i < x.length; i++) {
                float saved = x[i];
                x[i] = saved + eps;
                double plus = weighted(f, inputs, weights);
                x[i] = saved - eps;
                double minus = weighted(f, inputs, weights);
                x[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                assertThat((double) analytic[i])
                        .as("%s: d/d input %d [%d]: analytic %s vs numeric %s", name, which, i, analytic[i], numeric)
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(3e-3 + 2e-2 * Math.abs(numeric)));
            }
        }
    }

    private static double weighted(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor weights) {
        try (GradMode g = GradMode.noGrad()) {
            float[] y = f.apply(inputs).data();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += (double) y[i] * weights.data()[i];
            return s;
        }
    }

    /** A random leaf that requires a gradient. */
    static Tensor param(long seed, int... shape) {
        return Tensor.uniform(new Rng(seed), -1f, 1f, shape).requiresGrad(true);
    }
}
