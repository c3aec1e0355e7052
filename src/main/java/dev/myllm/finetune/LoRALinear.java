package dev.myllm.finetune;

import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Appendix E's {@code LinearWithLoRA}: a frozen linear map plus a trainable low-rank update,
 * {@code y = x·Wᵀ + b + scale·(x·A)·B} with A {@code (in, r)} drawn uniform in ±1/√r (what
 * torch's {@code kaiming_uniform_(a=√5)} gives for that shape) and B {@code (r, out)} zero, so the
 * adapted layer starts equal to the base.
 *
 * <p>Our attention computes queries, keys and values with one fused projection
 * ({@code c_attn}, out = 3C); the book has three separate layers, each with its own LoRA. A
 * fused layer therefore gets {@code blocks} = 3 pairs, {@code (A_q, B_q)}, {@code (A_k, B_k)},
 * {@code (A_v, B_v)}, each updating its third of the output, which is the book's model and
 * parameter count exactly.
 */
public final class LoRALinear extends Module {
    private static final String[] QKV = {"q", "k", "v"};

    private final int in;
    private final int out;
    private final int rank;
    private final float scale;
    private final Tensor[] a;
    private final Tensor[] b;

    /**
     * Adapters for a map {@code in → out} made of {@code blocks} equal output blocks (1, or 3 for
     * a fused QKV projection); {@code scale} multiplies the update (α/r, or α as the printed book).
     */
    public LoRALinear(int in, int out, int blocks, int rank, double scale, Rng rng) {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        if (blocks != 1 && blocks != 3) throw new IllegalArgumentException("LoRA blocks must be 1 or 3 (fused QKV), got " + blocks);
        if (out % blocks != 0) throw new IllegalArgumentException(out + " outputs do not split into " + blocks + " blocks");
        this.in = in;
        this.out = out;
        this.rank = rank;
        this.scale = (float) scale;
        this.a = new Tensor[blocks];
        this.b = new Tensor[blocks];
        float bound = (float) (1 / Math.sqrt(rank));
        for (int i = 0; i < blocks; i++) {
            String suffix = blocks == 1 ? "" : "_" + QKV[i];
            a[i] = parameter("A" + suffix, Tensor.uniform(rng, -bound, bound, in, rank));
            b[i] = parameter("B" + suffix, Tensor.of(new float[rank * (out / blocks)], rank, out / blocks));
        }
    }

    /** Wraps {@code base}: from now on its forward adds this update (the base weights stay as they are). */
    public static LoRALinear attach(Linear base, int blocks, int rank, double scale, Rng rng) {
        LoRALinear l = new LoRALinear(base.inFeatures(), base.outFeatures(), blocks, rank, scale, rng);
        base.setAdapter(l::delta);
        return l;
    }

    /** The update {@code scale·(x·A)·B}: x {@code (.., in)} → {@code (.., out)}. */
    public Tensor delta(Tensor x) {
        int[] shape = x.shape();
        if (shape[shape.length - 1] != in) throw new IllegalArgumentException("LoRA input width " + shape[shape.length - 1] + ", expected " + in);
        Tensor x2 = x.reshape(-1, in);                                   // (N, in): one product instead of one per batch row
        List<Tensor> parts = new ArrayList<>(a.length);
        for (int i = 0; i < a.length; i++) parts.add(x2.matmul(a[i]).matmul(b[i])); // (N, r) then (N, out/blocks)
        Tensor d = parts.size() == 1 ? parts.getFirst() : Tensor.concat(parts, 1);
        shape[shape.length - 1] = out;
        return d.scale(scale).reshape(shape);
    }

    /** {@code base(x) + delta(x)} without touching the base's own adapter hook. */
    public Tensor forward(Linear base, Tensor x) {
        return Ops.linear(x, base.weight(), base.bias()).add(delta(x));
    }

    /**
     * Adds the update into {@code w}, a weight in our {@code [out, in]} layout:
     * {@code w += scale·(A·B)ᵀ} block by block, after which a plain linear layer with {@code w}
     * computes the adapted map. The arithmetic is {@link LoRAMerge#add}'s, which a PEFT adapter's
     * merge shares. Only the first {@code out·in} values are the weight (a save reuses one buffer for
     * weights of every size).
     */
    public void addMergedTo(float[] w) {
        if (w.length < out * in) throw new IllegalArgumentException("LoRA merge into " + w.length + " weights, expected " + out + "x" + in);
        int blockOut = out / a.length;
        for (int blk = 0; blk < a.length; blk++) {
            // A (in, r): A(k,i) = a[i·r + k]; B (r, out/blocks): B(o,k) = b[k·(out/blocks) + o]
            LoRAMerge.add(w, blk * blockOut, blockOut, in, a[blk].data(), 1, rank, b[blk].data(), 1, blockOut, rank, scale);
        }
    }

    public int rank() {
        return rank;
    }

    public int blocks() {
        return a.length;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public float scale() {
        return scale;
    }

    /** A of block {@code i}, {@code (in, r)}. */
    public Tensor a(int i) {
        return a[i];
    }

    /** B of block {@code i}, {@code (r, out/blocks)}. */
    public Tensor b(int i) {
        return b[i];
    }
}
