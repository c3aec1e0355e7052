package dev.myllm;

import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;

import java.nio.file.Path;

/**
 * How {@link Myllm#finetunePreferences} preference-tunes an instruction-tuned model with direct preference optimization
 * (DPO), with the defaults of the book's DPO notebook: start from {@link #of(Path, String, Path)} and change what you
 * need with the {@code with...} methods.
 *
 * @param model       the GPT model directory to start from (usually an instruction-tuned one); it is also DPO's
 *                    reference, frozen
 * @param data        {@code preferences} (the book's 1,100 records with a chosen and a rejected answer), {@code synthetic},
 *                    or a JSON/JSONL file of {@code instruction}, {@code input}, {@code chosen}, {@code rejected} records;
 *                    split as the book (85% train, 10% test, rest validation)
 * @param out         the run directory (checkpoints, {@code model/}, {@code metrics.jsonl}, {@code loss.png},
 *                    {@code dpo-eval.json})
 * @param format      the prompt format; null: the one saved with the model, else the book's Alpaca
 * @param epochs      passes over the training split
 * @param batchSize   preference pairs per step
 * @param maxLength   each batch cut to this many tokens (and to the model's context)
 * @param lr          AdamW learning rate (constant unless the run asks for warmup + cosine)
 * @param weightDecay AdamW weight decay (every tensor, as the notebook)
 * @param beta        DPO's beta: how far the tuned model may move from the reference
 * @param rpoAlpha    the weight of the chosen answer's mean per-token negative log-likelihood added to the loss (RPO), so
 *                    the chosen answers stay likely; 0: the book's DPO
 * @param appendEos   end the chosen and the rejected answer with the end-of-text token, so that DPO compares complete
 *                    answers (one that is the start of the other is otherwise no different answer); the book appends none
 * @param keepBest    keep the model of the evaluation with the highest validation reward accuracy (the latest of equals;
 *                    the last step counts as one) instead of the last one, saved to {@code out/best/} when reached, then as
 *                    {@code model/}; chosen on the validation pairs, so its accuracy there flatters it
 * @param evalEvery   evaluation after steps 1, 1+N, 1+2N, ... (the book's rule; 0: never)
 * @param evalBatches training batches per evaluation (every validation pair is read)
 * @param seed        seed of the shuffling (LoRA's adapters: seed + 1)
 * @param trainable   what trains, the rest frozen: {@link Trainable#ALL} (the book's), the last one or two blocks, or LoRA
 *                    adapters ({@link Trainable#LORA}: set through {@link #withLoRA}, the reference then being the model
 *                    with its adapters off); not {@link Trainable#HEAD}, a classifier's
 * @param lora        LoRA's rank, alpha and scale rule when {@code trainable} is {@link Trainable#LORA}, else null (dropped
 *                    when another choice of what trains is given)
 * @param run         the run controls, as the command's: {@link TuningRun#book()} (the epochs decide the length, a constant
 *                    rate, no dropout) or steps, a time limit, warmup + cosine, dropout, checkpoints, resume
 */
public record PreferenceOptions(Path model, String data, Path out, PromptFormat format, int epochs, int batchSize, int maxLength,
                                double lr, double weightDecay, double beta, double rpoAlpha, boolean appendEos, boolean keepBest,
                                int evalEvery, int evalBatches, long seed, Trainable trainable, LoRA.Settings lora, TuningRun run) implements RunControls<PreferenceOptions> {
    /**
     * Checks every value; a bad one is an {@link IllegalArgumentException} naming it. The factories and {@code with...}
     * methods make their options through this constructor, so they throw as it does.
     *
     * @throws IllegalArgumentException when a value is missing or out of range, naming it
     */
    public PreferenceOptions {
        if (run == null) throw new IllegalArgumentException("run: the run controls are required; start from TuningRun.book()");
        if (model == null) throw new IllegalArgumentException("model: a GPT model directory is required");
        if (data == null || data.isBlank()) throw new IllegalArgumentException("data: a dataset name or preference file is required");
        if (out == null) throw new IllegalArgumentException("out: the run directory is required");
        TuningChecks.training(epochs, batchSize, maxLength, lr, weightDecay, evalEvery, evalBatches);
        if (!(beta > 0)) throw new IllegalArgumentException("beta must be positive, got " + beta);
        if (!(rpoAlpha >= 0) || Double.isInfinite(rpoAlpha)) throw new IllegalArgumentException("rpoAlpha must be >= 0, got " + rpoAlpha);
        lora = TuningChecks.trainable(trainable, lora);
    }

    /**
     * The options with the book's run controls ({@link TuningRun#book()}), as before they could be chosen.
     *
     * @param model       the model to start from
     * @param data        the data
     * @param out         the run directory
     * @param format      the prompt format (null: the saved one, else Alpaca)
     * @param epochs      passes over the training split
     * @param batchSize   records per step
     * @param maxLength   the most tokens of a batch (a text)
     * @param lr          AdamW learning rate
     * @param weightDecay AdamW weight decay
     * @param beta        DPO's beta
     * @param rpoAlpha    the RPO term's weight (0: none)
     * @param appendEos   end the answers with end-of-text
     * @param keepBest    keep the best evaluation's model
     * @param evalEvery   evaluation every N steps (0: never)
     * @param evalBatches batches per evaluation
     * @param seed        the seed
     * @param trainable   what trains
     * @param lora        LoRA's settings with LoRA, else null
     */
    public PreferenceOptions(Path model, String data, Path out, PromptFormat format, int epochs, int batchSize, int maxLength,
                             double lr, double weightDecay, double beta, double rpoAlpha, boolean appendEos, boolean keepBest,
                             int evalEvery, int evalBatches, long seed, Trainable trainable, LoRA.Settings lora) {
        this(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, TuningRun.book());
    }

    /**
     * The book's settings, as {@code myllm finetune dpo}'s: every weight trains against a frozen copy of the model, the
     * model's saved format (else Alpaca), 1 epoch of 8 pairs cut to 1,024 tokens, lr 5e-6, weight decay 0.01, beta 0.1,
     * no RPO term, no end-of-text after the answers, the last model kept, evaluation every 5 steps on 5 training
     * batches and every validation pair, seed 123.
     *
     * @param model the GPT model directory (usually instruction-tuned)
     * @param data  a dataset name or preference file
     * @param out   the run directory
     * @return the options
     */
    public static PreferenceOptions of(Path model, String data, Path out) {
        return new PreferenceOptions(model, data, out, null, 1, 8, 1024, 5e-6, 0.01, 0.1, 0, false, false, 5, 5, 123, Trainable.ALL, null);
    }

    /**
     * The same with another choice of what trains: {@link Trainable#ALL}, {@link Trainable#LAST_BLOCK} or
     * {@link Trainable#LAST_TWO_BLOCKS} (with the final LayerNorm; the tied embedding stays frozen), as
     * {@code --trainable}; LoRA's adapters through {@link #withLoRA}.
     *
     * @param t what trains
     * @return the changed options
     */
    public PreferenceOptions withTrainable(Trainable t) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, t, lora, run);
    }

    /**
     * The same with low-rank adapters (appendix E) on every linear map of the blocks (and on the output head when it is
     * not tied to the token embedding), the model itself frozen, as {@code --trainable lora}: the reference is the same
     * weights with the adapters switched off (no second copy in memory), the update's factor is alpha/rank, the
     * adapters are drawn from seed + 1, and {@code model/} gets them merged in, with the adapter alone in
     * {@code model/adapter/} (PEFT files).
     *
     * @param rank  the adapters' rank r (the command line's default: 16)
     * @param alpha alpha (the command line's default: 16)
     * @return the changed options
     */
    public PreferenceOptions withLoRA(int rank, double alpha) {
        if (rank < 1) throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, Trainable.LORA, new LoRA.Settings(rank, alpha, LoRA.Scale.ALPHA_OVER_RANK), run);
    }

    /**
     * The same with another prompt format.
     *
     * @param f the format the pairs are put in (and saved with the model)
     * @return the changed options
     */
    public PreferenceOptions withFormat(PromptFormat f) {
        return new PreferenceOptions(model, data, out, f, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another number of epochs, batch size and learning rate.
     *
     * @param epochs    passes over the data
     * @param batchSize pairs per step
     * @param lr        learning rate
     * @return the changed options
     */
    public PreferenceOptions withTraining(int epochs, int batchSize, double lr) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another weight decay.
     *
     * @param decay AdamW's weight decay, on every tensor that trains
     * @return the changed options
     */
    public PreferenceOptions withWeightDecay(double decay) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, decay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another batch length.
     *
     * @param tokens the most tokens of a batch
     * @return the changed options
     */
    public PreferenceOptions withMaxLength(int tokens) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, tokens, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another beta.
     *
     * @param beta DPO's beta (the book's 0.1)
     * @return the changed options
     */
    public PreferenceOptions withBeta(double beta) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with RPO's term (Pang et al. 2024; TRL's {@code rpo_alpha}), as {@code --rpo-alpha}.
     *
     * @param alpha the weight of the chosen answer's mean per-token negative log-likelihood; 0: the book's DPO
     * @return the changed options
     */
    public PreferenceOptions withRpoAlpha(double alpha) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, alpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with the answers ended by the end-of-text token, or not, as {@code --append-eos}.
     *
     * @param append whether the chosen and the rejected answer end with end-of-text
     * @return the changed options
     */
    public PreferenceOptions withAppendEos(boolean append) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, append, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same keeping the best evaluation's model instead of the last one, or not, as {@code --keep-best}.
     *
     * @param keep whether to keep the model with the highest validation reward accuracy
     * @return the changed options
     */
    public PreferenceOptions withKeepBest(boolean keep) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keep,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with another evaluation schedule.
     *
     * @param every   steps between evaluations (0: none)
     * @param batches training batches per evaluation
     * @return the changed options
     */
    public PreferenceOptions withEvaluation(int every, int batches) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                every, batches, seed, trainable, lora, run);
    }

    /**
     * The same with another seed.
     *
     * @param seed the seed of the shuffling
     * @return the changed options
     */
    public PreferenceOptions withSeed(long seed) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, run);
    }

    /**
     * The same with other run controls (length, time limit, schedule, dropout, checkpoints, resume).
     *
     * @param r the run controls
     * @return the changed options
     */
    @Override
    public PreferenceOptions withRun(TuningRun r) {
        return new PreferenceOptions(model, data, out, format, epochs, batchSize, maxLength, lr, weightDecay, beta, rpoAlpha, appendEos, keepBest,
                evalEvery, evalBatches, seed, trainable, lora, r);
    }
}
