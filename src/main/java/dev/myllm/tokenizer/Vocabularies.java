package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.util.IntList;
import dev.myllm.util.LongLongMap;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Loads byte-level BPE vocabularies: tiktoken files (GPT-2's from jtokkit), OpenAI and Hugging Face formats. */
public final class Vocabularies {
    private static final String R50K = "/com/knuddels/jtokkit/r50k_base.tiktoken";
    private static volatile BpeTokenizer gpt2;

    private Vocabularies() {
    }

    /** GPT-2's tokenizer (r50k_base plus {@code <|endoftext|>} = 50256), loaded once. */
    public static BpeTokenizer gpt2() {
        BpeTokenizer t = gpt2;
        if (t == null) {
            synchronized (Vocabularies.class) {
                if (gpt2 == null) {
                    try (InputStream in = Vocabularies.class.getResourceAsStream(R50K)) {
                        if (in == null) throw new IllegalStateException("jtokkit's r50k_base.tiktoken is not on the class path");
                        gpt2 = fromTiktoken("gpt2", in, Map.of("<|endoftext|>", 50256));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                t = gpt2;
            }
        }
        return t;
    }

    /**
     * A tiktoken file ({@code base64 rank} lines); merge priority is the rank of the merged bytes. Read
     * from its bytes and looked up without a string per split (GPT-2's, on every command that uses it,
     * took about 0.3 s, now about half).
     */
    public static BpeTokenizer fromTiktoken(String name, InputStream in, Map<String, Integer> specials) throws IOException {
        byte[] all = in.readAllBytes();
        List<String> tokens = new ArrayList<>(1 << 16);
        IntList ranks = new IntList(1 << 16);
        Base64.Decoder base64 = Base64.getDecoder();
        int lineNo = 0;
        for (int p = 0; p < all.length; ) {
            int end = p;
            while (end < all.length && all[end] != '\n') end++;
            lineNo++;
            int from = p;
            p = end + 1;
            boolean blank = true;
            for (int i = from; i < end && blank; i++) blank = Character.isWhitespace(all[i]);
            if (blank) continue;
            int sp = from;
            while (sp < end && all[sp] != ' ') sp++;
            if (sp == end) throw new IllegalArgumentException(name + ": line " + lineNo + " is not 'base64 rank'");
            try {
                ranks.add(Integer.parseInt(new String(all, sp + 1, end - sp - 1, StandardCharsets.US_ASCII).strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": bad rank in tiktoken file: " + e.getMessage());
            }
            tokens.add(latin1(base64.decode(Arrays.copyOfRange(all, from, sp))));
        }
        return fromRanks(name, tokens, ranks.toArray(), specials);
    }

    /**
     * A rank table (token {@code i}'s bytes as ISO-8859-1 text, its id {@code ids[i]}): every split of a
     * token into two tokens is a merge.
     */
    static BpeTokenizer fromRanks(String name, List<String> tokens, int[] ids, Map<String, Integer> specials) {
        RegionTable table = new RegionTable(tokens.size());
        int max = 0;
        for (int i = 0; i < tokens.size(); i++) {
            table.put(tokens.get(i), ids[i]);
            max = Math.max(max, ids[i]);
        }
        byte[][] tokenBytes = new byte[max + 1][];
        int[] byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        LongLongMap merges = new LongLongMap(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            String tok = tokens.get(i);
            int id = ids[i];
            tokenBytes[id] = tok.getBytes(StandardCharsets.ISO_8859_1);
            if (tok.length() == 1) byteToId[tok.charAt(0)] = id;
            for (int k = 1; k < tok.length(); k++) {
                int l = table.get(tok, 0, k);
                if (l < 0) continue;
                int r = table.get(tok, k, tok.length());
                if (r >= 0) merges.put(((long) l << 32) | r, ((long) id << 32) | id);
            }
        }
        return new BpeTokenizer(name, tokenBytes, byteToId, merges, specials);
    }

    /** Strings to ids, open addressing, looked up by a region of another string (no substring made). */
    private static final class RegionTable {
        private final String[] keys;
        private final int[] values;
        private final int mask;

        RegionTable(int n) {
            int capacity = Integer.highestOneBit(Math.max(2, n) * 2 - 1) << 1;
            keys = new String[capacity];
            values = new int[capacity];
            mask = capacity - 1;
        }

        private static int hash(String s, int from, int to) {
            int h = 0;
            for (int i = from; i < to; i++) h = 31 * h + s.charAt(i);
            return h ^ (h >>> 16);
        }

        void put(String key, int value) {
            int i = hash(key, 0, key.length()) & mask;
            while (keys[i] != null && !keys[i].equals(key)) i = (i + 1) & mask;
            keys[i] = key;
            values[i] = value;
        }

        /** The id of {@code s[from, to)}, or -1. */
        int get(String s, int from, int to) {
            int n = to - from;
            for (int i = hash(s, from, to) & mask; keys[i] != null; i = (i + 1) & mask) {
                if (keys[i].length() == n && keys[i].regionMatches(0, s, from, n)) return values[i];
            }
            return -1;
        }
    }

    /** OpenAI's GPT-2 files: {@code encoder.json} and {@code vocab.bpe}. */
    public static BpeTokenizer fromEncoderJson(Path encoderJson, Path vocabBpe) throws IOException {
        return fromVocabAndMerges(encoderJson.getFileName().toString(), readJsonMap(encoderJson), readMergesTxt(vocabBpe));
    }

    /** Hugging Face's slow-tokenizer files: {@code vocab.json} and {@code merges.txt}. */
    public static BpeTokenizer fromVocabJson(Path vocabJson, Path mergesTxt) throws IOException {
        return fromVocabAndMerges(vocabJson.getFileName().toString(), readJsonMap(vocabJson), readMergesTxt(mergesTxt));
    }

    /**
     * Hugging Face's {@code tokenizer.json} (a byte-level BPE model; added tokens become specials); one that myllm would
     * read into other ids than {@code tokenizers} does ({@link TokenizerJsonSupport}) is refused naming the file.
     */
    public static BpeTokenizer fromTokenizerJson(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        TokenizerJsonSupport.check(root, file.toString());
        JsonNode model = root.path("model");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) merges.add(new String[]{m.get(0).asText(), m.get(1).asText()});
            else merges.add(m.asText().split(" ", 2));
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (JsonNode a : root.path("added_tokens")) specials.put(a.path("content").asText(), a.path("id").asInt());
        try {
            if (specials.isEmpty()) return fromVocabAndMerges(file.getFileName().toString(), vocab, merges);
            return build(file.getFileName().toString(), vocab, merges, specials);
        } catch (IllegalArgumentException e) {
            // a token outside GPT-2's byte alphabet says which token, not which file
            throw e.getMessage().startsWith(file.getFileName().toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static BpeTokenizer fromVocabAndMerges(String name, Map<String, Integer> vocab, List<String[]> merges) {
        Map<String, Integer> specials = new LinkedHashMap<>();
        Integer eot = vocab.get("<|endoftext|>");
        if (eot != null) specials.put("<|endoftext|>", eot);
        return build(name, vocab, merges, specials);
    }

    /** Vocabulary strings are GPT-2's byte-to-unicode text; merge priority is the line index. */
    static BpeTokenizer build(String name, Map<String, Integer> vocab, List<String[]> merges, Map<String, Integer> specials) {
        int max = 0;
        for (int v : vocab.values()) max = Math.max(max, v);
        byte[][] tokenBytes = new byte[max + 1][];
        int[] byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        for (var e : vocab.entrySet()) {
            if (specials.containsKey(e.getKey())) continue;
            byte[] b = ByteUnicode.decode(e.getKey());
            tokenBytes[e.getValue()] = b;
            if (b.length == 1) byteToId[b[0] & 0xFF] = e.getValue();
        }
        LongLongMap table = new LongLongMap(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            Integer l = vocab.get(m[0]), r = vocab.get(m[1]), res = vocab.get(m[0] + m[1]);
            if (l == null || r == null || res == null) {
                throw new IllegalArgumentException(name + ": merge " + (i + 1) + " '" + m[0] + " " + m[1] + "' uses tokens not in the vocabulary");
            }
            table.put(((long) l << 32) | r, ((long) i << 32) | res);
        }
        return new BpeTokenizer(name, tokenBytes, byteToId, table, specials);
    }

    private static Map<String, Integer> readJsonMap(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (!root.isObject()) throw new IllegalArgumentException(file + ": expected a JSON object of token → id");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        root.properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        return vocab;
    }

    private static List<String[]> readMergesTxt(Path file) throws IOException {
        List<String[]> merges = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            String[] p = line.split(" ");
            if (p.length != 2) throw new IllegalArgumentException(file + ": bad merge line '" + line + "'");
            merges.add(p);
        }
        return merges;
    }

    static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
