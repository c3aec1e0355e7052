package dev.myllm;

import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.KeepBest;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PreferenceTuning;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;

import java.util.Map;

/**
 * {@link Myllm#finetunePreferences}: {@code myllm finetune dpo}'s run (the book's DPO notebook) — the same
 * {@link PreferenceTuning} data, reference, objective, trainer and report, freezing ({@link Trainable}), LoRA adapters
 * ({@link LoRAModel}), {@link InstructStore} and {@link KeepBest}, length, schedule and checkpoints — without printing.
 */
final class FinetunePreferences {
    /** The command whose runs these are: its checkpoints and ours continue each other. */
    static final String COMMAND = "finetune dpo";

    private FinetunePreferences() {
    }

    static Myllm run(PreferenceOptions o, Trainer.Listener listener) {
        TuningRun r = o.run();
        InstructRunStart.Memory memory = new InstructRunStart.Memory(FineTuningMemory.Kind.DPO, o.trainable(), o.batchSize());
        InstructRunStart start = InstructRunStart.of(o.model(), o.out(), r, COMMAND, o.data(), o.format(), memory);
        InstructionData.Split split = start.split();
        PromptFormat f = start.format();
        TokenizerCopy kept = TokenizerCopy.read(start.tokenizerFile());
        Tokenizer tok = start.tokenizer();
        GPTModel policy = InstructRunStart.load(o.model(), r.dropout());
        LoRAModel lora = o.trainable() == Trainable.LORA ? LoRAModel.attach(policy, o.lora(), o.seed()) : null;
        LanguageModel reference = PreferenceTuning.reference(lora, () -> InstructRunStart.load(o.model(), r.dropout()));
        PreferenceTuning dpo = new PreferenceTuning(policy, lora, reference, tok, f, split,
                new PreferenceTuning.Batching(o.maxLength(), o.batchSize(), true, o.seed(), o.appendEos()),
                new PreferenceTuning.Dpo(o.beta(), o.rpoAlpha()), part -> o.data() + " (" + part + ")");
        int batches = dpo.trainBatches().batchesPerEpoch();
        InstructRunStart.requireBatch(o.data(), batches, dpo.trainRecords(), o.batchSize());
        memory.require(policy.config(), dpo.trainBatches().batch(0, 0).cols()); // a batch the run certainly trains on
        long total = FineTuning.totalSteps(r.steps(), (long) o.epochs() * batches);
        start.run().requireStepsLeft(total);
        o.trainable().apply(policy);
        // a resumed run continues its own best; a new one replaces whatever an earlier run left there
        KeepBest best = o.keepBest() ? new KeepBest(store(policy, lora, kept, f, o), o.out(), start.run().resumed(), "keepBest",
                IllegalArgumentException::new) : null;
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), start.run().resumedStep())) {
            Trainer t = dpo.trainer(store(policy, lora, kept, f, o),
                            new FineTuning.Settings(FineTuning.schedule(o.lr(), r.warmupSteps(), r.minLr(), total), o.weightDecay(), total, o.evalEvery(),
                                    r.checkpointEvery()), o.evalBatches(), o.out())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(best != null ? best.around(listener) : listener != null ? listener : new Trainer.Listener() {
                    });
            start.run().start(t, savedOptions(o)).run();
        }
        // the final (or kept) model on every validation pair, as dpo-eval.json
        dpo.finish(best, o.out()).write(o.out().resolve("dpo-eval.json"));
        return InstructRunStart.finished(policy, lora, tok, f);
    }

    /** The options as {@code myllm finetune dpo} saves them, so that {@code --resume} continues the run with its settings. */
    static Map<String, Object> savedOptions(PreferenceOptions o) {
        Map<String, Object> saved = InstructRunStart.commandOptions(COMMAND, o.model(), o.data(), o.format(), o.trainable(), o.lora(), o.maxLength(),
                o.batchSize(), o.run(), o.evalEvery(), o.evalBatches(), o.seed());
        saved.put("epochs", o.epochs());
        saved.put("lr", o.lr());
        saved.put("weight-decay", o.weightDecay());
        saved.put("beta", o.beta());
        saved.put("rpo-alpha", o.rpoAlpha());
        saved.put("append-eos", o.appendEos());
        saved.put("keep-best", o.keepBest());
        return saved;
    }

    private static InstructStore store(GPTModel m, LoRAModel lora, TokenizerCopy kept, PromptFormat f, PreferenceOptions o) {
        return new InstructStore(m, lora, kept, f, o.model(), "withLoRA(rank, alpha)");
    }
}
