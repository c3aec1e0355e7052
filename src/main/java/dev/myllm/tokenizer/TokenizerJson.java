package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A byte-level BPE vocabulary as a Hugging Face {@code tokenizer.json} (BPE model, GPT-2's
 * byte-level pre-tokenizer and decoder, control tokens as added tokens): how a tokenizer that
 * came embedded in a GGUF file is kept beside a model directory, where {@link Tokenizers#load}
 * reads it back.
 */
public final class TokenizerJson {
    private TokenizerJson() {
    }

    /** The JSON text of {@code v}; unused placeholder rows are left out. */
    public static String of(BpeVocab v) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode model = om.createObjectNode();
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < v.tokens().size(); id++) {
            int type = id < v.types().length ? v.types()[id] : BpeVocab.NORMAL;
            if (type == BpeVocab.UNUSED) continue;
            if (type == BpeVocab.CONTROL) {
                added.addObject().put("id", id).put("content", v.tokens().get(id)).put("special", true);
            }
            if (!vocab.has(v.tokens().get(id))) vocab.put(v.tokens().get(id), id);
        }
        ArrayNode merges = model.putArray("merges");
        for (String m : v.merges()) merges.add(m);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        root.set("model", model);
        try {
            return om.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
