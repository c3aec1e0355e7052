package dev.myllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The book's regex tokenizer (chapter 2): words and punctuation as tokens, a vocabulary built from a
 * text; V1 rejects unknown words, V2 maps them to {@code <|unk|>} and knows {@code <|endoftext|>}.
 */
public final class SimpleTokenizer implements Tokenizer {
    public static final String UNK = "<|unk|>";
    public static final String EOT = "<|endoftext|>";
    private static final Pattern SPLIT = Pattern.compile("([,.:;?_!\"()']|--|\\s)");
    private static final Pattern SPACE_BEFORE_PUNCT = Pattern.compile("\\s+([,.?!\"()'])");

    private final Map<String, Integer> strToInt;
    private final String[] intToStr;
    private final boolean unknownAsUnk;

    /** A tokenizer over {@code vocab} (token → id, ids dense from 0); {@code unknownAsUnk} selects V2 behaviour. */
    public SimpleTokenizer(Map<String, Integer> vocab, boolean unknownAsUnk) {
        this.strToInt = Map.copyOf(vocab);
        this.intToStr = new String[vocab.size()];
        for (var e : vocab.entrySet()) intToStr[e.getValue()] = e.getKey();
        this.unknownAsUnk = unknownAsUnk;
        if (unknownAsUnk && !vocab.containsKey(UNK)) {
            throw new IllegalArgumentException("a V2 vocabulary needs the " + UNK + " token");
        }
    }

    /** The V1 tokenizer: vocabulary of the distinct tokens of {@code text}, unknown words are errors. */
    public static SimpleTokenizer v1(String text) {
        return new SimpleTokenizer(buildVocab(text, false), false);
    }

    /** The V2 tokenizer: as V1 plus {@code <|endoftext|>} and {@code <|unk|>} at the end of the vocabulary. */
    public static SimpleTokenizer v2(String text) {
        return new SimpleTokenizer(buildVocab(text, true), true);
    }

    /** The book's preprocessing: split on punctuation, {@code --} and whitespace, drop blank pieces. */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        int last = 0;
        while (m.find()) {
            addPiece(out, text.substring(last, m.start()));
            addPiece(out, m.group(1));
            last = m.end();
        }
        addPiece(out, text.substring(last));
        return out;
    }

    private static void addPiece(List<String> out, String piece) {
        String s = piece.strip();
        if (!s.isEmpty()) out.add(s);
    }

    /** Sorted distinct tokens of {@code text} numbered from 0, optionally followed by the two specials. */
    public static Map<String, Integer> buildVocab(String text, boolean withSpecials) {
        // Python's sorted() orders by code point; String.compareTo orders by UTF-16 unit, equal below U+D800.
        TreeSet<String> words = new TreeSet<>(SimpleTokenizer::compareCodePoints);
        words.addAll(split(text));
        Map<String, Integer> vocab = new HashMap<>();
        for (String w : words) vocab.put(w, vocab.size());
        if (withSpecials) {
            vocab.putIfAbsent(EOT, vocab.size());
            vocab.putIfAbsent(UNK, vocab.size());
        }
        return vocab;
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    @Override
    public int[] encode(String text, Specials specials) {
        List<String> pieces = split(text);
        int[] ids = new int[pieces.size()];
        Integer unk = strToInt.get(UNK);
        for (int i = 0; i < ids.length; i++) {
            String p = pieces.get(i);
            Integer id = strToInt.get(p);
            if (id != null && p.equals(EOT) && specials == Specials.ERROR) {
                throw new IllegalArgumentException("input contains the special token " + EOT
                        + "; allow specials or treat them as text");
            }
            if (id == null) {
                if (!unknownAsUnk) throw new IllegalArgumentException("unknown word: '" + p + "' is not in the vocabulary");
                id = unk;
            }
            ids[i] = id;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= intToStr.length) throw new IllegalArgumentException("token id out of range: " + ids[i]);
            if (i > 0) sb.append(' ');
            sb.append(intToStr[ids[i]]);
        }
        return SPACE_BEFORE_PUNCT.matcher(sb).replaceAll("$1");
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        return decode(ids).getBytes(StandardCharsets.UTF_8);
    }

    /** The token string of one id. */
    public String token(int id) {
        return intToStr[id];
    }

    @Override
    public int vocabSize() {
        return intToStr.length;
    }

    @Override
    public int eotId() {
        Integer id = strToInt.get(EOT);
        return id == null ? -1 : id;
    }

    @Override
    public String name() {
        return unknownAsUnk ? "simple" : "simple-v1";
    }
}
