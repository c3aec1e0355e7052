package dev.myllm.cli;

import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Responder;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;

/** Loads an instruction-tuned model for {@code chat} and {@code eval instruct}: weights, tokenizer and prompt format. */
final class InstructModels {
    private InstructModels() {
    }

    /** The format named by {@code --format}, else the one saved with the adapter or the model, else the book's Alpaca. */
    static PromptFormat format(PromptFormatOption option, ModelOptions model) {
        PromptFormat given = option.given();
        if (given != null) return given;
        PromptFormat saved = model.savedFormat();
        return saved != null ? saved : PromptFormat.ALPACA;
    }

    static Responder responder(ModelOptions model, WeightDtype weights, TokenizerOption tokenizer, PromptFormatOption format, int maxNewTokens, long seed) {
        Tokenizer tok = tokenizer.load(model);
        GPTModel m = weights.build(model, seed);
        GenerateCommand.checkVocab(tok, m);
        if (tok.eotId() < 0 || tok.eotId() >= m.config().vocabSize()) {
            throw new CliException("tokenizer " + tok.name() + " has no <|endoftext|> token the model knows: answers could not end");
        }
        // the weights are fixed for the command's life: a chat's next turn, or the next record's shared preamble, need not be prefilled again
        return new Responder(m, tok, dev.myllm.generate.TokenDecoder.of(tok), format(format, model), maxNewTokens, true);
    }
}
