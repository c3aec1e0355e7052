package dev.myllm.finetune;

import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import java.util.function.LongFunction;
import java.util.function.UnaryOperator;

/**
 * Chapter 7's instruction data made ready once, for {@code myllm finetune instruct} and the library: the split's records in
 * a prompt format, cut to the allowed length and collated by the book's rule into training and validation batches, with
 * the sample answer the book prints during training.
 */
public final class InstructionTuning {
    /**
     * How records become batches.
     *
     * @param maxLength       tokens a batch is cut to (and to the model's context); the book's 1,024
     * @param batchSize       records a batch; the book's 8
     * @param shuffle         a new order of the training records each epoch (the book shuffles)
     * @param seed            seed of that order
     * @param maskInstruction leave the prompt's tokens out of the loss (exercise 7.2)
     */
    public record Batching(int maxLength, int batchSize, boolean shuffle, long seed, boolean maskInstruction) {
    }

    private final GPTModel model;
    private final Tokenizer tokenizer;
    private final PromptFormat format;
    private final InstructionData.Split split;
    private final InstructionBatches train;
    private final InstructionBatches val;

    /**
     * Encodes and batches {@code split}'s training and validation records for {@code model}.
     *
     * @param source names a part of the data ("train", "val") in messages
     * @throws IllegalArgumentException one line: no end-of-text id to pad with, a prompt too long for the context, no
     *                                  validation records
     */
    public InstructionTuning(GPTModel model, Tokenizer tokenizer, PromptFormat format, InstructionData.Split split, Batching b,
                             UnaryOperator<String> source) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.format = format;
        this.split = split;
        int pad = padId(tokenizer, model);
        int allowed = Math.min(b.maxLength(), model.config().contextLength());
        InstructionDataset trainData = new InstructionDataset(split.train(), tokenizer, format, allowed, source.apply("train"));
        InstructionDataset valData = new InstructionDataset(split.val(), tokenizer, format, allowed, source.apply("val"));
        if (valData.size() == 0) throw new IllegalArgumentException(source.apply("val") + ": no validation records");
        train = new InstructionBatches(trainData, new BatchOrder(trainData.size(), b.batchSize(), b.shuffle(), true, b.seed()),
                pad, allowed, b.maskInstruction());
        val = new InstructionBatches(valData, new BatchOrder(valData.size(), b.batchSize(), false, false, b.seed()),
                pad, allowed, b.maskInstruction());
    }

    /**
     * The end-of-text id, which ends every answer and pads the batches (instruction tuning and DPO alike).
     *
     * @throws IllegalArgumentException when the tokenizer has none, or the model's vocabulary does not hold it
     */
    public static int padId(Tokenizer tok, GPTModel model) {
        int pad = tok.eotId();
        if (pad < 0) throw new IllegalArgumentException("tokenizer " + tok.name() + " has no <|endoftext|> to end answers and pad with");
        if (pad >= model.config().vocabSize()) {
            throw new IllegalArgumentException("the end-of-text id " + pad + " is outside the model's vocabulary of " + model.config().vocabSize());
        }
        return pad;
    }

    /** The training batches (none when the records are fewer than a batch: the caller says so in its own words). */
    public InstructionBatches trainBatches() {
        return train;
    }

    public InstructionBatches valBatches() {
        return val;
    }

    public int trainRecords() {
        return split.train().size();
    }

    public int valRecords() {
        return split.val().size();
    }

    public int testRecords() {
        return split.test().size();
    }

    /** The loss: cross-entropy over the answer tokens (and the prompt's unless masked). */
    public InstructionLoss loss() {
        return new InstructionLoss(model);
    }

    /** The book's sample after each epoch: the model's answer to the first validation record; null when its prompt fills the context. */
    public LongFunction<String> bookSample() {
        return Responder.bookSample(model, tokenizer, format, split.val().getFirst());
    }
}
