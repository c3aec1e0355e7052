package dev.myllm.io;

import dev.myllm.model.GPTConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How a GPT-2 state dict is laid out in a Hugging Face {@code model.safetensors}: the tensor names
 * and shapes a configuration implies, which weights are Conv1D (stored {@code [in, out]}, the
 * transpose of our {@code [out, in]}), and how a file's names map onto ours.
 *
 * <p>The mapping ({@link #plan}) checks the header only, so a multi-gigabyte download can be
 * validated without reading its data.
 */
final class Gpt2Layout {
    /** The prefix {@code save_pretrained} puts before the base model's names ({@code GPT2LMHeadModel.transformer}). */
    static final String PREFIX = "transformer.";
    static final String HEAD = "lm_head.weight";
    static final String WTE = "wte.weight";
    static final String WPE = "wpe.weight";
    /** The causal-mask buffers older {@code transformers} versions stored; they hold no weights. */
    private static final Pattern BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");
    private static final Pattern QKV_BIAS = Pattern.compile("h\\.\\d+\\.attn\\.c_attn\\.bias");
    private static final int MAX_LISTED = 4;

    private Gpt2Layout() {
    }

    /** Whether a (prefix-free) name is one of GPT-2's Conv1D weights, stored {@code [in, out]}. */
    static boolean isConv1d(String name) {
        return name.endsWith(".attn.c_attn.weight") || name.endsWith(".attn.c_proj.weight")
                || name.endsWith(".mlp.c_fc.weight") || name.endsWith(".mlp.c_proj.weight");
    }

    /** Every tensor the configuration needs, with its shape as stored in the file (Conv1D {@code [in, out]}). */
    static SequencedMap<String, int[]> fileShapes(GPTConfig c) {
        int e = c.embDim(), hidden = c.hiddenDim();
        SequencedMap<String, int[]> s = new LinkedHashMap<>();
        s.put(WTE, new int[]{c.vocabSize(), e});
        s.put(WPE, new int[]{c.contextLength(), e});
        for (int i = 0; i < c.nLayers(); i++) {
            String p = "h." + i + ".";
            s.put(p + "ln_1.weight", new int[]{e});
            s.put(p + "ln_1.bias", new int[]{e});
            s.put(p + "attn.c_attn.weight", new int[]{e, 3 * e});
            if (c.qkvBias()) s.put(p + "attn.c_attn.bias", new int[]{3 * e});
            s.put(p + "attn.c_proj.weight", new int[]{e, e});
            s.put(p + "attn.c_proj.bias", new int[]{e});
            s.put(p + "ln_2.weight", new int[]{e});
            s.put(p + "ln_2.bias", new int[]{e});
            s.put(p + "mlp.c_fc.weight", new int[]{e, hidden});
            s.put(p + "mlp.c_fc.bias", new int[]{hidden});
            s.put(p + "mlp.c_proj.weight", new int[]{hidden, e});
            s.put(p + "mlp.c_proj.bias", new int[]{e});
        }
        s.put("ln_f.weight", new int[]{e});
        s.put("ln_f.bias", new int[]{e});
        if (!c.tiedHead()) s.put(HEAD, new int[]{c.vocabSize(), e});
        return s;
    }

    /**
     * Which file tensor fills which of our parameters. {@code zeroBiases} are QKV biases stored for a
     * model without them (we write zeros so {@code transformers} loads the directory); they must be
     * zero. {@code tiedHead} is an {@code lm_head.weight} stored beside a tied embedding; it must
     * equal {@code wte.weight}. {@code cropPositions}: the file has more position embeddings than
     * the configuration's context length (a shorter context asked for); the first rows are used.
     */
    record Plan(SequencedMap<String, String> sources, List<String> zeroBiases, String tiedHead, boolean cropPositions) {
    }

    /** Maps the file's names onto the configuration's, checking names, shapes and dtypes; one-line errors. */
    static Plan plan(Safetensors st, GPTConfig config) {
        return plan(st, config, name -> false);
    }

    /** {@link #plan(Safetensors, GPTConfig)} ignoring the file's tensors {@code skip} accepts (a classifier's {@code score.*}). */
    static Plan plan(Safetensors st, GPTConfig config, java.util.function.Predicate<String> skip) {
        SequencedMap<String, int[]> want = fileShapes(config);
        SequencedMap<String, String> sources = new LinkedHashMap<>();
        List<String> zeroBiases = new ArrayList<>();
        String tiedHead = null;
        boolean crop = false;
        Map<String, String> seen = new LinkedHashMap<>();
        for (String name : st.names()) {
            if (skip.test(name)) continue;
            String key = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
            if (BUFFER.matcher(key).matches() && want.containsKey(key.substring(0, key.indexOf(".attn.")) + ".ln_1.weight")) continue;
            String twin = seen.putIfAbsent(key, name);
            if (twin != null) throw bad(st, "holds both '" + SafetensorsHeader.clip(twin) + "' and '" + SafetensorsHeader.clip(name) + "'");
            int[] shape = want.get(key);
            if (shape == null) {
                if (key.equals(HEAD) && config.tiedHead()) {
                    shape = want.get(WTE);
                    tiedHead = name;
                } else if (QKV_BIAS.matcher(key).matches() && !config.qkvBias() && want.containsKey(key.replace(".bias", ".weight"))) {
                    shape = new int[]{3 * config.embDim()};
                    zeroBiases.add(name);
                } else {
                    throw bad(st, "unexpected tensor '" + SafetensorsHeader.clip(name) + "' for " + describe(config));
                }
            } else {
                sources.put(key, name);
            }
            TensorInfo info = st.info(name);
            DType dt = info.dtype();
            if (dt != DType.F32 && dt != DType.F16 && dt != DType.BF16 && dt != DType.F64) {
                throw bad(st, "tensor '" + name + "' has dtype " + dt + "; weights must be floating point");
            }
            if (key.equals(WPE) && info.shape().length == 2 && info.shape()[1] == shape[1] && info.shape()[0] > shape[0]) {
                crop = true; // nanoGPT's crop_block_size: a shorter context uses the first positions
            } else if (!sameShape(info.shape(), shape)) {
                throw bad(st, "tensor '" + name + "' has shape " + Arrays.toString(info.shape()) + ", expected "
                        + Arrays.toString(shape) + " for " + describe(config));
            }
        }
        List<String> missing = new ArrayList<>();
        for (String key : want.keySet()) {
            if (!sources.containsKey(key)) missing.add(key);
        }
        if (!missing.isEmpty()) {
            String list = String.join(", ", missing.subList(0, Math.min(MAX_LISTED, missing.size())))
                    + (missing.size() > MAX_LISTED ? " and " + (missing.size() - MAX_LISTED) + " more" : "");
            throw bad(st, "missing tensor" + (missing.size() > 1 ? "s " : " ") + list + " for " + describe(config));
        }
        return new Plan(sources, zeroBiases, tiedHead, crop);
    }

    /** The configuration in Hugging Face's words, for error messages. */
    static String describe(GPTConfig c) {
        return "n_embd=" + c.embDim() + " n_layer=" + c.nLayers() + " n_head=" + c.nHeads() + " vocab_size=" + c.vocabSize()
                + " n_positions=" + c.contextLength() + (c.qkvBias() ? "" : " without qkv bias")
                + (c.tiedHead() ? "" : " with a separate lm_head");
    }

    /** Names in the order Python's {@code safetensors.save_file} writes one dtype: sorted. */
    static List<String> sorted(Set<String> names) {
        List<String> l = new ArrayList<>(names);
        l.sort(null);
        return l;
    }

    private static boolean sameShape(long[] got, int[] want) {
        if (got.length != want.length) return false;
        for (int i = 0; i < got.length; i++) {
            if (got[i] != want[i]) return false;
        }
        return true;
    }

    static IllegalArgumentException bad(Safetensors st, String what) {
        return new IllegalArgumentException(st.file() + ": " + what);
    }
}
