package dev.myllm.model;

import dev.myllm.nn.Embedding;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.ReadBandwidth;
import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Switches a {@link GPTModel} to weights kept in 16 or 8 bits for inference: every Linear of the
 * blocks, the token embedding (also the tied output head) and a separate head compute from a
 * {@link PackedMatrix}; LayerNorms, biases and position embeddings stay float32 (they are small).
 * The block types (Q8_0, Q4_0, Q4_1) apply to matrices whose rows are a multiple of 32 weights;
 * others are kept F16.
 */
public final class PackedWeights {
    private PackedWeights() {
    }

    /**
     * A weight type's name as users write it ({@code float16}, {@code Q8}, ...) as {@code f32}, {@code f16},
     * {@code bf16}, {@code q8_0}, {@code q4_0} or {@code q4_1}; an {@link IllegalArgumentException} otherwise.
     */
    public static String typeName(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> "f32";
            case "f16", "float16" -> "f16";
            case "bf16", "bfloat16" -> "bf16";
            case "q8_0", "q8" -> "q8_0";
            case "q4_0" -> "q4_0";
            case "q4_1" -> "q4_1";
            default -> throw new IllegalArgumentException("unknown type '" + text + "'; choose f32, f16, bf16, q8_0, q4_0 or q4_1");
        };
    }

    /**
     * The format decoding keeps type {@code t} ({@link #typeName}) in: float32 in panels (about 1.1x
     * faster than rows, at one and at eight sequences), the others as named.
     */
    public static PackedMatrix.Format decodingFormat(String t) {
        return t.equals("f32") ? PackedMatrix.Format.F32_PANELS : PackedMatrix.Format.valueOf(t.toUpperCase(Locale.ROOT));
    }

    /** Whether the model's packed matrices kept their float32 weights (it can be trained and saved). */
    public static boolean hasFloatWeights(GPTModel m) {
        return packable(m).values().stream().allMatch(w -> w.size() == 0 || w.data().length > 0);
    }

    /** The format a matrix of {@code cols} columns gets when {@code f} is asked for. */
    public static PackedMatrix.Format formatFor(PackedMatrix.Format f, int cols) {
        return cols % f.blockSize() != 0 ? PackedMatrix.Format.F16 : f;
    }

    /** The matrices that may be packed, by parameter name ({@code wte.weight}, {@code h.0.attn.c_attn.weight}, ...). */
    public static Map<String, Tensor> packable(GPTModel m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        walk("", m, (name, mod) -> {
            if (mod instanceof Linear l) out.put(name + "weight", l.weight());
            else if (mod instanceof Embedding e && name.equals("wte.")) out.put(name + "weight", e.weight());
        });
        return out;
    }

    /**
     * Packs the model: matrices found in {@code ready} (by parameter name; e.g. mapped from a file)
     * are used as they are, the others are encoded from their float32 weights as {@code f}.
     */
    public static void pack(GPTModel m, PackedMatrix.Format f, Map<String, PackedMatrix> ready) {
        packEach(m, f, ready, false, bytes -> { });
    }

    /**
     * Drops the float32 copy of every packed matrix, so that a model run for inference holds its
     * weights once, packed. Training, export and {@code usePacked(null)} need them: call this only
     * on a model that will only run inference.
     */
    public static void dropFloatWeights(GPTModel m) {
        walk("", m, (name, mod) -> {
            if (mod instanceof Linear l && l.packed() != null) l.dropFloatWeight();
            else if (mod instanceof Embedding e && e.packed() != null) e.dropFloatWeight();
        });
    }

    /**
     * Packs every matrix of a model that will only run inference as {@code f} and drops each float32
     * weight as soon as it is packed, telling {@code dropped} the float32 bytes dropped so far: a
     * caller may collect them there, so that the packed copies reuse their memory instead of the
     * heap growing by the model's size.
     */
    public static void packAndDrop(GPTModel m, PackedMatrix.Format f, java.util.function.LongConsumer dropped) {
        packEach(m, f, Map.of(), true, dropped);
    }

    /** Packs each matrix in turn (and drops its float32 weight when {@code drop}), reporting the float32 bytes packed so far. */
    private static void packEach(GPTModel m, PackedMatrix.Format f, Map<String, PackedMatrix> ready, boolean drop,
                                 java.util.function.LongConsumer packedBytes) {
        long[] bytes = {0};
        walk("", m, (name, mod) -> {
            String key = name + "weight";
            if (mod instanceof Linear l) {
                bytes[0] += 4L * l.weight().size();
                l.usePacked(packed(key, l.weight(), f, ready));
                if (drop) l.dropFloatWeight();
            } else if (mod instanceof Embedding e && name.equals("wte.")) {
                bytes[0] += 4L * e.weight().size();
                e.usePacked(packed(key, e.weight(), f, ready));
                if (drop) e.dropFloatWeight();
            } else {
                return;
            }
            packedBytes.accept(bytes[0]);
        });
    }

    /** Packs every matrix of the model as {@code f}. */
    public static void pack(GPTModel m, PackedMatrix.Format f) {
        pack(m, f, Map.of());
    }

    private static PackedMatrix packed(String name, Tensor w, PackedMatrix.Format f, Map<String, PackedMatrix> ready) {
        PackedMatrix p = ready.get(name);
        if (p != null) return p;
        int rows = w.dim(0), cols = w.dim(1);
        return PackedMatrix.encode(formatFor(f, cols), w.data(), rows, cols);
    }

    /** Bytes of weights one decoded token reads: every block matrix and the output head, as laid out in memory. */
    public static long bytesPerToken(GPTModel m) {
        long[] n = {0};
        walk("", m, (name, mod) -> {
            if (mod instanceof Linear l) n[0] += l.packed() != null ? l.packed().readBytes() : 4L * l.weight().size();
        });
        if (m.outputHead() == null) {
            Embedding e = m.tokenEmbedding();
            n[0] += e.packed() != null ? e.packed().readBytes() : 4L * e.weight().size();
        }
        return n[0];
    }

    /**
     * A probe of the memory bandwidth that reads, in place, the weights {@link #bytesPerToken} counts
     * (packed where they are, else float32): it holds no copy, and reads {@code bytesPerToken} bytes.
     */
    public static ReadBandwidth readProbe(GPTModel m) {
        ReadBandwidth probe = new ReadBandwidth();
        walk("", m, (name, mod) -> {
            if (mod instanceof Linear l) {
                if (l.packed() != null) probe.add(l.packed());
                else probe.add(l.weight().data());
            }
        });
        if (m.outputHead() == null) {
            Embedding e = m.tokenEmbedding();
            if (e.packed() != null) probe.add(e.packed());
            else probe.add(e.weight().data());
        }
        return probe;
    }

    private interface Visitor {
        void visit(String name, Module m);
    }

    private static void walk(String prefix, Module m, Visitor v) {
        v.visit(prefix, m);
        for (var e : m.children().entrySet()) walk(prefix + e.getKey() + ".", e.getValue(), v);
    }
}
