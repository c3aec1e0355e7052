package dev.myllm.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.TransformerBlock;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.JsonFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Appendix E's {@code replace_linear_with_lora}: a {@link LoRALinear} on every linear map of a GPT
 * (per block the fused QKV projection with three pairs, the attention output, both feed-forward
 * layers) and on the output head (a classifier's {@code score} or the language model's head), in
 * the book's order. Embeddings and LayerNorms get none. Adapters are named by Hugging Face module
 * path ({@code transformer.h.0.attn.c_attn}, {@code score}, {@code lm_head}) and saved as a PEFT
 * adapter ({@code adapter_model.safetensors} + {@code adapter_config.json}).
 */
public final class LoRA extends Module {
    /** The adapter weights file. */
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** The adapter settings file. */
    public static final String CONFIG = "adapter_config.json";
    /** Our own settings (rank, α, scale rule) beside the PEFT files: PEFT warns about keys of its config it does not know. */
    public static final String SETTINGS = "myllm-lora.json";
    private static final String SETTINGS_KEY = "myllm_lora"; // where adapters written before SETTINGS kept them
    /** What PEFT puts before a module path in an adapter's tensor names. */
    static final String PEFT_PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** How α becomes the update's factor: α/r (the current book and PEFT) or α (the printed book, before its PR #823). */
    public enum Scale {
        ALPHA_OVER_RANK, ALPHA;

        /** {@code alpha/rank} or {@code alpha}. */
        public static Scale parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "alpha/rank", "alpha-over-rank", "rank" -> ALPHA_OVER_RANK;
                case "alpha" -> ALPHA;
                default -> throw new IllegalArgumentException("unknown LoRA scale '" + s + "'; choose alpha/rank or alpha");
            };
        }

        public String id() {
            return this == ALPHA ? "alpha" : "alpha/rank";
        }
    }

    /** Rank, α and the scale rule. */
    public record Settings(int rank, double alpha, Scale rule) {
        public Settings {
            if (rank < 1) throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
            if (!(alpha > 0)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        }

        /** The factor on {@code x·A·B}. */
        public double scale() {
            return rule == Scale.ALPHA ? alpha : alpha / rank;
        }
    }

    private final Settings settings;
    private final Map<String, LoRALinear> layers = new LinkedHashMap<>();
    private final Map<String, Linear> targets = new LinkedHashMap<>();
    private GPTModel headBody; // the model whose tied head carries the "lm_head" adapter, or null

    private LoRA(Settings settings) {
        this.settings = settings;
    }

    /**
     * Puts adapters on every linear map of {@code body} and on {@code head} (a classifier's
     * {@code score}), or, when {@code head} is null, on the language model's output head. A draws
     * come from {@code rng} in the book's order.
     */
    public static LoRA attach(GPTModel body, Linear head, Settings s, Rng rng) {
        LoRA l = blocks(body, s, rng);
        if (head != null) {
            l.add("score", head, 1, rng);
        } else {
            GPTConfig c = body.config();
            LoRALinear lm = new LoRALinear(c.embDim(), c.vocabSize(), 1, s.rank(), s.scale(), rng);
            l.layers.put("lm_head", l.child("lm_head", lm));
            l.headBody = body;
            body.setHeadAdapter(lm::delta);
        }
        return l;
    }

    /**
     * Adapters for instruction tuning a language model that can be merged back into it: every
     * linear map of the blocks, and the output head when it is a separate layer (a head tied to the
     * token embedding cannot take an update of its own, so it gets none).
     */
    public static LoRA attachMergeable(GPTModel body, Settings s, Rng rng) {
        LoRA l = blocks(body, s, rng);
        if (body.outputHead() != null) l.add("lm_head", body.outputHead(), 1, rng);
        return l;
    }

    /**
     * Switches every adapter off (the base model's function, exactly) or back on; DPO's reference
     * model is the policy with its adapters off, so no second copy of the weights is needed.
     */
    public void setEnabled(boolean on) {
        for (var e : layers.entrySet()) {
            Linear t = targets.get(e.getKey());
            if (t != null) t.setAdapter(on ? e.getValue()::delta : null);
            else if (headBody != null) headBody.setHeadAdapter(on ? e.getValue()::delta : null);
        }
    }

    private static LoRA blocks(GPTModel body, Settings s, Rng rng) {
        LoRA l = new LoRA(s);
        for (var e : modules(body).entrySet()) {
            if (e.getKey().equals("lm_head")) continue;
            l.add(e.getKey(), e.getValue(), e.getKey().endsWith(".attn.c_attn") ? 3 : 1, rng);
        }
        return l;
    }

    /**
     * The linear maps an adapter can target, by Hugging Face module path in the book's order: per
     * block {@code transformer.h.N.attn.c_attn}, {@code attn.c_proj}, {@code mlp.c_fc},
     * {@code mlp.c_proj}, then {@code lm_head} when the head is a layer of its own. Their weights
     * are in our {@code [out, in]} layout, which is PEFT's {@code lora_B·lora_A}'s for Conv1D and
     * Linear alike.
     */
    static Map<String, Linear> modules(GPTModel body) {
        Map<String, Linear> m = new LinkedHashMap<>();
        for (int i = 0; i < body.config().nLayers(); i++) {
            TransformerBlock blk = body.block(i);
            String p = "transformer.h." + i + ".";
            m.put(p + "attn.c_attn", blk.attn().cAttn());
            m.put(p + "attn.c_proj", blk.attn().cProj());
            m.put(p + "mlp.c_fc", blk.mlp().fc());
            m.put(p + "mlp.c_proj", blk.mlp().proj());
        }
        if (body.outputHead() != null) m.put("lm_head", body.outputHead());
        return m;
    }

    private void add(String path, Linear target, int blocks, Rng rng) {
        LoRALinear a = child(path, LoRALinear.attach(target, blocks, settings.rank(), settings.scale(), rng));
        layers.put(path, a);
        targets.put(path, target);
    }

    /**
     * The trainable parameters LoRA adds to a GPT of {@code c}: on the blocks, and on a
     * {@code classes}-way head, or on the vocabulary head when {@code classes} is 0
     * (gpt2-small, 2 classes, r 16: 2,666,528; gpt2-medium's LM, r 16: 7,898,384).
     */
    public static long parameterCount(GPTConfig c, int classes, int rank) {
        long d = c.embDim(), h = c.hiddenDim();
        long perBlock = 3 * rank * (d + d) + rank * (d + d) + rank * (d + h) + rank * (h + d);
        long head = rank * (d + (classes > 0 ? classes : c.vocabSize()));
        return c.nLayers() * perBlock + head;
    }

    public Settings settings() {
        return settings;
    }

    /** The adapters by module path, in the book's order. */
    public Map<String, LoRALinear> layers() {
        return java.util.Collections.unmodifiableMap(layers);
    }

    /**
     * Adds every update into its base weight ({@code W += scale·(A·B)ᵀ}) and removes the adapters
     * from the forward pass: the model then computes the same function with plain linear layers.
     * A tied vocabulary head cannot take its update (it is the token embedding too).
     */
    public void merge(GPTModel body) {
        refuseTiedHeadUpdate();
        for (var e : layers.entrySet()) {
            e.getValue().addMergedTo(targets.get(e.getKey()).weight().data());
        }
        for (Linear t : targets.values()) t.setAdapter(null);
    }

    /**
     * Each weight's values with its update added in, for a save that writes one weight at a time: a target's merged
     * weight is made in one buffer (of the largest target's size) that the next target reuses, so the save needs one
     * weight's heap, not a copy of every target; any other parameter's are its own. The values {@link #merge} would leave.
     */
    public java.util.function.Function<Tensor, float[]> mergedValues() {
        refuseTiedHeadUpdate();
        Map<Tensor, LoRALinear> byWeight = new java.util.IdentityHashMap<>();
        layers.forEach((path, a) -> byWeight.put(targets.get(path).weight(), a));
        int largest = byWeight.keySet().stream().mapToInt(Tensor::size).max().orElse(0);
        float[][] buffer = new float[1][];
        return w -> {
            LoRALinear a = byWeight.get(w);
            if (a == null) return w.data();
            if (buffer[0] == null) buffer[0] = new float[largest];
            System.arraycopy(w.data(), 0, buffer[0], 0, w.size());
            a.addMergedTo(buffer[0]);
            return buffer[0];
        };
    }

    /** A tied vocabulary head cannot take its update: it is the token embedding too. */
    private void refuseTiedHeadUpdate() {
        if (layers.containsKey("lm_head") && !targets.containsKey("lm_head")) {
            throw new IllegalArgumentException("cannot merge a LoRA on the output head of a model whose head is tied to the token embedding");
        }
    }

    // ---------------------------------------------------------------- PEFT files

    /**
     * The adapters as PEFT stores them: {@code base_model.model.PATH.lora_A.weight} {@code (R, in)}
     * and {@code lora_B.weight} {@code (out, R)}. A fused QKV projection's three pairs are one
     * adapter of rank 3r with A stacked and B block-diagonal, the same map.
     */
    public Map<String, Tensor> peftTensors() {
        Map<String, Tensor> out = new TreeMap<>();
        for (var e : layers.entrySet()) {
            LoRALinear l = e.getValue();
            int r = l.rank(), n = l.blocks(), in = l.inFeatures(), o = l.outFeatures(), bo = o / n, big = r * n;
            float[] a = new float[big * in], b = new float[o * big];
            for (int blk = 0; blk < n; blk++) {
                float[] ad = l.a(blk).data(), bd = l.b(blk).data();
                for (int k = 0; k < r; k++) {
                    for (int i = 0; i < in; i++) a[(blk * r + k) * in + i] = ad[i * r + k];
                    for (int j = 0; j < bo; j++) b[(blk * bo + j) * big + blk * r + k] = bd[k * bo + j];
                }
            }
            out.put(PEFT_PREFIX + e.getKey() + ".lora_A.weight", Tensor.of(a, big, in));
            out.put(PEFT_PREFIX + e.getKey() + ".lora_B.weight", Tensor.of(b, o, big));
        }
        return out;
    }

    /** Loads adapter weights written by {@link #peftTensors()} into these adapters; one-line errors. */
    public void loadPeft(Map<String, Tensor> tensors, Path file) {
        for (var e : layers.entrySet()) {
            LoRALinear l = e.getValue();
            int r = l.rank(), n = l.blocks(), in = l.inFeatures(), o = l.outFeatures(), bo = o / n, big = r * n;
            Tensor a = need(tensors, PEFT_PREFIX + e.getKey() + ".lora_A.weight", big, in, file);
            Tensor b = need(tensors, PEFT_PREFIX + e.getKey() + ".lora_B.weight", o, big, file);
            for (int blk = 0; blk < n; blk++) {
                float[] ad = l.a(blk).data(), bd = l.b(blk).data();
                for (int k = 0; k < r; k++) {
                    for (int i = 0; i < in; i++) ad[i * r + k] = a.data()[(blk * r + k) * in + i];
                    for (int j = 0; j < bo; j++) bd[k * bo + j] = b.data()[(blk * bo + j) * big + blk * r + k];
                }
            }
        }
    }

    static Tensor need(Map<String, Tensor> t, String name, int rows, int cols, Path file) {
        Tensor x = t.get(name);
        if (x == null) throw new IllegalArgumentException(file + ": missing tensor '" + name + "'");
        if (x.rank() != 2 || x.dim(0) != rows || x.dim(1) != cols) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(x.shape())
                    + ", expected [" + rows + ", " + cols + "]");
        }
        return x;
    }

    /** Writes {@code adapter_model.safetensors} and {@code adapter_config.json} into {@code dir}. */
    public void save(Path dir, String taskType) {
        Safetensors.write(dir.resolve(WEIGHTS), peftTensors(), Map.of("format", "pt"));
        ObjectNode c = JSON.createObjectNode();
        double s = settings.scale();
        int r = settings.rank();
        c.putNull("base_model_name_or_path");
        c.put("bias", "none");
        c.put("fan_in_fan_out", true); // GPT-2's Conv1D layers store [in, out]
        c.put("lora_alpha", s * r);    // PEFT scales by lora_alpha / r
        c.put("lora_dropout", 0.0);
        c.put("peft_type", "LORA");
        c.put("r", r);
        c.putObject("rank_pattern").put("c_attn", 3 * r);
        c.putObject("alpha_pattern").put("c_attn", s * 3 * r);
        var tm = c.putArray("target_modules");
        tm.add("c_attn").add("c_proj").add("c_fc");
        if (layers.containsKey("score")) tm.add("score");
        if (layers.containsKey("lm_head")) tm.add("lm_head");
        c.put("task_type", taskType);
        ObjectNode own = JSON.createObjectNode().put("rank", r).put("alpha", settings.alpha()).put("scale", settings.rule().id());
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(c) + "\n");
            AtomicFiles.writeString(dir.resolve(SETTINGS), JSON.writeValueAsString(own) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code dir} holds an adapter. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    /** The settings in {@code dir/myllm-lora.json}, or in the {@code myllm_lora} key of an older adapter's config. */
    public static Settings readSettings(Path dir) {
        // our own file whenever something is in its place: one that cannot be read is reported, not passed over for the older key
        Path own = dir.resolve(SETTINGS), f = Files.exists(own, LinkOption.NOFOLLOW_LINKS) ? own : dir.resolve(CONFIG);
        JsonNode root = JsonFiles.read(f);
        JsonNode n = root == null ? null : f == own ? root : root.path(SETTINGS_KEY);
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(f + ": not a myllm LoRA adapter (no " + SETTINGS + " and no '" + SETTINGS_KEY + "' key)");
        }
        return new Settings(n.path("rank").asInt(), n.path("alpha").asDouble(), Scale.parse(n.path("scale").asText("alpha/rank")));
    }

    /** Loads {@code dir/adapter_model.safetensors} into these adapters. */
    public void load(Path dir) {
        Path f = dir.resolve(WEIGHTS);
        String odd = dev.myllm.util.IoErrors.inPlaceOfFile(f); // a directory or a link loop is there, not nothing
        if (odd != null) throw new IllegalArgumentException(f + ": " + odd);
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException(dir + ": no " + WEIGHTS);
        loadPeft(Safetensors.read(f), f);
    }
}
