package dev.myllm.io;

/**
 * llama.cpp's file types that mix K-quants (Q4_K_M, Q4_K_S, Q5_K_S, Q5_K_M): the type its {@code llama_model_quantize}
 * gives each matrix of a GPT-2 (architecture {@code gpt2}, no importance matrix, not {@code --pure}).
 */
public enum GgufMixture {
    Q4_K_M(15, GgufType.Q4_K), Q4_K_S(14, GgufType.Q4_K), Q5_K_S(16, GgufType.Q5_K), Q5_K_M(17, GgufType.Q5_K);

    /** llama.cpp's {@code general.file_type} for the mixture. */
    public final int fileType;
    /** The type of most matrices. */
    public final GgufType base;

    GgufMixture(int fileType, GgufType base) {
        this.fileType = fileType;
        this.base = base;
    }

    /**
     * The type of matrix {@code ggufName} with rows of {@code cols} values, in a model of {@code nLayers} blocks, its
     * head tied or not: {@code llama_tensor_get_type} of llama.cpp's src/llama-quant.cpp for GPT-2, then its
     * fallback for rows that are not whole blocks ({@link GgufType#fallback}).
     */
    GgufType matrixType(String ggufName, long cols, int nLayers, boolean tied) {
        GgufType t = base;
        if (ggufName.equals("output.weight") || tied && ggufName.equals("token_embd.weight")) {
            // the head (the token table, when tied): Q8_0 when rows are not whole super-blocks, else Q6_K
            t = cols % base.blockSize != 0 ? GgufType.Q8_0 : GgufType.Q6_K;
        } else if (ggufName.endsWith(".attn_qkv.weight")) {
            // attn_qkv counts as attn_v; llama.cpp counts it in its tensor order, which is the blocks' order
            int layer = layer(ggufName);
            if ((this == Q4_K_M || this == Q5_K_M) && useMoreBits(layer, nLayers)) t = GgufType.Q6_K;
            if (this == Q4_K_S && layer < 4) t = GgufType.Q5_K;
        } else if (ggufName.endsWith(".ffn_down.weight")) {
            int layer = layer(ggufName);
            if ((this == Q4_K_M || this == Q5_K_M) && useMoreBits(layer, nLayers)) t = GgufType.Q6_K;
            if (this == Q4_K_S && layer < nLayers / 8) t = GgufType.Q5_K;
        }
        return t.fallback(cols);
    }

    /** llama.cpp's {@code use_more_bits}: the first and last eighth of the blocks and every third between. */
    static boolean useMoreBits(int layer, int nLayers) {
        return layer < nLayers / 8 || layer >= 7 * nLayers / 8 || (layer - nLayers / 8) % 3 == 2;
    }

    private static int layer(String ggufName) {
        return Integer.parseInt(ggufName.substring("blk.".length(), ggufName.indexOf('.', "blk.".length())));
    }
}
