package dev.myllm;

import dev.myllm.model.GPTConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link Myllm#train} trains and how, with the defaults of {@code myllm train}: start from
 * {@link #of(List, Path)} and change what you need with the {@code with...} methods.
 *
 * @param data         the corpus: files, folders, globs, llm.c/nanoGPT {@code .bin} files or a dataset name ({@code austen})
 * @param out          the run directory (checkpoints, {@code model/}, {@code metrics.jsonl}, {@code loss.png})
 * @param preset       the model shape with fresh weights ({@code gpt2-tiny}, {@code gpt2-small}, ...), or null with {@code init}
 * @param init         a model directory to continue from instead of a preset, or null
 * @param tokenizer    {@code gpt2}, {@code simple} or a vocabulary file; null: the {@code init} model's own (as
 *                     {@code myllm train --init} reads it), a resumed run's own, else GPT-2's
 * @param batchSize    sequences per step
 * @param contextLength tokens per sequence (0: the model's, at most 256)
 * @param steps        optimizer steps
 * @param lr           peak learning rate
 * @param warmupSteps  linear warmup steps before a cosine decay to {@code lr / 10} (0: a constant rate)
 * @param weightDecay  AdamW weight decay (matrices only, as nanoGPT)
 * @param gradClip     global gradient-norm clip (0: none)
 * @param evalEvery    validation loss every N steps (0: never)
 * @param evalBatches  batches per validation
 * @param valFraction  the share of the corpus held out for validation (its end)
 * @param seed         seed of the weights, the shuffling and dropout
 * @param resume       continue the run in {@code out} from its latest checkpoint instead of starting one there
 */
public record TrainingOptions(List<String> data, Path out, String preset, Path init, String tokenizer, int batchSize,
                              int contextLength, long steps, double lr, long warmupSteps, double weightDecay, double gradClip,
                              int evalEvery, int evalBatches, double valFraction, long seed, boolean resume) {
    /**
     * Checks every value; a bad one is an {@link IllegalArgumentException} naming it. The factories and {@code with...}
     * methods make their options through this constructor, so they throw as it does.
     *
     * @throws IllegalArgumentException when a value is missing or out of range, naming it
     */
    public TrainingOptions {
        if (data == null || data.stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("data: give files, folders, .bin files or a dataset name");
        data = List.copyOf(data);
        if (data.isEmpty()) throw new IllegalArgumentException("data: give files, folders, .bin files or a dataset name");
        if (out == null) throw new IllegalArgumentException("out: the run directory is required");
        if ((preset == null) == (init == null)) throw new IllegalArgumentException("give exactly one of preset and init");
        if (preset != null) {
            try {
                GPTConfig.preset(preset); // a mistyped name is refused here, not when the run starts
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("preset: " + e.getMessage(), e);
            }
        }
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (contextLength < 0) throw new IllegalArgumentException("contextLength must be >= 0, got " + contextLength);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (weightDecay < 0) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        if (gradClip < 0) throw new IllegalArgumentException("gradClip must be >= 0, got " + gradClip);
        if (evalEvery < 0 || evalBatches < 0) throw new IllegalArgumentException("evalEvery and evalBatches must be >= 0");
        if (!(valFraction > 0 && valFraction < 1)) throw new IllegalArgumentException("valFraction must be between 0 and 1, got " + valFraction);
    }

    /**
     * The options of a new run (no {@code resume}), as before resuming existed.
     *
     * @param data          the corpus
     * @param out           the run directory
     * @param preset        the model shape, or null with {@code init}
     * @param init          a model directory to continue from, or null
     * @param tokenizer     {@code gpt2}, {@code simple}, a vocabulary file, or null (the init model's own, else GPT-2's)
     * @param batchSize     sequences per step
     * @param contextLength tokens per sequence (0: the model's, at most 256)
     * @param steps         optimizer steps
     * @param lr            peak learning rate
     * @param warmupSteps   warmup steps (0: a constant rate)
     * @param weightDecay   AdamW weight decay
     * @param gradClip      global gradient-norm clip (0: none)
     * @param evalEvery     validation loss every N steps (0: never)
     * @param evalBatches   batches per validation
     * @param valFraction   the share of the corpus held out for validation
     * @param seed          seed of the weights, the shuffling and dropout
     */
    public TrainingOptions(List<String> data, Path out, String preset, Path init, String tokenizer, int batchSize,
                           int contextLength, long steps, double lr, long warmupSteps, double weightDecay, double gradClip,
                           int evalEvery, int evalBatches, double valFraction, long seed) {
        this(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay, gradClip,
                evalEvery, evalBatches, valFraction, seed, false);
    }

    /**
     * Training a {@code gpt2-tiny} on {@code data} into {@code out}: batch 8, context 128, 200 steps at a constant 4e-4.
     *
     * @param data the corpus
     * @param out  the run directory
     * @return the options
     */
    public static TrainingOptions of(List<String> data, Path out) {
        // the tokenizer unset rather than "gpt2": withInit then means the init model's own, as myllm train --init
        return new TrainingOptions(data, out, "gpt2-tiny", null, null, 8, 128, 200, 4e-4, 0, 0.1, 1.0, 50, 10, 0.1, 123);
    }

    /**
     * The same with a preset shape (and no {@code init}).
     *
     * @param name the preset's name
     * @return the changed options
     */
    public TrainingOptions withPreset(String name) {
        return new TrainingOptions(data, out, name, null, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same, continuing from a model directory (and no preset).
     *
     * @param modelDir the model directory
     * @return the changed options
     */
    public TrainingOptions withInit(Path modelDir) {
        return new TrainingOptions(data, out, null, modelDir, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same with another tokenizer.
     *
     * @param spec {@code gpt2}, {@code simple} or a vocabulary file; null: the init model's own, else GPT-2's
     * @return the changed options
     */
    public TrainingOptions withTokenizer(String spec) {
        return new TrainingOptions(data, out, preset, init, spec, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same with another batch shape.
     *
     * @param batchSize     sequences per step
     * @param contextLength tokens per sequence
     * @return the changed options
     */
    public TrainingOptions withBatch(int batchSize, int contextLength) {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same with another number of steps.
     *
     * @param steps optimizer steps
     * @return the changed options
     */
    public TrainingOptions withSteps(long steps) {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same with another peak learning rate and warmup (0: constant rate).
     *
     * @param lr          peak learning rate
     * @param warmupSteps warmup steps (0: constant rate)
     * @return the changed options
     */
    public TrainingOptions withLearningRate(double lr, long warmupSteps) {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same with another evaluation schedule.
     *
     * @param every   steps between evaluations (0: none)
     * @param batches batches per evaluation
     * @return the changed options
     */
    public TrainingOptions withEvaluation(int every, int batches) {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, every, batches, valFraction, seed, resume);
    }

    /**
     * The same with another seed.
     *
     * @param seed the seed
     * @return the changed options
     */
    public TrainingOptions withSeed(long seed) {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, resume);
    }

    /**
     * The same, continuing the run in {@code out} from its latest checkpoint: weights, AdamW moments, data position and
     * dropout generator, so that training K steps and then resuming to N (with {@code withSteps(N)}) gives the model and
     * per-step losses of training N steps at once. The run may have been started by this library or by
     * {@code myllm train} (each saves its options in the checkpoint as the command does, so either continues the other's
     * runs); another command's run is refused. The settings that change the weights ({@code preset}, {@code batchSize},
     * {@code contextLength}, {@code lr}, {@code warmupSteps}, {@code weightDecay}, {@code gradClip}, {@code valFraction},
     * {@code seed}, and the model's shape and vocabulary) must be the run's own, or the call is refused naming the first
     * that differs, as is a command-started run with a setting these options cannot give ({@code --decay all}, ...);
     * {@code data} and the evaluation may change. A warmup-cosine schedule is laid out over the steps of each call, as
     * {@code myllm train --resume DIR --steps N} lays it out over the new {@code --steps}: resuming with the same
     * {@code steps} continues the schedule exactly, while more steps re-lay the cosine from the resumed step on, so
     * such a split run equals a whole one only at a constant rate.
     *
     * @return the changed options
     */
    public TrainingOptions withResume() {
        return new TrainingOptions(data, out, preset, init, tokenizer, batchSize, contextLength, steps, lr, warmupSteps, weightDecay,
                gradClip, evalEvery, evalBatches, valFraction, seed, true);
    }
}
