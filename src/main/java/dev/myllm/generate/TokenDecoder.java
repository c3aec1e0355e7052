package dev.myllm.generate;

/** The bytes a token id stands for (GPT-2 tokens are byte strings, and may cut a UTF-8 character in two). */
@FunctionalInterface
public interface TokenDecoder {
    byte[] bytes(int id);
}
