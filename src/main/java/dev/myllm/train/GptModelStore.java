package dev.myllm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link GPTModel} as a Hugging Face GPT-2 model directory: {@code config.json} with
 * {@code GPT2Config} keys (plus our extras {@code qkv_bias} and {@code tie_word_embeddings}) and
 * {@code model.safetensors} with GPT-2 names, the Conv1D weights transposed to {@code [in, out]}.
 */
public final class GptModelStore implements ModelStore {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Where a model directory keeps a trained (non-GPT-2) tokenizer, named in config.json. */
    public static final String TOKENIZER_FILE = "myllm-tokenizer.json";
    private final GPTModel model;
    private final Path tokenizerFile;

    /** A store for {@code model}; {@code tokenizerFile} (may be null) is copied into every saved directory. */
    public GptModelStore(GPTModel model, Path tokenizerFile) {
        this.model = model;
        this.tokenizerFile = tokenizerFile;
    }

    public GptModelStore(GPTModel model) {
        this(model, null);
    }

    /** Whether a parameter is one of GPT-2's Conv1D weights, stored {@code [in, out]} by Hugging Face. */
    static boolean isConv1d(String name) {
        return name.endsWith(".weight") && (name.contains(".attn.c_attn.") || name.contains(".attn.c_proj.")
                || name.contains(".mlp.c_fc.") || name.contains(".mlp.c_proj."));
    }

    static Tensor transpose2d(Tensor t) {
        int r = t.dim(0), c = t.dim(1);
        float[] src = t.data(), dst = new float[src.length];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) dst[j * r + i] = src[i * c + j];
        return Tensor.of(dst, c, r);
    }

    @Override
    public void save(Path dir) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : model.namedParameters().entrySet()) {
            out.put(e.getKey(), isConv1d(e.getKey()) ? transpose2d(e.getValue()) : e.getValue());
        }
        Safetensors.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        writeConfig(dir, model.config(), tokenizerFile == null ? null : TOKENIZER_FILE);
        if (tokenizerFile != null) {
            try {
                Files.copy(tokenizerFile, dir.resolve(TOKENIZER_FILE));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy the tokenizer into " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void load(Path dir) {
        model.loadStateDict(readWeights(dir, model.config()));
    }

    /** The weights of a model directory in our layout, HF buffers and a tied head's copy dropped. */
    public static Map<String, Tensor> readWeights(Path dir, GPTConfig cfg) {
        Map<String, Tensor> in = Safetensors.read(dir.resolve("model.safetensors"));
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : in.entrySet()) {
            String name = e.getKey().startsWith("transformer.") ? e.getKey().substring("transformer.".length()) : e.getKey();
            if (name.endsWith(".attn.bias") && e.getValue().rank() == 4) continue;  // HF's causal-mask buffer
            if (name.endsWith(".attn.masked_bias")) continue;
            if (name.equals("lm_head.weight") && cfg.tiedHead()) continue;          // HF may store the tied copy
            w.put(name, isConv1d(name) ? transpose2d(e.getValue()) : e.getValue());
        }
        return w;
    }

    /** Writes {@code config.json} with Hugging Face GPT2Config keys. */
    public static void writeConfig(Path dir, GPTConfig c, String tokenizer) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("GPT2LMHeadModel");
        o.put("model_type", "gpt2");
        o.put("vocab_size", c.vocabSize());
        o.put("n_positions", c.contextLength());
        o.put("n_ctx", c.contextLength());
        o.put("n_embd", c.embDim());
        o.put("n_layer", c.nLayers());
        o.put("n_head", c.nHeads());
        o.putNull("n_inner");
        o.put("activation_function", "gelu_new");
        o.put("layer_norm_epsilon", c.layerNormEps());
        o.put("resid_pdrop", c.dropRate());
        o.put("embd_pdrop", c.dropRate());
        o.put("attn_pdrop", c.dropRate());
        o.put("tie_word_embeddings", c.tiedHead());
        o.put("qkv_bias", c.qkvBias());
        if (c.vocabSize() == GPTConfig.GPT2_VOCAB) {
            o.put("bos_token_id", 50256);
            o.put("eos_token_id", 50256);
        }
        if (tokenizer != null) o.put("myllm_tokenizer", tokenizer);
        try {
            Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(o) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("config.json") + ": " + e.getMessage(), e);
        }
    }

    /** Reads {@code config.json} (Hugging Face keys; absent extras mean GPT-2's tied head and QKV bias). */
    public static GPTConfig readConfig(Path dir) {
        Path f = dir.resolve("config.json");
        try {
            JsonNode o = JSON.readTree(f.toFile());
            return new GPTConfig(o.path("vocab_size").asInt(GPTConfig.GPT2_VOCAB), o.path("n_positions").asInt(1024),
                    need(o, "n_embd", f), need(o, "n_head", f), need(o, "n_layer", f),
                    (float) o.path("resid_pdrop").asDouble(0.1), o.path("qkv_bias").asBoolean(true),
                    o.path("tie_word_embeddings").asBoolean(true), (float) o.path("layer_norm_epsilon").asDouble(1e-5));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private static int need(JsonNode o, String key, Path f) {
        if (!o.has(key)) throw new IllegalArgumentException(f + ": no '" + key + "'");
        return o.get(key).asInt();
    }
}
