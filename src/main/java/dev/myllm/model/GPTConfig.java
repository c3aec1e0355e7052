package dev.myllm.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a GPT model (the book's {@code GPT_CONFIG_124M} dictionary): vocabulary, context
 * length, embedding width, heads, layers, dropout, whether the QKV projection has a bias, whether
 * the output head shares the token embedding, and LayerNorm's epsilon.
 *
 * <p>The {@code gpt2-*} presets are OpenAI's GPT-2 as published on the Hugging Face hub (QKV bias,
 * tied head, dropout 0.1), so their weights load into them; the book's variant without QKV bias
 * and with a separate head is {@code preset("gpt2-small").withQkvBias(false).withTiedHead(false)}.
 */
public record GPTConfig(int vocabSize, int contextLength, int embDim, int nHeads, int nLayers,
                        float dropRate, boolean qkvBias, boolean tiedHead, float layerNormEps) {
    /** GPT-2's vocabulary size (50,000 merges + 256 bytes + {@code <|endoftext|>}). */
    public static final int GPT2_VOCAB = 50257;

    public GPTConfig {
        if (vocabSize < 1) throw new IllegalArgumentException("vocab size must be positive, got " + vocabSize);
        if (contextLength < 1) throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        if (embDim < 1 || nHeads < 1 || embDim % nHeads != 0) {
            throw new IllegalArgumentException("embedding width " + embDim + " must be a positive multiple of the " + nHeads + " heads");
        }
        if (nLayers < 1) throw new IllegalArgumentException("layers must be positive, got " + nLayers);
        if (!(dropRate >= 0 && dropRate < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropRate);
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer norm epsilon must be positive, got " + layerNormEps);
    }

    private static GPTConfig gpt2(int emb, int heads, int layers) {
        return new GPTConfig(GPT2_VOCAB, 1024, emb, heads, layers, 0.1f, true, true, 1e-5f);
    }

    private static final Map<String, GPTConfig> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("gpt2-small", gpt2(768, 12, 12));     // 124M
        PRESETS.put("gpt2-medium", gpt2(1024, 16, 24));   // 355M
        PRESETS.put("gpt2-large", gpt2(1280, 20, 36));    // 774M
        PRESETS.put("gpt2-xl", gpt2(1600, 25, 48));       // 1558M
        // small models with GPT-2's vocabulary, for tests and demos on a laptop
        PRESETS.put("gpt2-tiny", new GPTConfig(GPT2_VOCAB, 128, 64, 4, 2, 0.0f, true, true, 1e-5f));
        PRESETS.put("gpt2-mini", new GPTConfig(GPT2_VOCAB, 256, 256, 4, 4, 0.1f, true, true, 1e-5f));
        // the book's GPT_CONFIG_124M (no QKV bias, separate head) and chapter 5's context of 256
        PRESETS.put("book-124m", new GPTConfig(GPT2_VOCAB, 1024, 768, 12, 12, 0.1f, false, false, 1e-5f));
        PRESETS.put("book-124m-256", new GPTConfig(GPT2_VOCAB, 256, 768, 12, 12, 0.1f, false, false, 1e-5f));
    }

    /** The preset names, in order of size within each family. */
    public static java.util.Set<String> presetNames() {
        return java.util.Collections.unmodifiableSet(PRESETS.keySet());
    }

    /** True for the book's presets, which default to the book's initialisation and training semantics. */
    public static boolean isBookPreset(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).startsWith("book-");
    }

    /** A preset by name ({@code gpt2} is an alias of {@code gpt2-small}, as on the hub). */
    public static GPTConfig preset(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        if (key.equals("gpt2")) key = "gpt2-small";
        GPTConfig c = PRESETS.get(key);
        if (c == null) throw new IllegalArgumentException("unknown preset '" + name + "'; choose one of " + String.join(", ", PRESETS.keySet()));
        return c;
    }

    public GPTConfig withContextLength(int n) {
        return new GPTConfig(vocabSize, n, embDim, nHeads, nLayers, dropRate, qkvBias, tiedHead, layerNormEps);
    }

    public GPTConfig withVocabSize(int n) {
        return new GPTConfig(n, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tiedHead, layerNormEps);
    }

    public GPTConfig withDropRate(float p) {
        return new GPTConfig(vocabSize, contextLength, embDim, nHeads, nLayers, p, qkvBias, tiedHead, layerNormEps);
    }

    public GPTConfig withQkvBias(boolean on) {
        return new GPTConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, on, tiedHead, layerNormEps);
    }

    public GPTConfig withTiedHead(boolean on) {
        return new GPTConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, on, layerNormEps);
    }

    /** Width of one attention head. */
    public int headDim() {
        return embDim / nHeads;
    }

    /** Width of the feed-forward hidden layer (4 × the embedding width, as in GPT-2). */
    public int hiddenDim() {
        return 4 * embDim;
    }

    /** Parameters of one transformer block. */
    public long blockParameterCount() {
        long c = embDim, h = hiddenDim();
        return 2 * c                                  // ln_1
                + 3 * c * c + (qkvBias ? 3 * c : 0)   // attn.c_attn
                + c * c + c                           // attn.c_proj
                + 2 * c                               // ln_2
                + c * h + h                           // mlp.c_fc
                + h * c + c;                          // mlp.c_proj
    }

    /** Parameters of the separate output head ({@code lm_head}), 0 when tied to the token embedding. */
    public long headParameterCount() {
        return tiedHead ? 0 : (long) vocabSize * embDim;
    }

    /** Every parameter of the model as configured (a tied head counted once). */
    public long parameterCount() {
        return (long) vocabSize * embDim + (long) contextLength * embDim // wte, wpe
                + nLayers * blockParameterCount()
                + 2L * embDim                                            // ln_f
                + headParameterCount();
    }

    /** Parameters excluding an output head (the book's "considering weight tying" count). */
    public long parameterCountWithoutHead() {
        return parameterCount() - headParameterCount();
    }

    /** Bytes the float32 weights take. */
    public long weightBytes() {
        return parameterCount() * Float.BYTES;
    }
}
