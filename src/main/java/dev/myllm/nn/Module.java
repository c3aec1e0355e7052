package dev.myllm.nn;

import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a model: it owns named parameters and named child modules, so the full names of
 * its parameters form a state dict ({@code h.0.attn.c_attn.weight}, as in Hugging Face GPT-2).
 * It also carries the training/evaluation mode that dropout reads.
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a parameter under a local name; it requires a gradient unless frozen later. */
    protected final Tensor parameter(String name, Tensor value) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name '" + name + "' in " + getClass().getSimpleName());
        }
        value.requiresGrad(true);
        parameters.put(name, value);
        return value;
    }

    /** Registers a child module under a local name. */
    protected final <M extends Module> M child(String name, M module) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name '" + name + "' in " + getClass().getSimpleName());
        }
        children.put(name, module);
        return module;
    }

    /** Replaces a registered parameter's tensor (loading weights, tying the output head). */
    protected final void replaceParameter(String name, Tensor value) {
        if (!parameters.containsKey(name)) throw new IllegalArgumentException("no parameter '" + name + "'");
        parameters.put(name, value);
    }

    /**
     * Every parameter by its full dotted name, in registration order. A tensor registered twice
     * (a tied head) appears under its first name only.
     */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        java.util.Set<Tensor> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        collect("", out, seen);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, java.util.Set<Tensor> seen) {
        for (var e : parameters.entrySet()) if (seen.add(e.getValue())) out.put(prefix + e.getKey(), e.getValue());
        for (var e : children.entrySet()) e.getValue().collect(prefix + e.getKey() + ".", out, seen);
    }

    /** The distinct parameters, in registration order. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** The direct children by local name. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Number of scalar parameters (a tied tensor counted once). */
    public final long parameterCount() {
        long n = 0;
        for (Tensor t : parameters()) n += t.size();
        return n;
    }

    /** Training mode (dropout active) or evaluation mode, for this module and all below it. */
    public final void train(boolean on) {
        training = on;
        for (Module m : children.values()) m.train(on);
    }

    /** Switches to evaluation mode. */
    public final void eval() {
        train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Freezes (or unfreezes) every parameter below this module: frozen ones get no gradient. */
    public final void setTrainable(boolean trainable) {
        for (Tensor t : parameters()) t.requiresGrad(trainable);
    }

    /** Clears the gradients of all parameters to zero. */
    public final void zeroGrad() {
        for (Tensor t : parameters()) t.zeroGrad();
    }
}
