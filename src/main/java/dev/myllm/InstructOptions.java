package dev.myllm;

import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;

import java.nio.file.Path;

/**
 * How {@link Myllm#finetuneInstructions} instruction-tunes a language model, with the book's chapter 7 defaults:
 * start from {@link #of(Path, String, Path)} and change what you need with the {@code with...} methods.
 *
 * @param model           the GPT model directory to start from
 * @param data            {@code instructions} (the book's 1,100 records), {@code synthetic}, or a JSON/JSONL file of
 *                        {@code instruction}, {@code input}, {@code output} records; split as the book (85% train, 10% test, rest validation)
 * @param out             the run directory (checkpoints, {@code model/}, {@code metrics.jsonl}, {@code loss.png})
 * @param format          the prompt format; null: the one saved with the model, else the book's Alpaca
 * @param epochs          passes over the training split
 * @param batchSize       records per step
 * @param maxLength       each batch cut to this many tokens (and to the model's context)
 * @param lr              AdamW learning rate (constant unless the run asks for warmup + cosine)
 * @param weightDecay     AdamW weight decay (every tensor, as the book)
 * @param maskInstruction leave the prompt's tokens out of the loss (exercise 7.2)
 * @param evalEvery       evaluation after steps 1, 1+N, 1+2N, ... (the book's rule; 0: never)
 * @param evalBatches     batches per evaluation
 * @param seed            seed of the shuffling (LoRA's adapters: seed + 1)
 * @param trainable       what trains, the rest frozen: {@link Trainable#ALL} (the book's full fine-tuning), the last one or
 *                        two blocks, or LoRA adapters ({@link Trainable#LORA}: set through {@link #withLoRA}); not
 *                        {@link Trainable#HEAD}, a classifier's
 * @param lora            LoRA's rank, alpha and scale rule when {@code trainable} is {@link Trainable#LORA} (appendix E), else
 *                        null (dropped when another choice of what trains is given)
 * @param run             the run controls, as the command's: {@link TuningRun#book()} (the epochs decide the length, a constant
 *                        rate, no dropout) or steps, a time limit, warmup + cosine, dropout, checkpoints, resume
 */
public record InstructOptions(Path model, String data, Path out, PromptFormat format, int epochs, int batchSize, int maxLength,
                              double lr, double weightDecay, boolean maskInstruction, int evalEvery, int evalBatches, long seed,
                              Trainable trainable, LoRA.Settings lora, TuningRun run) implements RunControls<InstructOptions> {
    /**
     * Checks every value; a bad one is an {@link IllegalArgumentException} naming it. The factories and {@code with...}
     * methods make their options through this constructor, so they throw as it does.
     *
     * @throws IllegalArgumentException when a value is missing or out of range, naming it
     */
    public InstructOptions {
        if (run == null) throw new IllegalArgumentException("run: the run controls are required; start from TuningRun.book()");
        if (model == null) throw new IllegalArgumentException("model: a GPT model directory is required");
        if (data == null || data.isBlank()) throw new IllegalArgumentException("data: a dataset name or instruction file is required");
        if (out == null) throw new IllegalArgumentException("out: the run directory is required");
        TuningChecks.training(epochs, batchSize, maxLength, lr, weightDecay, evalEvery, evalBatches);
        lora = TuningChecks.trainable(trainable, lora);
    }

    /**
     * The options with the book's run controls ({@link TuningRun#book()}), as before they could be chosen.
     *
     * @param model           the model to start from
     * @param data            the data
     * @param out             the run directory
     * @param format          the prompt format (null: the saved one, else Alpaca)
     * @param epochs          passes over the training split
     * @param batchSize       records per step
     * @param maxLength       the most tokens of a batch (a text)
     * @param lr              AdamW learning rate
     * @param weightDecay     AdamW weight decay
     * @param maskInstruction leave the prompt's tokens out of the loss
     * @param evalEvery       evaluation every N steps (0: never)
     * @param evalBatches     batches per evaluation
     * @param seed            the seed
     * @param trainable       what trains
     * @param lora            LoRA's settings with LoRA, else null
     */
    public InstructOptions(Path model, String data, Path out, PromptFormat format, int epochs, int batchSize, int maxLength,
                           double lr, double weightDecay, boolean maskInstruction, int evalEvery, int evalBatches, long seed,
                           Trainable trainable, LoRA.Settings lora) {
        this(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, TuningRun.book());
    }

    /**
     * The options with every weight training (the book's full fine-tuning), as before what trains could be chosen.
     *
     * @param model           the GPT model directory to start from
     * @param data            a dataset name or instruction file
     * @param out             the run directory
     * @param format          the prompt format (null: the model's saved one, else Alpaca)
     * @param epochs          passes over the training split
     * @param batchSize       records per step
     * @param maxLength       the most tokens of a batch
     * @param lr              AdamW learning rate (constant)
     * @param weightDecay     AdamW weight decay
     * @param maskInstruction leave the prompt's tokens out of the loss
     * @param evalEvery       evaluation after steps 1, 1+N, 1+2N, ... (0: never)
     * @param evalBatches     batches per evaluation
     * @param seed            seed of the shuffling
     */
    public InstructOptions(Path model, String data, Path out, PromptFormat format, int epochs, int batchSize, int maxLength,
                           double lr, double weightDecay, boolean maskInstruction, int evalEvery, int evalBatches, long seed) {
        this(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, Trainable.ALL, null);
    }

    /**
     * The book's settings, as {@code myllm finetune instruct}'s: every weight trains, the model's saved format (else
     * Alpaca), 2 epochs of 8 records cut to 1,024 tokens, lr 5e-5, weight decay 0.1, evaluation every 5 steps on 5
     * batches, seed 123.
     *
     * @param model the GPT model directory
     * @param data  a dataset name or instruction file
     * @param out   the run directory
     * @return the options
     */
    public static InstructOptions of(Path model, String data, Path out) {
        return new InstructOptions(model, data, out, null, 2, 8, 1024, 5e-5, 0.1, false, 5, 5, 123);
    }

    /**
     * The same with another choice of what trains: {@link Trainable#ALL}, {@link Trainable#LAST_BLOCK} or
     * {@link Trainable#LAST_TWO_BLOCKS} (with the final LayerNorm; the tied embedding stays frozen), as
     * {@code --trainable}; LoRA's adapters through {@link #withLoRA}.
     *
     * @param t what trains
     * @return the changed options
     */
    public InstructOptions withTrainable(Trainable t) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, t, lora, run);
    }

    /**
     * The same with low-rank adapters (appendix E) on every linear map of the blocks (and on the output head when it is
     * not tied to the token embedding), the model itself frozen, as {@code --trainable lora}: the update's factor is
     * alpha/rank (the current book and PEFT), the adapters are drawn from seed + 1, and {@code model/} gets them merged
     * in, with the adapter alone in {@code model/adapter/} (PEFT files).
     *
     * @param rank  the adapters' rank r (the command line's default: 16)
     * @param alpha alpha (the command line's default: 16)
     * @return the changed options
     */
    public InstructOptions withLoRA(int rank, double alpha) {
        if (rank < 1) throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed,
                Trainable.LORA, new LoRA.Settings(rank, alpha, LoRA.Scale.ALPHA_OVER_RANK), run);
    }

    /**
     * The same with another prompt format.
     *
     * @param f the format to train (and save with the model)
     * @return the changed options
     */
    public InstructOptions withFormat(PromptFormat f) {
        return new InstructOptions(model, data, out, f, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another number of epochs, batch size and learning rate.
     *
     * @param epochs    passes over the data
     * @param batchSize records per step
     * @param lr        learning rate
     * @return the changed options
     */
    public InstructOptions withTraining(int epochs, int batchSize, double lr) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another batch length.
     *
     * @param tokens the most tokens of a batch
     * @return the changed options
     */
    public InstructOptions withMaxLength(int tokens) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, tokens, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with the prompt's tokens left out of the loss, or not (exercise 7.2).
     *
     * @param mask whether to mask the instruction
     * @return the changed options
     */
    public InstructOptions withMaskedInstruction(boolean mask) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, mask, evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another evaluation schedule.
     *
     * @param every   steps between evaluations (0: none)
     * @param batches batches per evaluation
     * @return the changed options
     */
    public InstructOptions withEvaluation(int every, int batches) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, every, batches, seed, trainable, lora, run);
    }

    /**
     * The same with another seed.
     *
     * @param seed the seed of the shuffling
     * @return the changed options
     */
    public InstructOptions withSeed(long seed) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with other run controls (length, time limit, schedule, dropout, checkpoints, resume).
     *
     * @param r the run controls
     * @return the changed options
     */
    @Override
    public InstructOptions withRun(TuningRun r) {
        return new InstructOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, maskInstruction, evalEvery, evalBatches, seed, trainable, lora, r);
    }
}
