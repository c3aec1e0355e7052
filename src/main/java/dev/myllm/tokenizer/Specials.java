package dev.myllm.tokenizer;

/** What an encoder does with special-token text such as {@code <|endoftext|>} found in its input. */
public enum Specials {
    /** Encode it as the special token (tiktoken's {@code allowed_special="all"}). */
    ALLOW,
    /** Encode it as ordinary text (tiktoken's {@code disallowed_special=()}). */
    TEXT,
    /** Refuse the input (tiktoken's default). */
    ERROR
}
