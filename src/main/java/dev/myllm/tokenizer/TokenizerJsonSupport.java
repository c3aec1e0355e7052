package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which Hugging Face {@code tokenizer.json} files myllm represents exactly: a BPE model over GPT-2's byte-level
 * alphabet, split by GPT-2's regex without a prefix space, with no normalizer, no post-processor that adds tokens and no
 * BPE option that changes the merging. Anything else would read the same file into other ids, so it is refused.
 */
final class TokenizerJsonSupport {
    private TokenizerJsonSupport() {
    }

    /** Refuses {@code root}, read from {@code file}, in one line naming the file, unless myllm tokenizes as it says. */
    static void check(JsonNode root, String file) {
        String why = unsupported(root);
        if (why != null) throw new IllegalArgumentException(file + ": " + why + " (myllm reads byte-level BPE split as GPT-2 splits)");
    }

    private static String unsupported(JsonNode root) {
        JsonNode model = root.path("model");
        // GPT-2's own tokenizer.json names no model type: it was written before tokenizers tagged its models
        String type = model.path("type").isTextual() ? model.get("type").textValue() : "BPE";
        if (!type.equals("BPE")) return "a " + type + " model, not BPE";
        if (present(root.get("normalizer"))) return "its normalizer " + describe(root.get("normalizer")) + " changes the text before it is split";
        // a file that leaves the pre-tokenizer out altogether is a vocabulary written by hand, read as GPT-2's (as always)
        if (root.has("pre_tokenizer")) {
            String why = preTokenizer(root.get("pre_tokenizer"));
            if (why != null) return why;
        }
        if (present(root.get("post_processor")) && !typeOf(root.get("post_processor")).equals("ByteLevel")) {
            return "its post-processor " + describe(root.get("post_processor")) + " adds tokens myllm would not";
        }
        if (present(root.get("decoder")) && !typeOf(root.get("decoder")).equals("ByteLevel")) {
            return "its decoder " + describe(root.get("decoder")) + " is not GPT-2's ByteLevel";
        }
        JsonNode dropout = model.get("dropout");
        if (present(dropout) && dropout.asDouble() != 0) return "its BPE dropout " + dropout.asText() + " makes the ids random";
        for (String affix : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode a = model.get(affix);
            if (a != null && a.isTextual() && !a.textValue().isEmpty()) return "its " + affix + " '" + a.textValue() + "' is not byte-level BPE";
        }
        if (isTrue(model.get("byte_fallback"))) return "its byte_fallback (SentencePiece's <0x..> tokens) is not byte-level BPE";
        if (isTrue(model.get("ignore_merges"))) return "its ignore_merges takes whole words from the vocabulary before merging, as GPT-2 does not";
        return null;
    }

    private static String preTokenizer(JsonNode p) {
        if (!present(p)) return "it has no pre-tokenizer, where GPT-2's ByteLevel maps bytes to the vocabulary's alphabet";
        String type = typeOf(p);
        if (type.equals("Sequence") && p.path("pretokenizers").size() == 1) return preTokenizer(p.path("pretokenizers").get(0));
        if (!type.equals("ByteLevel")) return "its pre-tokenizer " + describe(p) + " is not GPT-2's ByteLevel";
        if (isTrue(p.get("add_prefix_space"))) return "its ByteLevel pre-tokenizer adds a prefix space, which GPT-2's does not";
        JsonNode regex = p.get("use_regex");
        if (regex != null && regex.isBoolean() && !regex.booleanValue()) return "its ByteLevel pre-tokenizer does not split with GPT-2's regex (use_regex false)";
        return null;
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull();
    }

    private static boolean isTrue(JsonNode n) {
        return n != null && n.isBoolean() && n.booleanValue();
    }

    private static String typeOf(JsonNode n) {
        return n.path("type").isTextual() ? n.get("type").textValue() : "(no type)";
    }

    /** The type, and a sequence's parts: {@code Sequence(Split, ByteLevel)}. */
    private static String describe(JsonNode n) {
        String type = typeOf(n);
        JsonNode parts = n.has("pretokenizers") ? n.get("pretokenizers") : n.has("normalizers") ? n.get("normalizers")
                : n.has("processors") ? n.get("processors") : n.get("decoders");
        if (!type.equals("Sequence") || parts == null || !parts.isArray()) return type;
        StringBuilder sb = new StringBuilder("Sequence(");
        for (int i = 0; i < parts.size(); i++) sb.append(i > 0 ? ", " : "").append(describe(parts.get(i)));
        return sb.append(')').toString();
    }
}
