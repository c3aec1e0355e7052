package dev.myllm;

import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.TokenRule;
import dev.myllm.finetune.Trainable;

import java.nio.file.Path;

/**
 * How {@link TextClassifier#finetune} turns a language model into a classifier, with the book's chapter 6
 * defaults: start from {@link #of(Path, String, Path)} and change what you need with the {@code with...} methods.
 *
 * @param model       the GPT model directory or model file to start from (a new head is put on it), or a classifier
 *                    directory (its head, which must know the data's labels, is kept)
 * @param data        a labelled CSV/TSV/JSONL file ({@code label} and {@code text} columns) or a dataset name
 *                    ({@code sms-spam}, {@code spam}); balanced per class, then split 70/10/20 into training, validation and test
 * @param out         the run directory (checkpoints, {@code model/}, {@code metrics.jsonl}, {@code loss.png})
 * @param trainable   what trains; the rest is frozen ({@link Trainable#LORA}: set through {@link #withLoRA})
 * @param tokenRule   which position the head reads
 * @param maxLength   tokens per text, cut and padded (0: the dataset's own, spam's 256 cut to the context, else the
 *                    longest training text)
 * @param epochs      passes over the training split
 * @param batchSize   texts per step
 * @param lr          learning rate (constant, or the peak of the run's warmup + cosine)
 * @param weightDecay AdamW weight decay (all parameters, as the book)
 * @param evalEvery   evaluation every N steps (0: never)
 * @param evalBatches batches per evaluation
 * @param seed        seed of the split, the new head, the shuffling and dropout (LoRA's adapters: seed + 1)
 * @param lora        LoRA's rank, alpha and scale rule when {@code trainable} is {@link Trainable#LORA} (appendix E), else
 *                    null (dropped when another choice of what trains is given)
 * @param run         the run controls, as the command's: {@link TuningRun#book()} (the epochs decide the length, a constant
 *                    rate, no dropout) or steps, warmup + cosine, a time limit, dropout, checkpoints, resume
 */
public record ClassifierOptions(Path model, String data, Path out, Trainable trainable, TokenRule tokenRule, int maxLength,
                                int epochs, int batchSize, double lr, double weightDecay, int evalEvery, int evalBatches, long seed,
                                LoRA.Settings lora, TuningRun run) implements RunControls<ClassifierOptions> {
    /**
     * Checks every value; a bad one is an {@link IllegalArgumentException} naming it. The factories and {@code with...}
     * methods make their options through this constructor, so they throw as it does.
     *
     * @throws IllegalArgumentException when a value is missing or out of range, naming it
     */
    public ClassifierOptions {
        if (run == null) throw new IllegalArgumentException("run: the run controls are required; start from TuningRun.book()");
        if (model == null) throw new IllegalArgumentException("model: a GPT model directory is required");
        if (data == null || data.isBlank()) throw new IllegalArgumentException("data: a labelled file or dataset name is required");
        if (out == null) throw new IllegalArgumentException("out: the run directory is required");
        if (trainable == null) throw new IllegalArgumentException("trainable: what trains is required");
        if (trainable == Trainable.LORA && lora == null) throw new IllegalArgumentException("trainable: LoRA needs its rank and alpha; use withLoRA(rank, alpha)");
        if (trainable != Trainable.LORA) lora = null;
        if (maxLength < 0) throw new IllegalArgumentException("maxLength must be >= 0, got " + maxLength);
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
        if (weightDecay < 0) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        if (evalEvery < 0 || evalBatches < 0) throw new IllegalArgumentException("evalEvery and evalBatches must be >= 0");
    }

    /**
     * The options with the book's run controls ({@link TuningRun#book()}), as before they could be chosen.
     *
     * @param model       the model to start from
     * @param data        the data
     * @param out         the run directory
     * @param trainable   what trains
     * @param tokenRule   which position the head reads
     * @param maxLength   the most tokens of a batch (a text)
     * @param epochs      passes over the training split
     * @param batchSize   records per step
     * @param lr          AdamW learning rate
     * @param weightDecay AdamW weight decay
     * @param evalEvery   evaluation every N steps (0: never)
     * @param evalBatches batches per evaluation
     * @param seed        the seed
     * @param lora        LoRA's settings with LoRA, else null
     */
    public ClassifierOptions(Path model, String data, Path out, Trainable trainable, TokenRule tokenRule, int maxLength,
                             int epochs, int batchSize, double lr, double weightDecay, int evalEvery, int evalBatches, long seed,
                             LoRA.Settings lora) {
        this(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, TuningRun.book());
    }

    /**
     * The options without LoRA (what trains is not {@link Trainable#LORA}), as before LoRA could be chosen.
     *
     * @param model       the GPT model directory or model file, or a classifier directory
     * @param data        a labelled file or dataset name
     * @param out         the run directory
     * @param trainable   what trains
     * @param tokenRule   which position the head reads
     * @param maxLength   tokens per text (0: the dataset's own, else the longest training text)
     * @param epochs      passes over the training split
     * @param batchSize   texts per step
     * @param lr          learning rate (constant)
     * @param weightDecay AdamW weight decay
     * @param evalEvery   evaluation every N steps (0: never)
     * @param evalBatches batches per evaluation
     * @param seed        seed of the split, the new head, the shuffling and dropout
     */
    public ClassifierOptions(Path model, String data, Path out, Trainable trainable, TokenRule tokenRule, int maxLength,
                             int epochs, int batchSize, double lr, double weightDecay, int evalEvery, int evalBatches, long seed) {
        this(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, null);
    }

    /**
     * The book's settings, as {@code myllm finetune classify}'s: last block trainable, last position, 5 epochs of 8,
     * lr 5e-5, weight decay 0.1, evaluation every 50 steps on 5 batches.
     *
     * @param model the GPT model directory
     * @param data  a labelled file or dataset name
     * @param out   the run directory
     * @return the options
     */
    public static ClassifierOptions of(Path model, String data, Path out) {
        return new ClassifierOptions(model, data, out, Trainable.LAST_BLOCK, TokenRule.LAST, 0, 5, 8, 5e-5, 0.1, 50, 5, 123);
    }

    /**
     * The same with another choice of what trains.
     *
     * @param t what trains
     * @return the changed options
     */
    public ClassifierOptions withTrainable(Trainable t) {
        return new ClassifierOptions(model, data, out, t, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, run);
    }

    /**
     * The same with low-rank adapters (appendix E) on every linear layer and the output head training, besides the new
     * head, the rest frozen; the update's factor is alpha/rank (the current book and PEFT). The book's notebook trains
     * them at a learning rate of 8e-4 ({@link #withTraining}); {@link #of} keeps chapter 6's 5e-5.
     *
     * @param rank  the adapters' rank r (the book: 16)
     * @param alpha alpha (the book: 16)
     * @return the changed options
     */
    public ClassifierOptions withLoRA(int rank, double alpha) {
        if (rank < 1) throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        return new ClassifierOptions(model, data, out, Trainable.LORA, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery,
                evalBatches, seed, new LoRA.Settings(rank, alpha, LoRA.Scale.ALPHA_OVER_RANK), run);
    }

    /**
     * The same with another token rule.
     *
     * @param r the position the head reads
     * @return the changed options
     */
    public ClassifierOptions withTokenRule(TokenRule r) {
        return new ClassifierOptions(model, data, out, trainable, r, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, run);
    }

    /**
     * The same with another text length (0: the dataset's own, else the longest training text).
     *
     * @param tokens tokens per text
     * @return the changed options
     */
    public ClassifierOptions withMaxLength(int tokens) {
        return new ClassifierOptions(model, data, out, trainable, tokenRule, tokens, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, run);
    }

    /**
     * The same with another number of epochs, batch size and learning rate.
     *
     * @param epochs    passes over the data
     * @param batchSize texts per step
     * @param lr        learning rate
     * @return the changed options
     */
    public ClassifierOptions withTraining(int epochs, int batchSize, double lr) {
        return new ClassifierOptions(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, run);
    }

    /**
     * The same with another evaluation schedule.
     *
     * @param every   steps between evaluations (0: none)
     * @param batches batches per evaluation
     * @return the changed options
     */
    public ClassifierOptions withEvaluation(int every, int batches) {
        return new ClassifierOptions(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, every, batches, seed, lora, run);
    }

    /**
     * The same with another seed.
     *
     * @param seed the seed
     * @return the changed options
     */
    public ClassifierOptions withSeed(long seed) {
        return new ClassifierOptions(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, run);
    }

    /**
     * The same with other run controls (length, time limit, schedule, dropout, checkpoints, resume).
     *
     * @param r the run controls
     * @return the changed options
     */
    @Override
    public ClassifierOptions withRun(TuningRun r) {
        return new ClassifierOptions(model, data, out, trainable, tokenRule, maxLength, epochs, batchSize, lr, weightDecay, evalEvery, evalBatches, seed, lora, r);
    }
}
