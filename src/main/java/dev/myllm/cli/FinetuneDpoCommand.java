package dev.myllm.cli;

import dev.myllm.util.IoErrors;
import dev.myllm.finetune.BatchOrder;
import dev.myllm.finetune.DpoObjective;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PreferenceBatches;
import dev.myllm.finetune.PreferenceDataset;
import dev.myllm.finetune.PreferenceReport;
import dev.myllm.data.Batch;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.train.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LanguageModel;
import java.util.Locale;
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

    /** Where {@code --keep-best} keeps the best model so far, and the file in it that says its step and accuracy. */
    static final String BEST = "best", BEST_FILE = "myllm-best.json";

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
    public void run() {
        prepare();
        if (!(beta > 0)) throw new CliException("--beta must be positive, got " + beta);
        if (!(rpoAlpha >= 0) || Double.isInfinite(rpoAlpha)) throw new CliException("--rpo-alpha must be >= 0, got " + rpoAlpha);
        InstructionData.Split split = split();
        PromptFormat f = promptFormat();
        Tokenizer tok = tokenizer();
        GPTModel policy = loadModel();
        LoRAModel lora = attachLoRA(policy);
        // the reference: the starting weights, frozen; with LoRA the policy itself with its adapters off
        // (the frozen weights are the starting ones), else a second copy
        LanguageModel reference;
        if (lora != null) {
            reference = lora.reference();
        } else {
            GPTModel copy = loadModel();
            copy.setTrainable(false);
            copy.eval();
            reference = copy::forward;
        }
        int pad = padId(tok, policy);
        int allowed = Math.min(maxLength, policy.config().contextLength());
        PreferenceDataset train, val;
        try {
            train = new PreferenceDataset(split.train(), tok, f, allowed, source("train"), appendEos ? pad : -1);
            val = new PreferenceDataset(split.val(), tok, f, allowed, source("val"), appendEos ? pad : -1);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (val.size() == 0) throw new CliException(source("val") + ": no validation records");
        PreferenceBatches trainBatches = new PreferenceBatches(train, new BatchOrder(train.size(), batchSize, !noShuffle, true, seed), pad, allowed);
        PreferenceBatches valBatches = new PreferenceBatches(val, new BatchOrder(val.size(), batchSize, false, false, seed), pad, allowed);
        if (trainBatches.batchesPerEpoch() < 1) {
            throw noTrainingBatch(train.size());
        }
        err.printf(Locale.ROOT, "DPO: %,d parameters%s, format %s, beta %.3g%s%s, lr %.2g; data: %d / %d pairs, %d batches of %d per epoch, %s%n",
                policy.parameterCount(), lora == null ? ", reference: a frozen copy" : String.format(Locale.ROOT,
                        " (LoRA r %d: %,d trainable), reference: the same weights with the adapters off", lora.lora().settings().rank(),
                        lora.lora().parameterCount()), f.id(), beta, rpoAlpha > 0 ? String.format(Locale.ROOT, ", RPO alpha %.3g", rpoAlpha) : "", appendEos ? ", answers end with end-of-text" : "",
                lr, train.size(), val.size(), trainBatches.batchesPerEpoch(), batchSize, length());
        err.printf(Locale.ROOT, "evaluation: all %d validation pairs, %s; tokens and tok/s count the padded chosen and rejected rows, "
                + "both trained (the book counts the chosen only); the reference reads them once more without gradients%n",
                val.size(), evalBatches == 0 ? "all training pairs" : "the first " + evalBatches + " training batches");
        DpoObjective objective = new DpoObjective(policy::forward, reference, beta, rpoAlpha);
        List<Batch> valAll = valBatches.first(0);
        ModelStore kept = store(policy, lora, f);
        // a resumed run continues its own best; a new one replaces whatever an earlier run left there
        Map<String, Object> best = keepBest && checkpoint != null ? readBest(out.resolve(BEST)) : Map.of();
        double[] bestAccuracy = {best.isEmpty() ? -1 : ((Number) best.get("val_reward_accuracy")).doubleValue()};
        long[] lastStep = {0}, lastEvaluated = {0};
        train(policy, lora, objective, f, trainBatches, valAll, trainBatches.first(evalBatches), null, true, r -> {
            lastStep[0] = r.step();
            if (r.metrics().isEmpty()) return;
            lastEvaluated[0] = r.step();
            double acc = r.metrics().get("val_reward_accuracy");
            if (keepBest && acc >= bestAccuracy[0]) {
                bestAccuracy[0] = acc;
                saveBest(kept, out.resolve(BEST), r.step(), acc);
            }
            err.printf(Locale.ROOT, "step %d: train loss %.3f, val loss %.3f | reward margin train %.3f, val %.3f | accuracy train %.1f%%, val %.1f%%"
                            + " | val log-probs chosen %.3f, rejected %.3f%n",
                    r.step(), r.trainEvalLoss(), r.valLoss(), r.metrics().get("train_reward_margin"), r.metrics().get("val_reward_margin"),
                    100 * r.metrics().get("train_reward_accuracy"), 100 * r.metrics().get("val_reward_accuracy"),
                    r.metrics().get("val_chosen_logp"), r.metrics().get("val_rejected_logp"));
        });
        Map<String, Object> about = new java.util.LinkedHashMap<>();
        // the final model on the whole validation split, by task family for synthetic data
        policy.eval();
        PreferenceReport report = PreferenceReport.of(split.val(), objective.pairs(valAll, 0));
        if (keepBest && Files.isDirectory(out.resolve(BEST))) {
            Map<String, Object> b = readBest(out.resolve(BEST));
            double bestAccuracySeen = ((Number) b.get("val_reward_accuracy")).doubleValue();
            double last = report.overall().get("reward_accuracy");
            // the last step is a candidate too when no evaluation fell on it (the latest of equals wins)
            if (lastEvaluated[0] != lastStep[0] && last >= bestAccuracySeen) {
                about.put("step", lastStep[0]);
                about.put("kept", "the last model: no evaluation scored higher on validation (--keep-best)");
                err.printf(Locale.ROOT, "kept: the last model, step %d (validation reward accuracy %.1f%%, the best evaluation %.1f%%)%n",
                        lastStep[0], 100 * last, 100 * bestAccuracySeen);
            } else {
                // the kept model replaces the last one: model/ and the report are the best evaluation's
                kept.load(out.resolve(BEST));
                objective.policyChanged();
                saveDirectory(kept, out.resolve("model"), null);
                about.put("step", b.get("step"));
                about.put("kept", "the evaluation with the highest validation reward accuracy (--keep-best)");
                err.printf(Locale.ROOT, "kept: the model of step %s (validation reward accuracy %.1f%%), saved as %s%n", b.get("step"),
                        100 * bestAccuracySeen, out.resolve("model"));
                policy.eval();
                report = PreferenceReport.of(split.val(), objective.pairs(valAll, 0));
            }
        }
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
        report.write(file, about);
        err.println("saved: " + file);
        sayWhereItStopped();
    }

    /** The step and accuracy of the model kept in {@code dir}, empty when there is none. */
    private static Map<String, Object> readBest(Path dir) {
        Path f = dir.resolve(BEST_FILE);
        if (!Files.isRegularFile(f)) return Map.of();
        try {
            return new ObjectMapper().readValue(f.toFile(), new TypeReference<Map<String, Object>>() {
            });
        } catch (IOException e) {
            throw new CliException(f + ": " + e.getMessage());
        }
    }

    private static void saveBest(ModelStore store, Path dir, long step, double accuracy) {
        Map<String, Object> b = new java.util.LinkedHashMap<>();
        b.put("step", step);
        b.put("val_reward_accuracy", accuracy);
        saveDirectory(store, dir, b);
    }

    /** Saves the model (and {@code best}, when given, beside it) into a new directory, then swaps it for {@code dst}. */
    private static void saveDirectory(ModelStore store, Path dst, Map<String, Object> best) {
        Path tmp = dst.resolveSibling(".tmp-" + dst.getFileName() + "-" + System.nanoTime());
        Path old = dst.resolveSibling(".old-" + dst.getFileName() + "-" + System.nanoTime());
        try {
            Files.createDirectories(tmp);
            store.save(tmp);
            if (best != null) Files.writeString(tmp.resolve(BEST_FILE), new ObjectMapper().writeValueAsString(best) + "\n");
            if (Files.exists(dst)) Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
            if (Files.exists(old)) deleteTree(old);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save model " + dst + ": " + IoErrors.reason(e), e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
