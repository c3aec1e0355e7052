package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.IntList;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A vocabulary learned by {@link BpeTrainer}, encoding as the book's {@code BPETokenizerSimple}: words
 * (a space becomes the Ġ symbol that starts the next word, newlines stand alone) are looked up whole,
 * else merged by left-to-right passes over known pairs. Saved as JSON ({@code "type": "myllm-bpe"}).
 */
public final class TrainedBpe implements Tokenizer {
    /** The id of the space symbol Ġ; ids below it are bytes. */
    public static final int SPACE = 256;
    static final String FORMAT = "myllm-bpe";

    private final Map<String, Integer> specials = new LinkedHashMap<>();
    private final int[][] merges;
    private final int firstMerge;
    private final byte[][] bytes;
    private final Map<Long, Integer> pairToId = new HashMap<>();
    private final Map<String, Integer> symbolsToId = new HashMap<>();
    private String name = "trained-bpe";

    /** A vocabulary with {@code specials} numbered from 257 and {@code merges[i] = {left, right}} making id 257 + specials + i. */
    public TrainedBpe(List<String> specials, int[][] merges) {
        int next = SPACE + 1;
        for (String s : specials) this.specials.put(s, next++);
        this.firstMerge = next;
        this.merges = merges;
        int size = firstMerge + merges.length;
        bytes = new byte[size][];
        String[] symbols = new String[size];
        for (int b = 0; b < 256; b++) {
            bytes[b] = new byte[]{(byte) b};
            symbols[b] = String.valueOf((char) b);
        }
        bytes[SPACE] = new byte[]{' '};
        symbols[SPACE] = "\u0120";
        for (var e : this.specials.entrySet()) bytes[e.getValue()] = e.getKey().getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < merges.length; i++) {
            int a = merges[i][0], b = merges[i][1], z = firstMerge + i;
            if (a < 0 || b < 0 || a >= z || b >= z || bytes[a] == null || bytes[b] == null || specials(a) || specials(b)) {
                throw new IllegalArgumentException("merge " + (i + 1) + " uses an unknown id (" + a + ", " + b + ")");
            }
            byte[] m = new byte[bytes[a].length + bytes[b].length];
            System.arraycopy(bytes[a], 0, m, 0, bytes[a].length);
            System.arraycopy(bytes[b], 0, m, bytes[a].length, bytes[b].length);
            bytes[z] = m;
            symbols[z] = symbols[a] + symbols[b];
            pairToId.putIfAbsent(((long) a << 32) | b, z);
        }
        for (int i = 0; i < size; i++) if (symbols[i] != null) symbolsToId.putIfAbsent(symbols[i], i);
    }

    private boolean specials(int id) {
        return id > SPACE && id < firstMerge;
    }

    /** Merge {@code i}: the pair {left, right} that makes id {@code firstMergeId() + i}. */
    public int[] merge(int i) {
        return merges[i].clone();
    }

    /** The id made by the first merge (257 + number of specials). */
    public int firstMergeId() {
        return firstMerge;
    }

    /** Number of merges learned. */
    public int mergeCount() {
        return merges.length;
    }

    @Override
    public int[] encode(String text, Specials mode) {
        IntList out = new IntList(text.length() / 2 + 8);
        int pos = 0;
        if (mode != Specials.TEXT && !specials.isEmpty()) {
            while (true) {
                int best = -1;
                String bestName = null;
                for (String s : specials.keySet()) {
                    int k = text.indexOf(s, pos);
                    if (k >= 0 && (best < 0 || k < best)) {
                        best = k;
                        bestName = s;
                    }
                }
                if (best < 0) break;
                if (mode == Specials.ERROR) {
                    throw new IllegalArgumentException("input contains the special token " + bestName + " at character " + best
                            + "; allow specials or treat them as text");
                }
                encodeOrdinary(text.substring(pos, best), out);
                out.add(specials.get(bestName));
                pos = best + bestName.length();
            }
        }
        encodeOrdinary(text.substring(pos), out);
        return out.toArray();
    }

    /** Splits into words: a new word starts at each space symbol and around each newline. */
    private void encodeOrdinary(String text, IntList out) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        IntList word = new IntList();
        for (byte x : b) {
            int sym = x == ' ' ? SPACE : x & 0xFF;
            if ((sym == SPACE || sym == '\n') && word.size() > 0) {
                encodeWord(word, out);
                word.clear();
            }
            word.add(sym);
            if (sym == '\n') {
                encodeWord(word, out);
                word.clear();
            }
        }
        if (word.size() > 0) encodeWord(word, out);
    }

    private void encodeWord(IntList word, IntList out) {
        StringBuilder sb = new StringBuilder(word.size());
        for (int i = 0; i < word.size(); i++) sb.append(word.get(i) == SPACE ? '\u0120' : (char) word.get(i));
        Integer whole = symbolsToId.get(sb.toString());
        if (whole != null) {
            out.add(whole);
            return;
        }
        // The book's loop: pass left to right merging any known pair, until a pass merges nothing.
        int[] ids = word.toArray();
        int n = ids.length;
        boolean merged = true;
        while (merged && n > 1) {
            merged = false;
            int w = 0, i = 0;
            while (i < n - 1) {
                Integer z = pairToId.get(((long) ids[i] << 32) | ids[i + 1]);
                if (z != null) {
                    ids[w++] = z;
                    i += 2;
                    merged = true;
                } else {
                    ids[w++] = ids[i++];
                }
            }
            if (i < n) ids[w++] = ids[i];
            n = w;
        }
        out.addAll(ids, 0, n);
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= bytes.length) throw new IllegalArgumentException("token id out of range for " + name + ": " + id);
            out.writeBytes(bytes[id]);
        }
        return out.toByteArray();
    }

    @Override
    public int vocabSize() {
        return bytes.length;
    }

    @Override
    public int eotId() {
        Integer id = specials.get("<|endoftext|>");
        return id == null ? -1 : id;
    }

    @Override
    public String name() {
        return name;
    }

    /** Writes the vocabulary as JSON (atomically). */
    public void save(Path file) {
        byte[] json = jsonBytes();
        AtomicFiles.write(file, out -> out.write(json));
    }

    /** The file {@link #save} writes, as bytes (UTF-8 JSON, indented). */
    public byte[] jsonBytes() {
        ObjectMapper om = new ObjectMapper();
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsBytes(json(om));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JSON {@link #save} writes, on one line: how a GGUF file carries the vocabulary ({@code myllm.tokenizer}). */
    public String toJson() {
        ObjectMapper om = new ObjectMapper();
        try {
            return om.writeValueAsString(json(om));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ObjectNode json(ObjectMapper om) {
        ObjectNode root = om.createObjectNode();
        root.put("type", FORMAT);
        root.put("version", 1);
        root.put("space_id", SPACE);
        ObjectNode sp = root.putObject("specials");
        specials.forEach(sp::put);
        ArrayNode m = root.putArray("merges");
        for (int[] pair : merges) m.addArray().add(pair[0]).add(pair[1]);
        return root;
    }

    /** Reads a vocabulary written by {@link #save}. */
    public static TrainedBpe load(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        return fromJson(root, file);
    }

    static TrainedBpe fromJson(JsonNode root, Path file) {
        return fromJson(root, file.toString(), file.getFileName().toString());
    }

    /**
     * Reads the JSON {@link #toJson} makes, named {@code name}; what is wrong with it is an
     * {@link IllegalArgumentException} of one line starting with {@code where}.
     */
    public static TrainedBpe fromJson(String json, String where, String name) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            String why = dev.myllm.util.JsonFiles.reason(e);
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            throw new IllegalArgumentException(where + ": not valid JSON" + (at >= 0 ? " at character " + at : "") + " (" + why + ")");
        }
        return fromJson(root, where, name);
    }

    private static TrainedBpe fromJson(JsonNode root, String where, String name) {
        if (root == null || !FORMAT.equals(root.path("type").asText())) throw new IllegalArgumentException(where + ": not a myllm-bpe vocabulary");
        List<String> specials = new ArrayList<>();
        int expect = SPACE + 1;
        for (var e : root.path("specials").properties()) {
            if (e.getValue().asInt() != expect++) throw new IllegalArgumentException(where + ": special ids must follow 256 in order");
            if (e.getKey().isEmpty()) throw new IllegalArgumentException(where + ": a special token is empty"); // it would match everywhere
            specials.add(e.getKey());
        }
        JsonNode m = root.path("merges");
        if (!m.isMissingNode() && !m.isArray()) throw new IllegalArgumentException(where + ": \"merges\" is not a list of id pairs");
        int[][] merges = new int[m.size()][];
        for (int i = 0; i < merges.length; i++) {
            JsonNode p = m.get(i);
            // a pair that is not two whole numbers would read as ids 0 (or fail on null) without a word
            if (!p.isArray() || p.size() != 2 || !p.get(0).isInt() || !p.get(1).isInt()) {
                throw new IllegalArgumentException(where + ": merge " + (i + 1) + " is not a pair of ids");
            }
            merges[i] = new int[]{p.get(0).asInt(), p.get(1).asInt()};
        }
        TrainedBpe t;
        try {
            t = new TrainedBpe(specials, merges);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        t.name = name;
        return t;
    }
}
