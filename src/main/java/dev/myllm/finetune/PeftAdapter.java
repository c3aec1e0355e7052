package dev.myllm.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTModel;
import dev.myllm.nn.Linear;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.IoErrors;
import dev.myllm.util.JsonFiles;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A Hugging Face PEFT LoRA adapter for GPT-2 ({@code adapter_config.json} +
 * {@code adapter_model.safetensors}), as PEFT in Python or {@link LoRA#save} writes it, read to be
 * merged into a model's weights: {@code W += scale·B·A} in our {@code [out, in]} layout, which is
 * PEFT's {@code W_conv1d += scale·(B·A)ᵀ} for GPT-2's Conv1D layers and {@code W += scale·B·A} for
 * a separate {@code lm_head}.
 *
 * <p>The scale is {@code lora_alpha/r}, or {@code lora_alpha/√r} with {@code use_rslora}, with
 * {@code r} and {@code lora_alpha} per module from {@code rank_pattern} and {@code alpha_pattern}
 * when a key matches the module path as PEFT matches it (the key a regex matching the whole path or
 * its end after a dot: {@code c_attn}, {@code attn.c_proj}, {@code transformer.h.0.attn.c_attn}).
 * {@code fan_in_fan_out} does not change the layout of A and B (PEFT sets it per layer type), so
 * either value is accepted. {@code target_modules} (less {@code exclude_modules}) must select every
 * module the file has weights for, and every GPT-2 module it selects must have them. With
 * {@code lm_head} targeted, PEFT's default save ({@code save_embedding_layers="auto"}) also writes the
 * head's own weight as {@code lm_head.base_layer.weight}, which {@code PeftModel.from_pretrained}
 * loads in place of the base model's head before the update applies; so does {@link #mergeInto}.
 * What cannot be merged into GPT-2's matrices alone is refused: DoRA,
 * trained biases ({@code bias} other than none, {@code lora_bias}), {@code modules_to_save}, and an
 * adapter on a head tied to the token embedding (merging it would change the embedding too).
 * Every error is one {@link IllegalArgumentException} naming the file and the key.
 */
public final class PeftAdapter {
    private static final Pattern KEY = Pattern.compile(Pattern.quote(LoRA.PEFT_PREFIX) + "(.+)\\.lora_([AB])(\\.[^.]+)?\\.weight");
    /** The one base weight PEFT saves beside LoRA weights on GPT-2: a targeted output embedding's (its input embedding takes no LoRA here). */
    private static final String HEAD_BASE = LoRA.PEFT_PREFIX + "lm_head.base_layer.weight";

    /**
     * One module's update: A {@code (r, in)}, B {@code (out, r)}, the factor on {@code B·A}, and the
     * module's own weight {@code (out, in)} that replaces the base model's first, or null to keep it.
     */
    public record Update(String module, Tensor a, Tensor b, double scale, Tensor base) {
    }

    private final Path dir;
    private final Map<String, Update> updates;
    private final JsonNode targets;
    private final JsonNode excluded;

    private PeftAdapter(Path dir, Map<String, Update> updates, JsonNode targets, JsonNode excluded) {
        this.dir = dir;
        this.updates = updates;
        this.targets = targets;
        this.excluded = excluded;
    }

    /** Reads and checks {@code dir/adapter_config.json} and {@code dir/adapter_model.safetensors}. */
    public static PeftAdapter read(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + (Files.exists(dir) ? ": not a directory" : ": no such adapter directory"));
        Path cf = dir.resolve(LoRA.CONFIG), wf = dir.resolve(LoRA.WEIGHTS);
        // something in a file's place (a directory, a link loop) is named as what it is, not as missing
        for (Path f : List.of(cf, wf)) {
            String odd = IoErrors.inPlaceOfFile(f);
            if (odd != null) throw new IllegalArgumentException(f + ": " + odd);
        }
        if (!Files.isRegularFile(cf)) throw new IllegalArgumentException(dir + ": no " + LoRA.CONFIG + " (not a PEFT adapter directory)");
        if (!Files.isRegularFile(wf)) {
            String hint = Files.exists(dir.resolve("adapter_model.bin")) ? " (it has adapter_model.bin; convert it to safetensors)" : "";
            throw new IllegalArgumentException(dir + ": no " + LoRA.WEIGHTS + hint);
        }
        JsonNode c = JsonFiles.read(cf);
        if (c == null || !c.isObject()) throw new IllegalArgumentException(cf + ": not a JSON object");
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new IllegalArgumentException(cf + ": 'peft_type' is '" + type + "'; only LORA adapters can be merged");
        if (c.path("use_dora").asBoolean(false)) throw new IllegalArgumentException(cf + ": 'use_dora' is true; DoRA adapters are not supported");
        String bias = c.path("bias").asText("none");
        if (!bias.equals("none")) throw new IllegalArgumentException(cf + ": 'bias' is '" + bias + "'; only \"none\" is supported (trained biases are not merged)");
        if (c.path("lora_bias").asBoolean(false)) throw new IllegalArgumentException(cf + ": 'lora_bias' is true; LoRA biases are not supported");
        if (nonEmpty(c.get("modules_to_save"))) {
            throw new IllegalArgumentException(cf + ": 'modules_to_save' is " + c.get("modules_to_save") + "; adapters with fully trained modules are not supported");
        }
        for (String k : List.of("layers_to_transform", "layer_replication", "trainable_token_indices")) {
            if (nonEmpty(c.get(k))) throw new IllegalArgumentException(cf + ": '" + k + "' is set; it is not supported");
        }
        int r = c.path("r").asInt(0);
        if (r < 1) throw new IllegalArgumentException(cf + ": 'r' must be a positive integer, got " + c.get("r"));
        if (!c.path("lora_alpha").isNumber()) throw new IllegalArgumentException(cf + ": 'lora_alpha' must be a number, got " + c.get("lora_alpha"));
        double alpha = c.path("lora_alpha").asDouble();
        boolean rs = c.path("use_rslora").asBoolean(false);
        Map<String, Tensor> tensors;
        try {
            tensors = Safetensors.read(wf);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        Map<String, Tensor[]> pairs = new TreeMap<>();
        Tensor headBase = null;
        for (var e : tensors.entrySet()) {
            if (e.getKey().equals(HEAD_BASE)) {
                if (e.getValue().rank() != 2) throw new IllegalArgumentException(wf + ": tensor '" + e.getKey() + "' is not a matrix");
                headBase = e.getValue();
                continue;
            }
            Matcher m = KEY.matcher(e.getKey());
            if (!m.matches()) throw new IllegalArgumentException(wf + ": unexpected tensor '" + e.getKey() + "' (LoRA adapters hold lora_A and lora_B weights)");
            Tensor[] p = pairs.computeIfAbsent(m.group(1), k -> new Tensor[2]);
            int i = m.group(2).equals("A") ? 0 : 1;
            if (p[i] != null) throw new IllegalArgumentException(wf + ": two lora_" + m.group(2) + " tensors for '" + m.group(1) + "'");
            if (e.getValue().rank() != 2) throw new IllegalArgumentException(wf + ": tensor '" + e.getKey() + "' is not a matrix");
            p[i] = e.getValue();
        }
        if (pairs.isEmpty()) throw new IllegalArgumentException(wf + ": holds no LoRA weights");
        if (headBase != null && !pairs.containsKey("lm_head")) {
            // PEFT saves the head's weight only beside the head's own LoRA weights
            throw new IllegalArgumentException(wf + ": tensor '" + HEAD_BASE + "' without '" + LoRA.PEFT_PREFIX + "lm_head.lora_A.weight'");
        }
        Map<String, Update> ups = new LinkedHashMap<>();
        for (var e : pairs.entrySet()) {
            String mod = e.getKey(), key = LoRA.PEFT_PREFIX + mod;
            if (e.getValue()[0] == null) throw new IllegalArgumentException(wf + ": missing tensor '" + key + ".lora_A.weight'");
            if (e.getValue()[1] == null) throw new IllegalArgumentException(wf + ": missing tensor '" + key + ".lora_B.weight'");
            int rank = pattern(c, "rank_pattern", mod, cf).map(JsonNode::asInt).orElse(r);
            double a = pattern(c, "alpha_pattern", mod, cf).map(JsonNode::asDouble).orElse(alpha);
            if (rank < 1) throw new IllegalArgumentException(cf + ": 'rank_pattern' gives '" + mod + "' rank " + rank);
            Tensor am = e.getValue()[0], bm = e.getValue()[1];
            if (am.dim(0) != rank) throw shape(wf, key + ".lora_A.weight", am, "[" + rank + ", in] (r " + rank + ")");
            if (bm.dim(1) != rank) throw shape(wf, key + ".lora_B.weight", bm, "[out, " + rank + "] (r " + rank + ")");
            ups.put(mod, new Update(mod, am, bm, rs ? a / Math.sqrt(rank) : a / rank, mod.equals("lm_head") ? headBase : null));
        }
        return new PeftAdapter(dir, ups, c.get("target_modules"), c.get("exclude_modules"));
    }

    /** A {@code rank_pattern}/{@code alpha_pattern} value for {@code module}, as PEFT's {@code get_pattern_key} picks it. */
    private static java.util.Optional<JsonNode> pattern(JsonNode c, String field, String module, Path cf) {
        JsonNode p = c.get(field);
        if (p == null || p.isNull()) return java.util.Optional.empty();
        if (!p.isObject()) throw new IllegalArgumentException(cf + ": '" + field + "' must be an object, got " + p);
        for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isNumber()) throw new IllegalArgumentException(cf + ": '" + field + "' key '" + e.getKey() + "' is not a number");
            if (regex(cf, field, e.getKey(), "(.*\\.)?(" + e.getKey() + ")").matcher(module).matches()) return java.util.Optional.of(e.getValue());
        }
        return java.util.Optional.empty();
    }

    private static Pattern regex(Path cf, String field, String key, String pattern) {
        try {
            return Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(cf + ": '" + field + "' key '" + key + "' is not a valid pattern");
        }
    }

    /** Whether PEFT's {@code target_modules} selects {@code module} and {@code exclude_modules} does not. */
    private boolean targeted(String module) {
        if (selects(excluded, "exclude_modules", module, false)) return false;
        if (targets == null || targets.isNull() || targets.asText().equals("all-linear")) return true;
        return selects(targets, "target_modules", module, false);
    }

    /** PEFT's module selection: a string is a whole-path regex; a list matches a path or its end after a dot. */
    private boolean selects(JsonNode field, String name, String module, boolean ifAbsent) {
        if (field == null || field.isNull()) return ifAbsent;
        if (field.isTextual()) return regex(dir.resolve(LoRA.CONFIG), name, field.asText(), field.asText()).matcher(module).matches();
        for (JsonNode t : field) {
            String s = t.asText();
            if (module.equals(s) || module.endsWith("." + s)) return true;
        }
        return false;
    }

    private static boolean nonEmpty(JsonNode n) {
        return n != null && !n.isNull() && !(n.isContainerNode() && n.isEmpty());
    }

    private static IllegalArgumentException shape(Path f, String key, Tensor t, String expected) {
        return new IllegalArgumentException(f + ": tensor '" + key + "' has shape " + java.util.Arrays.toString(t.shape()) + ", expected " + expected);
    }

    /** The updates by module path ({@code transformer.h.0.attn.c_attn}, ..., {@code lm_head}), sorted. */
    public Map<String, Update> updates() {
        return java.util.Collections.unmodifiableMap(updates);
    }

    /** The adapter's directory. */
    public Path directory() {
        return dir;
    }

    /**
     * Adds every update into {@code model}'s float32 weights ({@code W += scale·B·A}, W first set to
     * the update's saved base weight if it has one), after checking every module and shape first so a
     * refused adapter leaves the model as it was.
     */
    public void mergeInto(GPTModel model) {
        Path wf = dir.resolve(LoRA.WEIGHTS);
        Map<String, Linear> mods = LoRA.modules(model);
        List<Runnable> merges = new ArrayList<>();
        for (Update u : updates.values()) {
            String key = LoRA.PEFT_PREFIX + u.module();
            Linear t = mods.get(u.module());
            if (t == null) {
                String why = u.module().equals("lm_head") ? " (the model's head is tied to the token embedding: merging it would change the embedding too)"
                        : " (not a linear map of this GPT-2: transformer.h.N.attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj or lm_head, N < "
                        + model.config().nLayers() + ")";
                throw new IllegalArgumentException(wf + ": tensor '" + key + ".lora_A.weight' is for module '" + u.module() + "'" + why);
            }
            if (!targeted(u.module())) {
                throw new IllegalArgumentException(wf + ": tensor '" + key + ".lora_A.weight' is for module '" + u.module() + "', which target_modules "
                        + targets + (excluded == null || excluded.isNull() ? "" : " less exclude_modules " + excluded) + " does not select");
            }
            int out = t.outFeatures(), in = t.inFeatures(), r = u.a().dim(0);
            if (u.a().dim(1) != in) throw shape(wf, key + ".lora_A.weight", u.a(), "[" + r + ", " + in + "]");
            if (u.b().dim(0) != out) throw shape(wf, key + ".lora_B.weight", u.b(), "[" + out + ", " + r + "]");
            if (u.base() != null && (u.base().dim(0) != out || u.base().dim(1) != in)) {
                throw shape(wf, key + ".base_layer.weight", u.base(), "[" + out + ", " + in + "] (the model's " + u.module() + ")");
            }
            if (t.weight() == null) throw new IllegalArgumentException(wf + ": module '" + u.module() + "' has packed weights; merge before packing");
            merges.add(() -> {
                // PeftModel.from_pretrained loads the saved base weight into the module, then the update applies on it
                if (u.base() != null) System.arraycopy(u.base().data(), 0, t.weight().data(), 0, out * in);
                add(t.weight().data(), u, out, in);
            });
        }
        for (var e : mods.entrySet()) {
            boolean listed = targets != null && !targets.isNull() && !targets.asText().equals("all-linear"); // all-linear: whatever the file has
            if (!updates.containsKey(e.getKey()) && listed && targeted(e.getKey())) {
                throw new IllegalArgumentException(wf + ": missing tensor '" + LoRA.PEFT_PREFIX + e.getKey()
                        + ".lora_A.weight' (target_modules " + targets + " selects it)");
            }
        }
        merges.forEach(Runnable::run);
    }

    /**
     * {@code w[o][i] += scale·Σ_k B[o][k]·A[k][i]}, with {@link LoRAMerge#add} as our own runs merge:
     * the scale as a float, as PEFT's float32 {@code (B·A)·scaling} uses it and as our LoRA layers hold it.
     */
    private static void add(float[] w, Update u, int out, int in) {
        int r = u.a().dim(0);
        // A (r, in): A(k,i) = a[k·in + i]; B (out, r): B(o,k) = b[o·r + k]
        LoRAMerge.add(w, 0, out, in, u.a().data(), in, 1, u.b().data(), r, 1, r, (float) u.scale());
    }
}
