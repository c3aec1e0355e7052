package dev.myllm;

import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionTuning;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Trainable;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.Trainer;

import java.nio.file.Path;
import java.util.function.LongFunction;

/**
 * {@link Myllm#finetuneInstructions}: {@code myllm finetune instruct}'s run (section 7.6) — the same {@link InstructionTuning}
 * data, freezing ({@link Trainable}), LoRA adapters ({@link LoRAModel}), {@link InstructStore} and {@link FineTuning} trainer —
 * without printing.
 */
final class FinetuneInstructions {
    private FinetuneInstructions() {
    }

    static Myllm run(InstructOptions o, Trainer.Listener listener) {
        InstructRunStart start = InstructRunStart.of(o.model(), o.out(), o.data(), o.format());
        InstructionData.Split split = start.split();
        PromptFormat f = start.format();
        Tokenizer tok = start.tokenizer();
        GPTModel m = ModelDirectory.load(o.model(), ModelDirectory.readConfig(o.model()).withDropRate(0f)); // the book's drop_rate 0.0
        LoRAModel lora = o.trainable() == Trainable.LORA ? LoRAModel.attach(m, o.lora(), o.seed()) : null;
        InstructionTuning data = new InstructionTuning(m, tok, f, split,
                new InstructionTuning.Batching(o.maxLength(), o.batchSize(), true, o.seed(), o.maskInstruction()), part -> o.data() + " (" + part + ")");
        int batches = data.trainBatches().batchesPerEpoch();
        if (batches < 1) throw new IllegalArgumentException(o.data() + " (train): " + data.trainRecords() + " records make no batch of " + o.batchSize());
        LongFunction<String> sampler = data.bookSample();
        o.trainable().apply(m);
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), 0)) {
            Trainer t = FineTuning.trainer(lora != null ? lora : m, m, data.loss(),
                    new InstructStore(m, lora, start.tokenizerFile(), f, o.model(), "withLoRA(rank, alpha)"),
                    data.trainBatches(), data.valBatches().first(o.evalBatches()), data.trainBatches().first(o.evalBatches()),
                    new FineTuning.Settings(new LrSchedule.Constant(o.lr()), o.weightDecay(), (long) o.epochs() * batches, o.evalEvery(), 0), o.out())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener);
            if (sampler != null) t.sampler(sampler);
            t.run();
        }
        // the model as model/ holds it: the adapters merged in (the same sums as the saved copy), every weight trainable again
        if (lora != null) lora.lora().merge(m);
        m.setTrainable(true);
        m.eval();
        return Myllm.of(m, tok).withPromptFormat(f);
    }
}
