package dev.myllm.tokenizer;

import java.nio.charset.StandardCharsets;

/** Text to token ids and back: the contract every tokenizer (regex, GPT-2 BPE, trained BPE) keeps. */
public interface Tokenizer {
    /** Encodes {@code text}; {@code specials} says what special-token text in it means. */
    int[] encode(String text, Specials specials);

    /** Encodes with tiktoken's default: special-token text in the input is an error. */
    default int[] encode(String text) {
        return encode(text, Specials.ERROR);
    }

    /** The bytes the ids stand for; may end inside a UTF-8 character. */
    byte[] decodeBytes(int[] ids);

    /** The text the ids stand for; an incomplete UTF-8 character becomes U+FFFD. */
    default String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /** Number of ids, specials included: every id is below it. */
    int vocabSize();

    /** The id of {@code <|endoftext|>}, or -1 when the vocabulary has none. */
    int eotId();

    /** A short name for logs (gpt2, simple, a file name). */
    String name();
}
