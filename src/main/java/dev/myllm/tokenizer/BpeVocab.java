package dev.myllm.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE vocabulary in the form GGUF embeds it (llama.cpp's {@code gpt2} tokenizer model):
 * token texts in GPT-2's byte-to-unicode form by id, token types, merge lines {@code "a b"} by rank,
 * and the end-of-text id. Made from our tokenizers for export and turned back into a
 * {@link BpeTokenizer} on import.
 */
public record BpeVocab(List<String> tokens, int[] types, List<String> merges, int eot) {
    /** llama.cpp's token types. */
    public static final int NORMAL = 1, CONTROL = 3, UNUSED = 5;

    /**
     * The vocabulary of {@code tok} padded with unused placeholder tokens to {@code rows} (the
     * model's embedding rows); an {@link IllegalArgumentException} says why a tokenizer cannot be
     * embedded (not byte-level BPE, or larger than the model).
     */
    public static BpeVocab of(Tokenizer tok, int rows) {
        if (tok.vocabSize() > rows) {
            throw new IllegalArgumentException("tokenizer " + tok.name() + " has " + tok.vocabSize() + " ids but the model has " + rows + " embedding rows");
        }
        BpeVocab v = switch (tok) {
            case BpeTokenizer b -> of(b);
            case TrainedBpe t -> of(t);
            default -> throw new IllegalArgumentException("tokenizer " + tok.name() + " is not byte-level BPE with merges, which GGUF's gpt2 tokenizer needs");
        };
        List<String> tokens = new ArrayList<>(v.tokens);
        int[] types = Arrays.copyOf(v.types, rows);
        for (int i = tokens.size(); i < rows; i++) {
            tokens.add("[PAD" + i + "]");
            types[i] = UNUSED;
        }
        return new BpeVocab(tokens, types, v.merges, v.eot);
    }

    private static BpeVocab of(BpeTokenizer b) {
        int n = b.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        int[] types = new int[n];
        Map<Integer, String> specials = new HashMap<>();
        b.specials().forEach((text, id) -> specials.put(id, text));
        // one merge per multi-byte token: the last merge BPE makes when it encodes the token's own bytes
        long[] ranked = new long[n];
        int count = 0;
        int[][] pairs = new int[n][];
        for (int id = 0; id < n; id++) {
            String sp = specials.get(id);
            byte[] bytes = sp == null ? safeBytes(b, id) : null;
            if (sp != null) {
                tokens.add(sp);
                types[id] = CONTROL;
            } else if (bytes == null) {
                tokens.add("[UNUSED" + id + "]");
                types[id] = UNUSED;
            } else {
                tokens.add(ByteUnicode.encode(bytes));
                types[id] = NORMAL;
                if (bytes.length > 1) {
                    long[] last = lastMerge(b, bytes);
                    if (last == null || last[2] != id) {
                        throw new IllegalArgumentException("tokenizer " + b.name() + ": token " + id + " is not what its own bytes encode to, so it has no merge rule");
                    }
                    pairs[id] = new int[]{(int) last[0], (int) last[1]};
                    ranked[count++] = (last[3] << 32) | id;
                }
            }
        }
        long[] order = Arrays.copyOf(ranked, count);
        Arrays.sort(order);
        List<String> merges = new ArrayList<>(count);
        for (long r : order) {
            int[] p = pairs[(int) r];
            merges.add(tokens.get(p[0]) + " " + tokens.get(p[1]));
        }
        return new BpeVocab(tokens, types, merges, b.eotId());
    }

    /** Replays BPE on one token's bytes: {left, right, result, priority} of the final merge, or null. */
    private static long[] lastMerge(BpeTokenizer b, byte[] bytes) {
        int n = bytes.length;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = b.byteId(bytes[i]);
        long[] last = null;
        while (n > 1) {
            int best = -1;
            long bestVal = -1;
            for (int i = 0; i < n - 1; i++) {
                long v = b.mergeOf(ids[i], ids[i + 1]);
                if (v != -1 && (best < 0 || (v >>> 32) < (bestVal >>> 32))) {
                    best = i;
                    bestVal = v;
                }
            }
            if (best < 0) return null;
            last = new long[]{ids[best], ids[best + 1], (int) bestVal, bestVal >>> 32};
            ids[best] = (int) bestVal;
            System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
            n--;
        }
        return last;
    }

    private static byte[] safeBytes(BpeTokenizer b, int id) {
        try {
            return b.tokenBytes(id);
        } catch (IllegalArgumentException e) {
            return null; // an id with no token (a gap in the vocabulary)
        }
    }

    private static BpeVocab of(TrainedBpe t) {
        int n = t.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        int[] types = new int[n];
        Map<String, Integer> seen = new HashMap<>();
        for (int id = 0; id < n; id++) {
            byte[] bytes = t.decodeBytes(new int[]{id});
            boolean special = id > TrainedBpe.SPACE && id < t.firstMergeId();
            String text = special ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : ByteUnicode.encode(bytes);
            // the raw space byte (32) never appears in an encoding (spaces are the Ġ symbol, 256);
            // llama.cpp asserts token texts are unique, so it and any repeated merge result get a placeholder
            if (seen.containsKey(text) || (id == ' ' && !special)) {
                tokens.add("[UNUSED" + id + "]");
                types[id] = UNUSED;
                continue;
            }
            seen.put(text, id);
            tokens.add(text);
            types[id] = special ? CONTROL : NORMAL;
        }
        List<String> merges = new ArrayList<>(t.mergeCount());
        for (int i = 0; i < t.mergeCount(); i++) {
            int[] p = t.merge(i);
            merges.add(ByteUnicode.encode(t.decodeBytes(new int[]{p[0]})) + " " + ByteUnicode.encode(t.decodeBytes(new int[]{p[1]})));
        }
        return new BpeVocab(tokens, types, merges, t.eotId());
    }

    /** The tokenizer these tokens and merges describe: control tokens are specials, unused ones have no bytes. */
    public BpeTokenizer toTokenizer(String name) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (int id = 0; id < tokens.size(); id++) {
            int type = id < types.length ? types[id] : NORMAL;
            if (type == UNUSED) continue;
            if (type == CONTROL) specials.put(tokens.get(id), id);
            vocab.putIfAbsent(tokens.get(id), id);
        }
        List<String[]> pairs = new ArrayList<>(merges.size());
        for (String m : merges) {
            String[] p = m.split(" ", 2);
            if (p.length != 2) throw new IllegalArgumentException(name + ": merge '" + m + "' is not two tokens");
            pairs.add(p);
        }
        try {
            return Vocabularies.build(name, vocab, pairs, specials);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": embedded tokenizer: " + e.getMessage());
        }
    }
}
