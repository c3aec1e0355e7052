package dev.myllm.finetune;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Answers instructions with an instruction-tuned model (section 7.6): greedy decoding of the
 * formatted prompt until the end-of-text token (not appended) or {@code maxNewTokens}, then the
 * book's response extraction.
 */
public final class Responder {
    private final GPTModel model;
    private final Tokenizer tok;
    private final PromptFormat format;
    private final Generator generator;
    private final GenerationConfig config;

    public Responder(GPTModel model, Tokenizer tok, TokenDecoder decoder, PromptFormat format, int maxNewTokens) {
        this(model, tok, decoder, format, maxNewTokens, false);
    }

    /**
     * With {@code reusePrompts}, each answer's prefill starts from the positions the last one's prompt shares with this
     * one (a chat's earlier turns, a format's preamble); the answers are the same bits. Only for a model whose weights
     * do not change while the responder is used: kept positions come from the weights of their time.
     */
    public Responder(GPTModel model, Tokenizer tok, TokenDecoder decoder, PromptFormat format, int maxNewTokens, boolean reusePrompts) {
        if (tok.eotId() < 0) throw new IllegalArgumentException("tokenizer " + tok.name() + " has no <|endoftext|> token to stop at");
        this.model = model;
        this.tok = tok;
        this.format = format;
        this.generator = new Generator(model, decoder, reusePrompts);
        this.config = GenerationConfig.greedy(maxNewTokens).withEos(tok.eotId());
    }

    /**
     * The book's sample after each evaluation of instruction tuning: 50 greedy tokens after {@code first}'s prompt
     * (the first validation record), no stop at the end-of-text token; null when the prompt fills the context.
     */
    public static LongFunction<String> bookSample(GPTModel model, Tokenizer tok, PromptFormat format, InstructionExample first) {
        int[] prompt = tok.encode(format.prompt(first), Specials.TEXT);
        if (prompt.length >= model.config().contextLength()) return null;
        Generator gen = new Generator(model, TokenDecoder.of(tok));
        return step -> gen.generate(prompt, GenerationConfig.greedy(50)).text();
    }

    public PromptFormat format() {
        return format;
    }

    /**
     * The book's way (used by evaluation): generate from {@code format_input(entry)} alone, then
     * extract; the model writes the response marker itself.
     */
    public String respond(InstructionExample e) {
        String text = generator.generate(encode(format.prompt(e)), config).text();
        return format.extract(text);
    }

    /**
     * The chat way: the prompt already ends with the response prefix, so every piece of generated
     * text belongs to the answer and can be streamed to {@code onText} as it comes, from its first
     * visible character (the newlines the model writes first belong to the format, not to what a
     * person reads); returns the answer stripped.
     */
    public String stream(InstructionExample e, Consumer<String> onText) {
        boolean[] started = {false};
        String text = generator.generate(encode(format.prompt(e) + format.responsePrefix()), config, piece -> {
            String p = started[0] ? piece : piece.stripLeading();
            if (p.isEmpty()) return;
            started[0] = true;
            onText.accept(p);
        }).text();
        return text.strip();
    }

    /** Whether the chat prompt of {@code e} (with the response prefix) leaves room for at least one new token. */
    public boolean fits(InstructionExample e) {
        return tok.encode(format.prompt(e) + format.responsePrefix(), Specials.TEXT).length < model.config().contextLength();
    }

    private int[] encode(String prompt) {
        int[] ids = tok.encode(prompt, Specials.TEXT);
        int ctx = model.config().contextLength();
        if (ids.length >= ctx) {
            // no "/reset": a conversation refuses a turn that does not fit before it gets here (Conversation.say), so this
            // is a one-shot answer (chat --instruction, respond), which has no conversation to reset
            throw new IllegalArgumentException("the prompt is " + ids.length + " tokens long but the model's context is " + ctx
                    + " tokens: shorten the instruction");
        }
        return ids;
    }
}
