package dev.myllm.server;

import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.PromptFormat;
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

    /**
     * A language model answering chats in {@code format}, the prompt format it was instruction-tuned with (null: a
     * base model, whose chats are a plain transcript), stopping at the tokenizer's end-of-text token when the model has it.
     */
    public static ServedModel generative(String name, GPTModel model, Tokenizer tokenizer, PromptFormat format) {
        int eos = tokenizer.eotId() >= 0 && tokenizer.eotId() < model.config().vocabSize() ? tokenizer.eotId() : -1;
        ChatTemplate chat = format == null ? ChatTemplate.transcript() : ChatTemplate.of(format);
        return new ServedModel(name, model, tokenizer, TokenDecoder.of(tokenizer), chat, eos, System.currentTimeMillis() / 1000);
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
