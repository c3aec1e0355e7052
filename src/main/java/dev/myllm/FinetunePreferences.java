package dev.myllm;

import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.KeepBest;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PreferenceTuning;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.Trainer;

import java.nio.file.Path;

/**
 * {@link Myllm#finetunePreferences}: {@code myllm finetune dpo}'s run (the book's DPO notebook) — the same
 * {@link PreferenceTuning} data, reference, objective, trainer and report, freezing ({@link Trainable}), LoRA adapters
 * ({@link LoRAModel}), {@link InstructStore} and {@link KeepBest} — without printing.
 */
final class FinetunePreferences {
    private FinetunePreferences() {
    }

    static Myllm run(PreferenceOptions o, Trainer.Listener listener) {
        InstructRunStart start = InstructRunStart.of(o.model(), o.out(), o.data(), o.format());
        InstructionData.Split split = start.split();
        PromptFormat f = start.format();
        Path tokenizerFile = start.tokenizerFile();
        Tokenizer tok = start.tokenizer();
        GPTModel policy = load(o.model());
        LoRAModel lora = o.trainable() == Trainable.LORA ? LoRAModel.attach(policy, o.lora(), o.seed()) : null;
        LanguageModel reference = PreferenceTuning.reference(lora, () -> load(o.model()));
        PreferenceTuning dpo = new PreferenceTuning(policy, lora, reference, tok, f, split,
                new PreferenceTuning.Batching(o.maxLength(), o.batchSize(), true, o.seed(), o.appendEos()),
                new PreferenceTuning.Dpo(o.beta(), o.rpoAlpha()), part -> o.data() + " (" + part + ")");
        int batches = dpo.trainBatches().batchesPerEpoch();
        if (batches < 1) throw new IllegalArgumentException(o.data() + " (train): " + dpo.trainRecords() + " records make no batch of " + o.batchSize() + "; lower batchSize");
        o.trainable().apply(policy);
        KeepBest best = o.keepBest() ? new KeepBest(store(policy, lora, tokenizerFile, f, o), o.out(), false, "keepBest", IllegalArgumentException::new) : null;
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), 0)) {
            dpo.trainer(store(policy, lora, tokenizerFile, f, o),
                            new FineTuning.Settings(new LrSchedule.Constant(o.lr()), o.weightDecay(), (long) o.epochs() * batches, o.evalEvery(), 0),
                            o.evalBatches(), o.out())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(best != null ? best.around(listener) : listener != null ? listener : new Trainer.Listener() {
                    })
                    .run();
        }
        // the final (or kept) model on every validation pair, as dpo-eval.json
        dpo.finish(best, o.out()).write(o.out().resolve("dpo-eval.json"));
        // the model as model/ holds it: the adapters merged in (the same sums as the saved copy), every weight trainable again
        if (lora != null) lora.lora().merge(policy);
        policy.setTrainable(true);
        policy.eval();
        return Myllm.of(policy, tok).withPromptFormat(f);
    }

    /** The model directory's GPT with the book's drop_rate 0.0. */
    private static GPTModel load(Path model) {
        return ModelDirectory.load(model, ModelDirectory.readConfig(model).withDropRate(0f));
    }

    private static InstructStore store(GPTModel m, LoRAModel lora, Path tokenizerFile, PromptFormat f, PreferenceOptions o) {
        return new InstructStore(m, lora, tokenizerFile, f, o.model(), "withLoRA(rank, alpha)");
    }
}
