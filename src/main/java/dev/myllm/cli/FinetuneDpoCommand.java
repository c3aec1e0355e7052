package dev.myllm.cli;

import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.KeepBest;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PreferenceBatches;
import dev.myllm.finetune.PreferenceReport;
import dev.myllm.finetune.PreferenceTuning;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.ModelStore;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code myllm finetune dpo}: the book's direct preference optimization on the shared training loop. */
@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Preference-tune an instruction-tuned GPT with DPO (the book's bonus notebook): a frozen reference copy, "
                + "mean per-token log-probabilities of the response, beta 0.1. Logs loss, chosen/rejected rewards, margin and "
                + "accuracy on train and validation. With --resume DIR the saved options are the defaults.")
final class FinetuneDpoCommand extends InstructTraining {
    @Option(names = "--epochs", defaultValue = "1", description = "Passes over the training data (default ${DEFAULT-VALUE}).")
    int epochs;
    @Option(names = "--lr", defaultValue = "5e-6", description = "AdamW learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay on every tensor (default ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--beta", defaultValue = "0.1", description = "DPO's beta (default ${DEFAULT-VALUE}).")
    double beta;
    @Option(names = "--rpo-alpha", defaultValue = "0", paramLabel = "A",
            description = "Add A x the chosen answer's mean per-token NLL to the DPO loss (RPO, Pang et al. 2024; TRL's rpo_alpha), "
                    + "so the chosen answers stay likely; 0 = the book's DPO (default ${DEFAULT-VALUE}).")
    double rpoAlpha;
    @Option(names = "--append-eos", description = "End the chosen and the rejected answer with the end-of-text token, as the instruction "
            + "collate does, so that DPO compares complete answers (an answer that is the start of the other, 670 against 6700, "
            + "is otherwise no different answer); the book appends none.")
    boolean appendEos;
    @Option(names = "--keep-best", description = "Keep the model of the evaluation with the highest validation reward accuracy (the "
            + "latest of equals; the last step counts as one) instead of the last one: saved to OUT/best/ when reached, then as OUT/model/ and scored in "
            + "dpo-eval.json. Chosen on the validation pairs, so its accuracy there flatters it: judge it on the test split.")
    boolean keepBest;

    @Override
    int epochs() {
        return epochs;
    }

    @Override
    double lr() {
        return lr;
    }

    @Override
    double weightDecay() {
        return weightDecay;
    }

    @Override
    FineTuningMemory.Kind kind() {
        return FineTuningMemory.Kind.DPO;
    }

    @Override
    public void run() {
        prepare();
        if (!(beta > 0)) throw new CliException("--beta must be positive, got " + beta);
        if (!(rpoAlpha >= 0) || Double.isInfinite(rpoAlpha)) throw new CliException("--rpo-alpha must be >= 0, got " + rpoAlpha);
        InstructionData.Split split = split();
        PromptFormat f = promptFormat();
        Tokenizer tok = tokenizer();
        GPTModel policy = loadModel();
        LoRAModel lora = attachLoRA(policy);
        LanguageModel reference = PreferenceTuning.reference(lora, this::loadModel);
        PreferenceTuning dpo;
        try {
            dpo = new PreferenceTuning(policy, lora, reference, tok, f, split, new PreferenceTuning.Batching(maxLength, batchSize, !noShuffle, seed, appendEos),
                    new PreferenceTuning.Dpo(beta, rpoAlpha), this::source);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        PreferenceBatches trainBatches = dpo.trainBatches();
        if (trainBatches.batchesPerEpoch() < 1) {
            throw noTrainingBatch(dpo.trainRecords());
        }
        requireMemory(trainBatches.batch(0, 0).cols()); // a batch the run certainly trains on
        err.printf(Locale.ROOT, "DPO: %,d parameters%s, format %s, beta %.3g%s%s, lr %.2g; data: %d / %d pairs, %d batches of %d per epoch, %s%n",
                policy.parameterCount(), lora == null ? ", reference: a frozen copy" : String.format(Locale.ROOT,
                        " (LoRA r %d: %,d trainable), reference: the same weights with the adapters off", lora.lora().settings().rank(),
                        lora.lora().parameterCount()), f.id(), beta, rpoAlpha > 0 ? String.format(Locale.ROOT, ", RPO alpha %.3g", rpoAlpha) : "", appendEos ? ", answers end with end-of-text" : "",
                lr, dpo.trainRecords(), dpo.valRecords(), trainBatches.batchesPerEpoch(), batchSize, length());
        err.printf(Locale.ROOT, "evaluation: all %d validation pairs, %s; tokens and tok/s count the padded chosen and rejected rows, "
                + "both trained (the book counts the chosen only); the reference reads them once more without gradients%n",
                dpo.valRecords(), evalBatches == 0 ? "all training pairs" : "the first " + evalBatches + " training batches");
        ModelStore kept = store(policy, lora, f);
        // a resumed run continues its own best; a new one replaces whatever an earlier run left there
        KeepBest best = keepBest ? new KeepBest(kept, out, checkpoint != null, "--keep-best", CliException::new) : null;
        train(policy, lora, f, trainBatches.batchesPerEpoch(), (store, s) -> dpo.trainer(store, s, evalBatches, out), r -> {
            if (best != null) best.onStep(r);
            if (r.metrics().isEmpty()) return;
            err.printf(Locale.ROOT, "step %d: train loss %.3f, val loss %.3f | reward margin train %.3f, val %.3f | accuracy train %.1f%%, val %.1f%%"
                            + " | val log-probs chosen %.3f, rejected %.3f%n",
                    r.step(), r.trainEvalLoss(), r.valLoss(), r.metrics().get("train_reward_margin"), r.metrics().get("val_reward_margin"),
                    100 * r.metrics().get("train_reward_accuracy"), 100 * r.metrics().get("val_reward_accuracy"),
                    r.metrics().get("val_chosen_logp"), r.metrics().get("val_rejected_logp"));
        });
        // the final model on the whole validation split, by task family for synthetic data
        PreferenceTuning.Outcome o = dpo.finish(best, out);
        KeepBest.Kept k = o.kept();
        if (k != null && k.last()) {
            err.printf(Locale.ROOT, "kept: the last model, step %d (validation reward accuracy %.1f%%, the best evaluation %.1f%%)%n",
                    k.step(), 100 * k.accuracy(), 100 * k.bestAccuracy());
        } else if (k != null) {
            err.printf(Locale.ROOT, "kept: the model of step %s (validation reward accuracy %.1f%%), saved as %s%n", k.step(),
                    100 * k.accuracy(), out.resolve("model"));
        }
        PreferenceReport report = o.report();
        Map<String, Double> all = report.overall();
        err.printf(Locale.ROOT, "final validation (%d pairs): reward accuracy %.1f%%, margin %.3f (chosen %.3f, rejected %.3f), "
                        + "log-probs chosen %.3f, rejected %.3f%n", report.pairs().size(), 100 * all.get("reward_accuracy"),
                all.get("reward_margin"), all.get("chosen_reward"), all.get("rejected_reward"), all.get("chosen_logp"), all.get("rejected_logp"));
        if (!report.byFamily().isEmpty()) {
            StringBuilder sb = new StringBuilder("reward accuracy by task:");
            report.byFamily().forEach((fam, m) -> sb.append(String.format(Locale.ROOT, " %s %d/%d", fam,
                    Math.round(m.get("reward_accuracy") * m.get("pairs")), Math.round(m.get("pairs")))));
            err.println(sb);
        }
        Path file = out.resolve("dpo-eval.json");
        o.write(file);
        err.println("saved: " + file);
        sayWhereItStopped();
    }
}
