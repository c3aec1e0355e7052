package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.myllm.model.AttentionRecorder;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.CrossEntropyKernel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.Specials;
import java.util.Arrays;
import java.util.List;

/**
 * {@code POST /v1/inspect}: one forward pass over a text (or ids) that reports its tokens as
 * readable pieces, the attention weights of the layers asked for (all their heads, recorded by
 * {@link AttentionRecorder} in the same pass), and at every position the top next tokens, the
 * actual next token's probability, rank and loss; and {@code GET /v1/inspect/model}, what the
 * playground shows about the model.
 */
final class Inspector {
    /** Most attention weights one answer may carry (about 6 bytes each in JSON). */
    static final long MAX_WEIGHTS = 4_000_000;
    private static final int MAX_TOP_K = 20;

    private final ServedModel served;
    private final int maxTokens;

    Inspector(ServedModel served, int maxTokens) {
        this.served = served;
        this.maxTokens = maxTokens;
    }

    /** The analysis of one request body. */
    ObjectNode inspect(JsonNode body) {
        Fields f = new Fields(body);
        GPTModel model = served.model();
        GPTConfig cfg = model.config();
        String name = f.string("model", null);
        if (name != null && !name.equals(served.name())) {
            throw ApiError.notFound("model", "model_not_found", "The model '" + Fields.shown(name) + "' does not exist");
        }
        int[] ids = ids(f, cfg);
        int t = ids.length;
        int[] layers = indices(f, "layers", cfg.nLayers(), new int[0]);
        int[] heads = indices(f, "heads", cfg.nHeads(), null);
        if (heads == null) heads = all(cfg.nHeads());
        int topK = f.integer("top_k", 5, 0, MAX_TOP_K);
        int decimals = f.integer("decimals", 3, 1, 6);
        boolean lastLogits = f.bool("last_logits", false);
        long weights = (long) layers.length * heads.length * t * (t + 1L) / 2;
        if (weights > MAX_WEIGHTS) {
            throw ApiError.badField("layers", "that many layers and heads over " + t + " tokens make " + weights
                    + " attention weights, more than this server sends at once (" + MAX_WEIGHTS + "); ask for fewer layers or heads");
        }

        Pass pass = run(model, ids, layers, topK, lastLogits);
        ObjectNode o = Answers.JSON.createObjectNode();
        o.put("object", "inspection").put("model", served.name());
        o.put("text", served.text(ids));
        o.set("tokens", tokens(ids));
        ArrayNode preds = o.putArray("predictions");
        double sum = 0;
        for (int i = 0; i < t; i++) {
            ObjectNode p = preds.addObject();
            p.put("position", i);
            ArrayNode top = p.putArray("top");
            for (int r = 0; r < Math.min(topK, pass.top[i].length); r++) {
                int id = pass.top[i][r];
                top.addObject().put("id", id).put("piece", piece(id)).put("prob", (float) Math.exp(pass.logit(i, r) - pass.lse[i]));
            }
            if (i + 1 < t) {
                int next = ids[i + 1];
                double loss = pass.lse[i] - pass.nextLogit[i];
                sum += loss;
                p.put("next_id", next).put("next_prob", (float) Math.exp(-loss)).put("next_rank", pass.nextRank[i])
                        .put("loss", (float) loss);
            }
        }
        if (t > 1) {
            double mean = sum / (t - 1);
            o.put("loss", (float) mean).put("perplexity", (float) Math.exp(mean));
        } else {
            o.putNull("loss").putNull("perplexity");
        }
        ArrayNode att = o.putArray("attention");
        double scale = Math.pow(10, decimals);
        for (int l : layers) {
            ObjectNode layer = att.addObject().put("layer", l);
            ArrayNode hs = layer.putArray("heads");
            for (int h : heads) {
                ObjectNode head = hs.addObject().put("head", h);
                // written as JSON text at once: a tree node per weight would be hundreds of thousands of objects
                StringBuilder rows = new StringBuilder(t * (t + 1) / 2 * (decimals + 3) + 4 * t).append('[');
                for (int i = 0; i < t; i++) {
                    rows.append(i == 0 ? "[" : ",[");  // keys 0..i: the rest is masked, always 0
                    for (int j = 0; j <= i; j++) {
                        if (j > 0) rows.append(',');
                        rows.append(Math.rint(pass.attention.weight(l, h, i, j) * scale) / scale);
                    }
                    rows.append(']');
                }
                head.putRawValue("weights", new RawValue(rows.append(']').toString()));
            }
        }
        if (lastLogits) {
            ArrayNode row = o.putArray("last_logits");
            for (int v = 0; v < cfg.vocabSize(); v++) row.add(Math.rint(pass.lastRow[v] * 1e4) / 1e4);
        }
        o.putObject("usage").put("prompt_tokens", t).put("total_tokens", t);
        return o;
    }

    /**
     * The forward pass's numbers per position: the top next tokens, the log-sum-exp of the logits,
     * the actual next token's logit and rank; the last row of logits when asked for; the weights.
     */
    private static final class Pass {
        final int[][] top;
        final float[][] topLogits;
        final double[] lse;
        final float[] nextLogit;
        final int[] nextRank;
        float[] lastRow;
        AttentionRecorder attention;

        Pass(int t) {
            top = new int[t][];
            topLogits = new float[t][];
            lse = new double[t];
            nextLogit = new float[t];
            nextRank = new int[t];
        }

        float logit(int i, int r) {
            return topLogits[i][r];
        }
    }

    /** Rows of logits made at once: a (T, V) array of a long text would be tens of megabytes, copied around. */
    static int chunkRows = 128;

    /**
     * One forward pass up to the final LayerNorm (recording the weights of {@code layers}), then the
     * output head a chunk of positions at a time, each chunk reduced at once to what the answer
     * needs. The head runs with the packed kernel, whose rows do not depend on how many share a
     * product, so every number is the one the whole {@code (T, V)} logits would give.
     */
    private static Pass run(GPTModel model, int[] ids, int[] layers, int topK, boolean lastLogits) {
        int t = ids.length, vocab = model.config().vocabSize();
        Pass p = new Pass(t);
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            AttentionRecorder.Recording<Tensor> r = AttentionRecorder.record(model.config().nLayers(), layers,
                    () -> model.finalHidden(ids, 1, t, null, false));
            p.attention = r.weights();
            Tensor hidden = r.result();                                   // (1, T, C)
            for (int r0 = 0; r0 < t; r0 += chunkRows) {
                int n = Math.min(chunkRows, t - r0), from = r0;
                try (Arena chunk = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                    float[] logits = model.head(hidden.narrow(1, r0, n)).data();    // (1, n, V)
                    // log-sum-exp by the loss kernel scoring uses (the last row's target is a stand-in: only lse is read)
                    int[] targets = new int[n];
                    for (int i = 0; i < n; i++) targets[i] = from + i + 1 < t ? ids[from + i + 1] : 0;
                    float[] lse = new float[n];
                    CrossEntropyKernel.forward(logits, targets, n, vocab, CrossEntropyKernel.IGNORE_INDEX, lse);
                    Parallel.forRange(n, 1, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            int row = i * vocab, pos = from + i;
                            p.lse[pos] = lse[i];
                            p.top[pos] = top(logits, row, vocab, topK);
                            p.topLogits[pos] = new float[p.top[pos].length];
                            for (int k = 0; k < p.top[pos].length; k++) p.topLogits[pos][k] = logits[row + p.top[pos][k]];
                            if (pos + 1 < t) {
                                float x = logits[row + ids[pos + 1]];
                                int rank = 1; // 1 for the most likely token; ties count in the token's favour
                                for (int v = 0; v < vocab; v++) if (logits[row + v] > x) rank++;
                                p.nextLogit[pos] = x;
                                p.nextRank[pos] = rank;
                            }
                        }
                    });
                    if (lastLogits && r0 + n == t) p.lastRow = Arrays.copyOfRange(logits, (n - 1) * vocab, n * vocab);
                }
            }
        }
        return p;
    }

    /** The ids of the {@code k} largest of {@code x[o..o+n)}, largest first (the lower id first on ties). */
    static int[] top(float[] x, int o, int n, int k) {
        k = Math.min(k, n);
        if (k == 0) return new int[0]; // top_k 0: no alternatives (the loop below compares with the k-th best)
        int[] best = new int[k];
        int size = 0;
        for (int v = 0; v < n; v++) {
            float xv = x[o + v];
            if (size == k && xv <= x[o + best[k - 1]]) continue;
            int pos = size < k ? size++ : k - 1;
            while (pos > 0 && x[o + best[pos - 1]] < xv) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = v;
        }
        return best;
    }

    private int[] ids(Fields f, GPTConfig cfg) {
        boolean text = f.has("text"), ids = f.has("ids");
        // param names the field to act on: the one to drop (ids, text being the usual one) or the one to send
        if (text && ids) throw ApiError.badField("ids", "send exactly one of text (a string) or ids (a list of token ids), not both");
        if (!text && !ids) throw ApiError.badField("text", "text is required: send text (a string) or ids (a list of token ids)");
        int[] out;
        if (text) {
            String s = f.string("text", "");
            out = served.tokenizer().encode(s, Specials.ALLOW);
            if (out.length == 0) throw ApiError.badField("text", "text must not be empty");
        } else {
            JsonNode arr = f.get("ids");
            if (!arr.isArray() || arr.isEmpty()) throw ApiError.badField("ids", "ids must be a non-empty list of token ids");
            if (arr.size() > maxTokens) throw tooLong("ids", arr.size(), cfg);
            out = Fields.tokenIds(arr, "ids", "ids", cfg.vocabSize());
        }
        if (out.length > Math.min(maxTokens, cfg.contextLength())) throw tooLong(text ? "text" : "ids", out.length, cfg);
        return out;
    }

    private ApiError tooLong(String field, int n, GPTConfig cfg) {
        return ApiError.badField(field, field + " has " + n + " tokens; this server inspects at most "
                + Math.min(maxTokens, cfg.contextLength()) + " (--inspect-max-tokens " + maxTokens + ", context " + cfg.contextLength() + ")");
    }

    /** A list of distinct indices below {@code n}, the string "all", or {@code fallback} when absent. */
    private static int[] indices(Fields f, String field, int n, int[] fallback) {
        JsonNode v = f.get(field);
        if (v == null) return fallback;
        if (v.isTextual() && v.asText().equals("all")) return all(n);
        if (!v.isArray()) throw ApiError.badField(field, field + " must be a list of indices or \"all\"");
        boolean[] seen = new boolean[n];
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = v.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToInt() || x.asInt() < 0 || x.asInt() >= n) { // 2^64 is not 0
                throw ApiError.badField(field, field + "[" + i + "] must be an index in [0, " + n + "), got " + Fields.shown(x));
            }
            if (seen[x.asInt()]) throw ApiError.badField(field, field + " lists " + x + " twice");
            seen[x.asInt()] = true;
            out[i] = x.asInt();
        }
        return out;
    }

    private static int[] all(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** The tokens as ids and readable pieces; {@code split} marks a token holding bytes of a character cut in two. */
    private ArrayNode tokens(int[] ids) {
        ArrayNode out = Answers.JSON.createArrayNode();
        byte[][] bytes = new byte[ids.length][];
        for (int i = 0; i < ids.length; i++) bytes[i] = served.decoder().bytes(ids[i]);
        List<Pieces.Piece> pieces = Pieces.of(bytes);
        for (int i = 0; i < ids.length; i++) {
            Pieces.Piece p = pieces.get(i);
            ObjectNode o = out.addObject().put("id", ids[i]).put("piece", p.text());
            if (p.split()) o.put("split", true);
        }
        return out;
    }

    /** One token alone as a readable piece. */
    private String piece(int id) {
        return Pieces.of(new byte[][]{served.decoder().bytes(id)}).getFirst().text();
    }

    /** What the playground's model panel shows: the configuration, parameter counts and prompt format. */
    ObjectNode modelInfo() {
        GPTConfig c = served.model().config();
        ObjectNode o = Answers.JSON.createObjectNode();
        o.put("object", "model_info").put("model", served.name()).put("tokenizer", served.tokenizer().name())
                .put("eos_id", served.eosId()).put("inspect_max_tokens", Math.min(maxTokens, c.contextLength()));
        o.putObject("config").put("vocab_size", c.vocabSize()).put("n_positions", c.contextLength()).put("n_embd", c.embDim())
                .put("n_head", c.nHeads()).put("n_layer", c.nLayers()).put("head_dim", c.headDim()).put("dropout", c.dropRate())
                .put("qkv_bias", c.qkvBias()).put("tied_head", c.tiedHead()).put("layer_norm_epsilon", c.layerNormEps());
        o.putObject("parameters").put("total", c.parameterCount())
                .put("token_embedding", (long) c.vocabSize() * c.embDim())
                .put("position_embedding", (long) c.contextLength() * c.embDim())
                .put("per_block", c.blockParameterCount()).put("blocks", c.nLayers() * c.blockParameterCount())
                .put("final_norm", 2L * c.embDim()).put("head", c.headParameterCount())
                .put("bytes_float32", c.weightBytes());
        ChatTemplate chat = served.chat();
        String marker = "\u0000TEXT\u0000";
        String rendered = chat.render(List.of(new ChatTemplate.Message("user", marker)));
        int at = rendered.indexOf(marker);
        ObjectNode fmt = o.putObject("prompt_format").put("name", chat.name());
        if (at >= 0) fmt.put("prefix", rendered.substring(0, at)).put("suffix", rendered.substring(at + marker.length()));
        return o;
    }
}
