package dev.myllm.generate;

import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Tokenizer;

/** The bytes a token id stands for (GPT-2 tokens are byte strings, and may cut a UTF-8 character in two). */
@FunctionalInterface
public interface TokenDecoder {
    byte[] bytes(int id);

    /**
     * {@code tok}'s bytes for each id; an id with no token decodes to nothing: a padding row past
     * the tokenizer's vocabulary, or a gap in it (a GGUF file's unused placeholder, such as the
     * raw space byte of a vocabulary trained here), which a model can still sample.
     */
    static TokenDecoder of(Tokenizer tok) {
        if (tok instanceof BpeTokenizer b) return id -> b.hasToken(id) ? b.tokenBytes(id) : new byte[0];
        return id -> known(tok, id) ? tok.decodeBytes(new int[]{id}) : new byte[0];
    }

    /** Whether {@code id} is one of {@code tok}'s tokens: not past its vocabulary, nor a gap in it. */
    static boolean known(Tokenizer tok, int id) {
        return tok instanceof BpeTokenizer b ? b.hasToken(id) : id >= 0 && id < tok.vocabSize();
    }
}
