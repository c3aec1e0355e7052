package dev.myllm.train;

import dev.myllm.tensor.AdamWKernel;
import dev.myllm.tensor.Simd;
import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * AdamW with PyTorch's semantics over named parameters: decoupled weight decay
 * ({@code p -= lr·wd·p}), bias correction with the step count starting at 1, and eps added to
 * the square root of the bias-corrected second moment. The per-element update is
 * {@link AdamWKernel} (SIMD, with ATen's operation order).
 */
public final class AdamW {
    /** Which parameters get weight decay. */
    public enum Decay {
        /** Every parameter decays (the book's {@code torch.optim.AdamW(model.parameters(), ...)}). */
        ALL,
        /** Only parameters of rank 2 or more (matrices) decay; biases and LayerNorm do not (nanoGPT). */
        MATRICES
    }

    /** Hyperparameters; the learning rate is passed to each {@link #step(double)} by the schedule. */
    public record Options(double beta1, double beta2, double eps, double weightDecay, Decay decay) {
        /** The book's settings: betas (0.9, 0.999), eps 1e-8, weight decay 0.1, decay all. */
        public static Options book() {
            return new Options(0.9, 0.999, 1e-8, 0.1, Decay.ALL);
        }

        public Options {
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
    }

    private final SequencedMap<String, Tensor> params;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private final Options options;
    private long step;
    /** {@link Tensor#backwardPasses()} when the last step left every gradient zero, else -1. */
    private long clearedAt = -1;

    /**
     * An optimizer over the trainable ones among these parameters: frozen parameters (not
     * requiring a gradient when the optimizer is made) get no moments, no state in checkpoints and
     * no update, as PyTorch's AdamW skips parameters without a gradient.
     */
    public AdamW(Map<String, Tensor> namedParameters, Options options) {
        this.params = new LinkedHashMap<>();
        namedParameters.forEach((k, p) -> {
            if (p.requiresGrad()) params.put(k, p);
        });
        this.options = options;
        for (var e : params.entrySet()) {
            m.put(e.getKey(), new float[e.getValue().size()]);
            v.put(e.getKey(), new float[e.getValue().size()]);
        }
    }

    public Options options() {
        return options;
    }

    /** Number of updates taken so far (PyTorch's {@code state['step']}). */
    public long stepCount() {
        return step;
    }

    /** The names of the parameters this optimizer updates (the trainable ones), in order. */
    public java.util.Set<String> parameterNames() {
        return java.util.Collections.unmodifiableSet(params.keySet());
    }

    /** Whether the named parameter is decayed under this optimizer's rule. */
    public boolean decays(String name) {
        Tensor p = params.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter '" + name + "'");
        return options.weightDecay > 0 && (options.decay == Decay.ALL || p.rank() >= 2);
    }

    /** One update of every parameter that has a gradient, at learning rate {@code lr}; the gradients are zero afterwards. */
    public void step(double lr) {
        step++;
        // Bias corrections in double, as PyTorch computes them in Python floats.
        double bc1 = 1 - Math.pow(options.beta1, step);
        double bc2 = 1 - Math.pow(options.beta2, step);
        boolean allCleared = true;
        for (var e : params.entrySet()) {
            Tensor p = e.getValue();
            if (!p.requiresGrad() || p.grad() == null) {
                allCleared &= p.grad() == null; // frozen since with a gradient: zeroGrad must still clear it
                continue;
            }
            double wd = decays(e.getKey()) ? options.weightDecay : 0;
            AdamWKernel.stepAndClear(Simd.ENABLED, p.data(), p.gradBuffer(), m.get(e.getKey()), v.get(e.getKey()), p.size(), lr,
                    options.beta1, options.beta2, options.eps, wd, bc1, bc2);
        }
        clearedAt = allCleared ? Tensor.backwardPasses() : -1;
    }

    /**
     * Clears every parameter's gradient to zero. A step already left them zero (it clears each
     * gradient as it reads it), so right after one, with no backward pass since, there is nothing to do.
     */
    public void zeroGrad() {
        if (clearedAt == Tensor.backwardPasses()) return;
        for (Tensor p : params.values()) p.zeroGrad();
    }

    // ---------------------------------------------------------------- state for checkpoints

    /** The moments as tensors named {@code {param}.exp_avg} and {@code {param}.exp_avg_sq}: views of the live state, which the next step changes. */
    public SequencedMap<String, Tensor> stateTensors() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            int[] shape = e.getValue().shape();
            // the live moments, not copies: a checkpoint writes them at once, and copies of a whole model's moments
            // could not fit the heap that the training step fits
            out.put(e.getKey() + ".exp_avg", Tensor.of(m.get(e.getKey()), shape));
            out.put(e.getKey() + ".exp_avg_sq", Tensor.of(v.get(e.getKey()), shape));
        }
        return out;
    }

    /** The scalar state as text metadata: the step count and the hyperparameters. */
    public Map<String, String> stateMetadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", Long.toString(step));
        meta.put("beta1", Double.toString(options.beta1));
        meta.put("beta2", Double.toString(options.beta2));
        meta.put("eps", Double.toString(options.eps));
        meta.put("weight_decay", Double.toString(options.weightDecay));
        meta.put("decay", options.decay.name().toLowerCase(java.util.Locale.ROOT));
        return meta;
    }

    /** Restores moments and step written by {@link #stateTensors()} and {@link #stateMetadata()}. */
    public void loadState(Map<String, Tensor> tensors, Map<String, String> metadata) {
        String s = metadata.get("step");
        if (s == null) throw new IllegalArgumentException("optimizer state has no 'step'");
        for (var e : params.entrySet()) {
            copyInto(tensors, e.getKey() + ".exp_avg", m.get(e.getKey()));
            copyInto(tensors, e.getKey() + ".exp_avg_sq", v.get(e.getKey()));
        }
        step = Long.parseLong(s.trim());
    }

    private static void copyInto(Map<String, Tensor> tensors, String name, float[] dst) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("optimizer state has no '" + name + "'");
        if (t.size() != dst.length) {
            throw new IllegalArgumentException("optimizer state '" + name + "' has " + t.size() + " values, expected " + dst.length);
        }
        System.arraycopy(t.data(), 0, dst, 0, dst.length);
    }
}
