package dev.myllm.tokenizer;

/**
 * GPT-2's pre-tokenizer, {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+},
 * as a hand-written scanner: the same pieces as the regex with Java's Unicode character classes
 * (what jtokkit compiles), several times faster than running the regex.
 */
public final class Gpt2PreTokenizer {
    /** Receives each piece as a range of the text. */
    @FunctionalInterface
    public interface PieceSink {
        void piece(int start, int end);
    }

    static final byte LETTER = 0, NUMBER = 1, SPACE = 2, OTHER = 3;
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) ASCII[c] = classifySlow(c);
    }

    private Gpt2PreTokenizer() {
    }

    /** The class of a code point, as {@code \p{L}}, {@code \p{N}} and {@code \s} under UNICODE_CHARACTER_CLASS see it. */
    static byte classify(int cp) {
        return cp < 128 ? ASCII[cp] : classifySlow(cp);
    }

    private static byte classifySlow(int cp) {
        int t = Character.getType(cp);
        switch (t) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> {
                return LETTER;
            }
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> {
                return NUMBER;
            }
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> {
                return SPACE;
            }
            default -> {
                // java.util.regex's White_Space: the separators above plus \t..\r and NEL.
                return (cp >= 0x9 && cp <= 0xD) || cp == 0x85 ? SPACE : OTHER;
            }
        }
    }

    private static int cpAt(CharSequence s, int i, int end) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end) {
            char d = s.charAt(i + 1);
            if (Character.isLowSurrogate(d)) return Character.toCodePoint(c, d);
        }
        return c;
    }

    /** Splits {@code text[start, end)} into pieces, in order. */
    public static void split(CharSequence text, int start, int end, PieceSink sink) {
        int i = start;
        while (i < end) {
            int cp = cpAt(text, i, end);
            int cls = classify(cp);
            int n = Character.charCount(cp);
            if (cp == '\'' && i + 1 < end) {
                int len = contraction(text, i + 1, end);
                if (len > 0) {
                    sink.piece(i, i + 1 + len);
                    i += 1 + len;
                    continue;
                }
            }
            if (cls != SPACE) {
                int j = run(text, i + n, end, cls);
                sink.piece(i, j);
                i = j;
                continue;
            }
            // A space followed by a letter, number or other character joins the run that follows.
            if (cp == ' ' && i + 1 < end) {
                int cp2 = cpAt(text, i + 1, end);
                int cls2 = classify(cp2);
                if (cls2 != SPACE) {
                    int j = run(text, i + 1 + Character.charCount(cp2), end, cls2);
                    sink.piece(i, j);
                    i = j;
                    continue;
                }
            }
            // Whitespace run: \s+(?!\S) leaves its last character for the next piece when text follows.
            int j = i + n;
            int lastStart = i;
            while (j < end) {
                int c = cpAt(text, j, end);
                if (classify(c) != SPACE) break;
                lastStart = j;
                j += Character.charCount(c);
            }
            if (j < end && lastStart > i) j = lastStart;
            sink.piece(i, j);
            i = j;
        }
    }

    private static int run(CharSequence text, int j, int end, int cls) {
        while (j < end) {
            int c = cpAt(text, j, end);
            if (classify(c) != cls) break;
            j += Character.charCount(c);
        }
        return j;
    }

    /** Length of a contraction suffix (s, t, re, ve, m, ll, d) starting at {@code i}, or 0. */
    private static int contraction(CharSequence t, int i, int end) {
        char c = t.charAt(i);
        if (c == 's' || c == 't' || c == 'm' || c == 'd') return 1;
        if (i + 1 < end) {
            char d = t.charAt(i + 1);
            if ((c == 'r' && d == 'e') || (c == 'v' && d == 'e') || (c == 'l' && d == 'l')) return 2;
        }
        return 0;
    }
}
