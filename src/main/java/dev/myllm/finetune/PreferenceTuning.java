package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.ModelStore;
import dev.myllm.train.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The DPO notebook's preference tuning made ready once, for {@code myllm finetune dpo} and the library: the split's
 * preference pairs in a prompt format, collated by the notebook's rule into training and validation batches, the DPO
 * objective (with RPO's term when asked) against a reference model, its trainer, and the final report on every
 * validation pair.
 */
public final class PreferenceTuning {
    /**
     * How pairs become batches.
     *
     * @param maxLength tokens a batch is cut to (and to the model's context); the notebook's 1,024
     * @param batchSize pairs a batch; the notebook's 8
     * @param shuffle   a new order of the training pairs each epoch (the notebook shuffles)
     * @param seed      seed of that order
     * @param appendEos end the chosen and the rejected answer with the end-of-text token (the notebook appends none)
     */
    public record Batching(int maxLength, int batchSize, boolean shuffle, long seed, boolean appendEos) {
    }

    /**
     * The objective's settings.
     *
     * @param beta     DPO's beta (the notebook's 0.1)
     * @param rpoAlpha the weight of the chosen answer's mean per-token NLL added to the loss (RPO); 0: the notebook's DPO
     */
    public record Dpo(double beta, double rpoAlpha) {
    }

    /**
     * How a run ends: the final model's report on the validation pairs and what {@code dpo-eval.json} says of that model.
     *
     * @param report the report of the model the run ends with
     * @param model  which model it is (step, why it was kept): empty unless a best model was kept
     * @param kept   the kept model, or null when none was asked for or saved
     */
    public record Outcome(PreferenceReport report, Map<String, Object> model, KeepBest.Kept kept) {
        /**
         * Writes the report, with {@link #model}, as {@code dpo-eval.json}.
         *
         * @param file where to write it
         */
        public void write(Path file) {
            report.write(file, model);
        }
    }

    private final GPTModel policy;
    private final LoRAModel lora;
    private final InstructionData.Split split;
    private final PreferenceBatches train;
    private final List<Batch> validation;
    private final DpoObjective objective;

    /**
     * Encodes and batches {@code split}'s training and validation pairs for {@code policy}.
     *
     * @param policy    the GPT being tuned
     * @param lora      its adapters ({@link LoRAModel#attach}), or null when its own weights train
     * @param reference the starting model the rewards are measured against ({@link #reference})
     * @param source    names a part of the data ("train", "val") in messages
     * @throws IllegalArgumentException one line: no end-of-text id to pad with, a record without a chosen or rejected
     *                                  answer, a prompt too long for the context, no validation records
     */
    public PreferenceTuning(GPTModel policy, LoRAModel lora, LanguageModel reference, Tokenizer tok, PromptFormat format,
                            InstructionData.Split split, Batching b, Dpo dpo, UnaryOperator<String> source) {
        this.policy = policy;
        this.lora = lora;
        this.split = split;
        int pad = InstructionTuning.padId(tok, policy);
        int allowed = Math.min(b.maxLength(), policy.config().contextLength());
        int end = b.appendEos() ? pad : -1;
        PreferenceDataset trainData = new PreferenceDataset(split.train(), tok, format, allowed, source.apply("train"), end);
        PreferenceDataset valData = new PreferenceDataset(split.val(), tok, format, allowed, source.apply("val"), end);
        if (valData.size() == 0) throw new IllegalArgumentException(source.apply("val") + ": no validation records");
        train = new PreferenceBatches(trainData, new BatchOrder(trainData.size(), b.batchSize(), b.shuffle(), true, b.seed()), pad, allowed);
        // every validation pair, in order: each evaluation and the final report read them all
        validation = new PreferenceBatches(valData, new BatchOrder(valData.size(), b.batchSize(), false, false, b.seed()), pad, allowed).first(0);
        objective = new DpoObjective(policy::forward, reference, dpo.beta(), dpo.rpoAlpha());
    }

    /**
     * DPO's reference, the starting model frozen: with LoRA the policy itself with its adapters off (its frozen weights
     * are the starting ones), else a second copy, so that only one model trains.
     *
     * @param lora the policy's adapters, or null
     * @param copy loads the starting model once more (called only without LoRA)
     * @return the reference, evaluated without dropout
     */
    public static LanguageModel reference(LoRAModel lora, Supplier<GPTModel> copy) {
        if (lora != null) return lora.reference();
        GPTModel m = copy.get();
        m.setTrainable(false);
        m.eval();
        return m::forward;
    }

    /** The training batches (none when the pairs are fewer than a batch: the caller says so in its own words). */
    public PreferenceBatches trainBatches() {
        return train;
    }

    /** Every validation pair's batch, in order. */
    public List<Batch> validationBatches() {
        return validation;
    }

    public int trainRecords() {
        return split.train().size();
    }

    public int valRecords() {
        return split.val().size();
    }

    /** The loss and the evaluation's rewards, margins and accuracies. */
    public DpoObjective objective() {
        return objective;
    }

    /**
     * The notebook's training loop for this data: the shared fine-tuning trainer on the policy (or its adapters), each
     * evaluation's loss and rewards on every validation pair and on the first {@code evalBatches} training batches,
     * logged with the step.
     *
     * @param store       saves the policy (checkpoints and {@code model/})
     * @param s           the run's length and rates
     * @param evalBatches training batches per evaluation
     * @param out         the run directory
     * @return the trainer, not yet run
     */
    public Trainer trainer(ModelStore store, FineTuning.Settings s, int evalBatches, Path out) {
        return FineTuning.trainer(lora != null ? lora : policy, policy, objective, store, train, validation, train.first(evalBatches), s, out)
                .metricsAtEvaluation();
    }

    /**
     * After training: the report of the final model on every validation pair, by task family for synthetic data; with
     * {@code best} (not null), the model it kept when one of its evaluations scored higher than the last model, which
     * then replaces the policy's weights and {@code out/model/}.
     *
     * @param best the run's {@link KeepBest}, or null
     * @param out  the run directory
     * @return the report and the model it is of
     */
    public Outcome finish(KeepBest best, Path out) {
        Map<String, Object> about = new LinkedHashMap<>();
        PreferenceReport report = validationReport();
        KeepBest.Kept kept = null;
        if (best != null && best.saved()) {
            Map<String, Object> b = best.read();
            double bestAccuracy = ((Number) b.get("val_reward_accuracy")).doubleValue();
            double last = report.overall().get("reward_accuracy");
            // the last step is a candidate too when no evaluation fell on it (the latest of equals wins)
            if (best.lastEvaluated() != best.lastStep() && last >= bestAccuracy) {
                about.put("step", best.lastStep());
                about.put("kept", "the last model: no evaluation scored higher on validation (" + best.setting() + ")");
                kept = new KeepBest.Kept(true, best.lastStep(), last, bestAccuracy);
            } else {
                // the kept model replaces the last one: model/ and the report are the best evaluation's
                best.restore(out.resolve("model"));
                objective.policyChanged();
                about.put("step", b.get("step"));
                about.put("kept", "the evaluation with the highest validation reward accuracy (" + best.setting() + ")");
                kept = new KeepBest.Kept(false, ((Number) b.get("step")).longValue(), bestAccuracy, bestAccuracy);
                report = validationReport();
            }
        }
        return new Outcome(report, about, kept);
    }

    private PreferenceReport validationReport() {
        policy.eval();
        return PreferenceReport.of(split.val(), objective.pairs(validation, 0));
    }
}
