package dev.myllm;

import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionTuning;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;

import java.util.Map;
import java.util.function.LongFunction;

/**
 * {@link Myllm#finetuneInstructions}: {@code myllm finetune instruct}'s run (section 7.6) — the same {@link InstructionTuning}
 * data, freezing ({@link Trainable}), LoRA adapters ({@link LoRAModel}), {@link InstructStore} and {@link FineTuning} trainer,
 * length, schedule and checkpoints — without printing.
 */
final class FinetuneInstructions {
    /** The command whose runs these are: its checkpoints and ours continue each other. */
    static final String COMMAND = "finetune instruct";

    private FinetuneInstructions() {
    }

    static Myllm run(InstructOptions o, Trainer.Listener listener) {
        TuningRun r = o.run();
        InstructRunStart.Memory memory = new InstructRunStart.Memory(FineTuningMemory.Kind.INSTRUCT, o.trainable(), o.batchSize());
        InstructRunStart start = InstructRunStart.of(o.model(), o.out(), r, COMMAND, o.data(), o.format(), memory);
        InstructionData.Split split = start.split();
        PromptFormat f = start.format();
        Tokenizer tok = start.tokenizer();
        GPTModel m = InstructRunStart.load(o.model(), r.dropout());
        LoRAModel lora = o.trainable() == Trainable.LORA ? LoRAModel.attach(m, o.lora(), o.seed()) : null;
        InstructionTuning data = new InstructionTuning(m, tok, f, split,
                new InstructionTuning.Batching(o.maxLength(), o.batchSize(), true, o.seed(), o.maskInstruction()), part -> o.data() + " (" + part + ")");
        int batches = data.trainBatches().batchesPerEpoch();
        InstructRunStart.requireBatch(o.data(), batches, data.trainRecords(), o.batchSize());
        memory.require(m.config(), data.trainBatches().batch(0, 0).cols()); // a batch the run certainly trains on
        long total = FineTuning.totalSteps(r.steps(), (long) o.epochs() * batches);
        start.run().requireStepsLeft(total);
        LongFunction<String> sampler = data.bookSample();
        o.trainable().apply(m);
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), start.run().resumedStep())) {
            Trainer t = FineTuning.trainer(lora != null ? lora : m, m, data.loss(),
                    new InstructStore(m, lora, TokenizerCopy.read(start.tokenizerFile()), f, o.model(), "withLoRA(rank, alpha)"),
                    data.trainBatches(), data.valBatches().first(o.evalBatches()), data.trainBatches().first(o.evalBatches()),
                    new FineTuning.Settings(FineTuning.schedule(o.lr(), r.warmupSteps(), r.minLr(), total), o.weightDecay(), total, o.evalEvery(),
                            r.checkpointEvery()), o.out())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener);
            if (sampler != null) t.sampler(sampler);
            start.run().start(t, savedOptions(o)).run();
        }
        return InstructRunStart.finished(m, lora, tok, f);
    }

    /** The options as {@code myllm finetune instruct} saves them, so that {@code --resume} continues the run with its settings. */
    static Map<String, Object> savedOptions(InstructOptions o) {
        Map<String, Object> saved = InstructRunStart.commandOptions(COMMAND, o.model(), o.data(), o.format(), o.trainable(), o.lora(), o.maxLength(),
                o.batchSize(), o.run(), o.evalEvery(), o.evalBatches(), o.seed());
        saved.put("epochs", o.epochs());
        saved.put("lr", o.lr());
        saved.put("weight-decay", o.weightDecay());
        saved.put("mask-instruction", o.maskInstruction());
        return saved;
    }
}
