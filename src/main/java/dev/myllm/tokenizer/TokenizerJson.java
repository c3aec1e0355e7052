package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A byte-level BPE vocabulary as a Hugging Face {@code tokenizer.json} (BPE model, GPT-2's
 * byte-level pre-tokenizer and decoder, control tokens as added tokens), with every field
 * {@code tokenizers} writes and its reader requires, so {@code transformers} loads it: how a tokenizer
 * that came embedded in a GGUF file is kept beside a model directory, where {@link Tokenizers#load}
 * reads it back.
 */
public final class TokenizerJson {
    private TokenizerJson() {
    }

    /** The JSON text of {@code v}; unused placeholder rows are left out. */
    public static String of(BpeVocab v) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        // the fields in tokenizers' order, each as it writes them for a byte-level BPE
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode model = om.createObjectNode();
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < v.tokens().size(); id++) {
            int type = id < v.types().length ? v.types()[id] : BpeVocab.NORMAL;
            if (type == BpeVocab.UNUSED) continue;
            if (type == BpeVocab.CONTROL) {
                // the reader requires all four flags; a special token is matched as written, not normalized
                added.addObject().put("id", id).put("content", v.tokens().get(id)).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", false).put("special", true);
            }
            if (!vocab.has(v.tokens().get(id))) vocab.put(v.tokens().get(id), id);
        }
        // "a b" lines, which every version of tokenizers reads (pairs came with 0.20); a byte-level token has no space
        ArrayNode merges = model.putArray("merges");
        for (String m : v.merges()) merges.add(m);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(om, false, true));
        root.set("post_processor", byteLevel(om, true, false));
        root.set("decoder", byteLevel(om, true, true));
        root.set("model", model);
        try {
            return om.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** tokenizers' ByteLevel part: only the pre-tokenizer's settings change ids (no prefix space, GPT-2's regex). */
    private static ObjectNode byteLevel(ObjectMapper om, boolean addPrefixSpace, boolean trimOffsets) {
        return om.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", addPrefixSpace).put("trim_offsets", trimOffsets)
                .put("use_regex", true);
    }
}
