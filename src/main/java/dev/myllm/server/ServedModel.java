package dev.myllm.server;

import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;

/**
 * The model a server answers with: its weights, tokenizer, the name clients ask for, the chat
 * template that renders messages, and the end-of-text id that stops generation (−1: none).
 */
public record ServedModel(String name, GPTModel model, Tokenizer tokenizer, TokenDecoder decoder,
                          ChatTemplate chat, int eosId, long created) {
    public int contextLength() {
        return model.config().contextLength();
    }

    public int vocabSize() {
        return model.config().vocabSize();
    }
}
