package dev.myllm.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.model.GPTConfig;
import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads and writes {@code config.json} with Hugging Face {@code GPT2Config} keys, mapped to and
 * from {@link GPTConfig}. Our extra is {@code myllm_qkv_bias} (absent means true, as in GPT-2).
 *
 * <p>Defaults follow {@code GPT2Config}: no {@code tie_word_embeddings} key means tied (the hub's
 * GPT-2 configs have none), {@code layer_norm_epsilon} 1e-5, dropout 0.1. Keys that would change
 * the computation in ways we do not implement (another activation, {@code n_inner} other than
 * 4 × {@code n_embd}, layer-wise attention scaling) are refused rather than silently ignored.
 */
final class Gpt2Config {
    static final String QKV_BIAS = "myllm_qkv_bias";
    static final int GPT2_EOS = 50256;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ACTIVATIONS = Set.of("gelu_new", "gelu_pytorch_tanh");

    private Gpt2Config() {
    }

    /** Parses {@code file}; every problem is one {@link IllegalArgumentException} naming the file. */
    static GPTConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file.getParent() + ": no config.json (not a model directory)");
        } catch (JsonProcessingException e) {
            throw bad(file, "not valid JSON: " + dev.myllm.util.JsonFiles.reason(e));
        } catch (IOException e) {
            throw bad(file, "cannot read: " + IoErrors.reason(e)); // the exception's own message names the file again
        }
        if (root == null || !root.isObject()) throw bad(file, "not a JSON object");
        JsonNode type = root.get("model_type");
        if (type != null && !"gpt2".equals(type.asText())) {
            throw bad(file, "model_type '" + type.asText() + "' is not supported (only gpt2)");
        }
        JsonNode act = root.get("activation_function");
        if (act != null && !ACTIVATIONS.contains(act.asText())) {
            throw bad(file, "activation_function '" + act.asText() + "' is not supported (gelu_new)");
        }
        if (bool(file, root, "scale_attn_by_inverse_layer_idx", false)) throw bad(file, "scale_attn_by_inverse_layer_idx is not supported");
        if (!bool(file, root, "scale_attn_weights", true)) throw bad(file, "scale_attn_weights=false is not supported");
        int embd = integer(file, root, "n_embd", null);
        JsonNode inner = root.get("n_inner");
        if (inner != null && !inner.isNull() && integer(file, root, "n_inner", null) != 4 * embd) {
            throw bad(file, "n_inner " + inner + " is not supported (4 × n_embd = " + 4 * embd + ")");
        }
        int positions = root.has("n_positions") ? integer(file, root, "n_positions", null) : integer(file, root, "n_ctx", null);
        try {
            return new GPTConfig(integer(file, root, "vocab_size", null), positions, embd,
                    integer(file, root, "n_head", null), integer(file, root, "n_layer", null),
                    (float) number(file, root, "resid_pdrop", 0.1), bool(file, root, QKV_BIAS, true),
                    bool(file, root, "tie_word_embeddings", true), (float) number(file, root, "layer_norm_epsilon", 1e-5));
        } catch (IllegalArgumentException e) {
            throw bad(file, e.getMessage());
        }
    }

    /**
     * The JSON text for {@code c}: every {@code GPT2Config} key {@code transformers} writes, sorted
     * and indented as Python's {@code json.dumps(indent=2, sort_keys=True)} does, plus our extra.
     */
    static String write(GPTConfig c, DType dtype) {
        return write(c, dtype, Map.of());
    }

    /** {@link #write(GPTConfig, DType)} with more keys, or keys replaced (a classifier's {@code architectures}, labels). */
    static String write(GPTConfig c, DType dtype, Map<String, Object> extra) {
        return write(c, dtype, gpt2EndOfText(c), extra);
    }

    /** The end-of-text id of GPT-2's tokenizer for a model of {@code c}: 50256, or -1 when the vocabulary has no such row. */
    static int gpt2EndOfText(GPTConfig c) {
        return c.vocabSize() > GPT2_EOS ? GPT2_EOS : -1;
    }

    /**
     * The same with {@code endOfText} (the tokenizer's {@code <|endoftext|>} id, -1 for none) as
     * {@code bos_token_id} and {@code eos_token_id}.
     */
    static String write(GPTConfig c, DType dtype, int endOfText, Map<String, Object> extra) {
        Map<String, Object> m = new TreeMap<>();
        m.put("activation_function", "gelu_new");
        m.put("architectures", new String[]{"GPT2LMHeadModel"});
        m.put("attn_pdrop", c.dropRate());
        m.put("embd_pdrop", c.dropRate());
        m.put("resid_pdrop", c.dropRate());
        // always written, null when there is none: without them transformers' GPT2Config takes GPT-2's 50256, which
        // in a smaller vocabulary is no token at all (and it warns)
        Integer eot = endOfText >= 0 && endOfText < c.vocabSize() ? endOfText : null;
        m.put("bos_token_id", eot);
        m.put("eos_token_id", eot);
        m.put("initializer_range", 0.02);
        m.put("layer_norm_epsilon", c.layerNormEps());
        m.put("model_type", "gpt2");
        m.put("n_ctx", c.contextLength());
        m.put("n_embd", c.embDim());
        m.put("n_head", c.nHeads());
        m.put("n_inner", null);
        m.put("n_layer", c.nLayers());
        m.put("n_positions", c.contextLength());
        m.put("reorder_and_upcast_attn", false);
        m.put("scale_attn_by_inverse_layer_idx", false);
        m.put("scale_attn_weights", true);
        m.put("tie_word_embeddings", c.tiedHead());
        m.put("torch_dtype", switch (dtype) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        });
        m.put("use_cache", true);
        m.put("vocab_size", c.vocabSize());
        m.put(QKV_BIAS, c.qkvBias());
        m.putAll(extra);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        m.forEach((k, v) -> o.set(k, JSON.valueToTree(v)));
        DefaultIndenter nl = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                        .withArrayEmptySeparator("").withObjectEmptySeparator(""));
        pp.indentArraysWith(nl);
        pp.indentObjectsWith(nl);
        try {
            return JSON.writer(pp).writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int integer(Path file, JsonNode root, String key, Integer dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            if (dflt != null) return dflt;
            throw bad(file, "missing key '" + key + "'");
        }
        if (!n.canConvertToExactIntegral() || !n.canConvertToInt()) throw bad(file, "'" + key + "' must be an integer, got " + clip(n));
        return n.asInt();
    }

    private static double number(Path file, JsonNode root, String key, double dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw bad(file, "'" + key + "' must be a number, got " + clip(n));
        return n.asDouble();
    }

    private static boolean bool(Path file, JsonNode root, String key, boolean dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw bad(file, "'" + key + "' must be true or false, got " + clip(n));
        return n.asBoolean();
    }

    private static String clip(JsonNode n) {
        String s = n.toString();
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }
}
