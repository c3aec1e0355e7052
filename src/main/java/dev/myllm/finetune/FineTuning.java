package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTModel;
import dev.myllm.nn.Module;
import dev.myllm.train.AdamW;
import dev.myllm.train.BatchSource;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.ModelStore;
import dev.myllm.train.Objective;
import dev.myllm.train.Trainer;
import java.nio.file.Path;
import java.util.List;

/**
 * The shared {@link Trainer} as the book's fine-tuning runs it (chapters 6 and 7, the DPO notebook): AdamW with decay on every
 * trainable tensor, the book's evaluation rule on fixed lists of batches, and dropout's generator kept in checkpoints.
 */
public final class FineTuning {
    private FineTuning() {
    }

    /**
     * A run's length and rates.
     *
     * @param schedule        the learning rate by step (the book's: constant)
     * @param weightDecay     AdamW's decay, on every trainable tensor (the book's 0.1)
     * @param totalSteps      optimizer steps of the run
     * @param evalEvery       evaluate after steps 1, 1+N, 1+2N, ... (the book prints them as steps 0, N, 2N); 0: never
     * @param checkpointEvery save a checkpoint every N steps; 0: at the end and when interrupted
     */
    public record Settings(LrSchedule schedule, double weightDecay, long totalSteps, int evalEvery, int checkpointEvery) {
    }

    /**
     * A run's optimizer steps: the steps asked for, else what the epochs make.
     *
     * @param steps    the steps asked for (0: the epochs decide)
     * @param byEpochs epochs times batches per epoch
     * @return the run's steps
     */
    public static long totalSteps(long steps, long byEpochs) {
        return steps > 0 ? steps : byEpochs;
    }

    /**
     * The learning rate of a fine-tuning run: the book's constant {@code lr}, unless a warmup or a floor is given; then
     * a linear warmup from the floor to {@code lr} over {@code warmupSteps} (none when not given; at most all but the last
     * step) and half a cosine down to the floor ({@code lr / 10} when not given). A run of one step stays constant.
     *
     * @param lr          the peak rate
     * @param warmupSteps warmup steps, or null (not given)
     * @param minLr       the cosine's floor and the warmup's start, or null (not given)
     * @param totalSteps  the run's steps
     * @return the schedule
     */
    public static LrSchedule schedule(double lr, Long warmupSteps, Double minLr, long totalSteps) {
        if (totalSteps < 2) return new LrSchedule.Constant(lr);
        // pretraining's rule, "not given" spelled as its negative values
        return LrSchedule.forRun(lr, minLr != null ? minLr : -1, warmupSteps != null ? warmupSteps : -1, totalSteps);
    }

    /**
     * The trainer of {@code trained} (the model, or its LoRA wrapper), ready for a listener, metrics and a sampler
     * (a sample after each epoch, as chapter 7 prints one).
     *
     * @param model     the GPT whose dropout generator the checkpoints keep
     * @param val       the validation batches each evaluation reads whole
     * @param trainEval the training batches each evaluation reads whole
     */
    public static Trainer trainer(Module trained, GPTModel model, Objective objective, ModelStore store, BatchSource train,
                                  List<Batch> val, List<Batch> trainEval, Settings s, Path out) {
        AdamW opt = new AdamW(trained.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, s.weightDecay(), AdamW.Decay.ALL));
        return new Trainer(trained, objective, store, opt, s.schedule(), train,
                new Trainer.Options(s.totalSteps(), 1, 0, s.evalEvery(), 0, 0, s.checkpointEvery(), 2), out)
                .evaluation(val, trainEval)
                .evalRule(Trainer.EvalRule.BOOK)
                .rng("dropout", model.dropoutRng());
    }
}
