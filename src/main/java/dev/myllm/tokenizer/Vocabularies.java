package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.util.LongLongMap;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
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

    /** A tiktoken file ({@code base64 rank} lines); merge priority is the rank of the merged bytes. */
    public static BpeTokenizer fromTiktoken(String name, InputStream in, Map<String, Integer> specials) throws IOException {
        Map<String, Integer> ranks = new HashMap<>(1 << 17);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                int sp = line.indexOf(' ');
                if (sp < 0) throw new IllegalArgumentException(name + ": line " + lineNo + " is not 'base64 rank'");
                byte[] bytes = Base64.getDecoder().decode(line.substring(0, sp));
                ranks.put(latin1(bytes), Integer.parseInt(line.substring(sp + 1).trim()));
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": bad rank in tiktoken file: " + e.getMessage());
        }
        return fromRanks(name, ranks, specials);
    }

    /** A rank table (bytes as ISO-8859-1 text → id): every split of a token into two tokens is a merge. */
    static BpeTokenizer fromRanks(String name, Map<String, Integer> ranks, Map<String, Integer> specials) {
        int max = 0;
        for (int v : ranks.values()) max = Math.max(max, v);
        byte[][] tokenBytes = new byte[max + 1][];
        int[] byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        LongLongMap merges = new LongLongMap(ranks.size() * 2);
        for (var e : ranks.entrySet()) {
            String tok = e.getKey();
            int id = e.getValue();
            tokenBytes[id] = tok.getBytes(StandardCharsets.ISO_8859_1);
            if (tok.length() == 1) byteToId[tok.charAt(0)] = id;
            for (int k = 1; k < tok.length(); k++) {
                Integer l = ranks.get(tok.substring(0, k));
                Integer r = ranks.get(tok.substring(k));
                if (l != null && r != null) merges.put(((long) l << 32) | r, ((long) id << 32) | id);
            }
        }
        return new BpeTokenizer(name, tokenBytes, byteToId, merges, specials);
    }

    /** OpenAI's GPT-2 files: {@code encoder.json} and {@code vocab.bpe}. */
    public static BpeTokenizer fromEncoderJson(Path encoderJson, Path vocabBpe) throws IOException {
        return fromVocabAndMerges(encoderJson.getFileName().toString(), readJsonMap(encoderJson), readMergesTxt(vocabBpe));
    }

    /** Hugging Face's slow-tokenizer files: {@code vocab.json} and {@code merges.txt}. */
    public static BpeTokenizer fromVocabJson(Path vocabJson, Path mergesTxt) throws IOException {
        return fromVocabAndMerges(vocabJson.getFileName().toString(), readJsonMap(vocabJson), readMergesTxt(mergesTxt));
    }

    /** Hugging Face's {@code tokenizer.json} (a byte-level BPE model; added tokens become specials). */
    public static BpeTokenizer fromTokenizerJson(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE"))) {
            throw new IllegalArgumentException(file + ": model type " + model.path("type").asText() + " is not BPE");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) merges.add(new String[]{m.get(0).asText(), m.get(1).asText()});
            else merges.add(m.asText().split(" ", 2));
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (JsonNode a : root.path("added_tokens")) specials.put(a.path("content").asText(), a.path("id").asInt());
        if (specials.isEmpty()) return fromVocabAndMerges(file.getFileName().toString(), vocab, merges);
        return build(file.getFileName().toString(), vocab, merges, specials);
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
