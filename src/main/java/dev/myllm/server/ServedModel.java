package dev.myllm.server;

import dev.myllm.finetune.GPTClassifier;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;

/**
 * The model a server answers with: its weights, tokenizer, the name clients ask for, the chat
 * template that renders messages, and the end-of-text id that stops generation (−1: none). For a
 * classifier directory {@code classifier} is set (and {@code model} is its body): the server then
 * answers {@code /v1/classify} instead of generating.
 */
public record ServedModel(String name, GPTModel model, Tokenizer tokenizer, TokenDecoder decoder,
                          ChatTemplate chat, int eosId, long created, GPTClassifier classifier) {
    /** A language model. */
    public ServedModel(String name, GPTModel model, Tokenizer tokenizer, TokenDecoder decoder, ChatTemplate chat, int eosId, long created) {
        this(name, model, tokenizer, decoder, chat, eosId, created, null);
    }

    /** A sequence classifier. */
    public static ServedModel classifier(String name, GPTClassifier c, Tokenizer tokenizer, TokenDecoder decoder, long created) {
        return new ServedModel(name, c.transformer(), tokenizer, decoder, ChatTemplate.transcript(), -1, created, c);
    }

    public int contextLength() {
        return model.config().contextLength();
    }

    public int vocabSize() {
        return model.config().vocabSize();
    }

    /** The text of {@code ids}; an id with no token (a padding row, a gap in the vocabulary) adds nothing, as in a stream. */
    public String text(int[] ids) {
        int[] known = java.util.Arrays.stream(ids).filter(id -> TokenDecoder.known(tokenizer, id)).toArray();
        return tokenizer.decode(known);
    }
}
