package dev.myllm;

import dev.myllm.finetune.BatchOrder;
import dev.myllm.finetune.InstructionBatches;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDataset;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.InstructionLoss;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Responder;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.AdamW;
import dev.myllm.train.Checkpoints;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongFunction;

/**
 * {@link Myllm#finetuneInstructions}: the same split, prompt format, collate, loss, AdamW and {@link Trainer} as
 * {@code myllm finetune instruct} with every weight training (section 7.6), without printing.
 */
final class InstructionTuning {
    private InstructionTuning() {
    }

    static Myllm run(InstructOptions o, Trainer.Listener listener) {
        if (!Files.isDirectory(o.model())) throw new IllegalArgumentException("model: no such model directory: " + o.model());
        if (Files.isRegularFile(o.out().resolve(Checkpoints.LATEST))) {
            throw new IllegalArgumentException("out: " + o.out() + " already holds a run; give another directory");
        }
        InstructionData.Split split = InstructionData.bookSplit(InstructionDatasets.standard().load(o.data(), InstructionDatasets.SYNTHETIC_SIZE, 123));
        PromptFormat saved = SavedFormat.read(o.model());
        PromptFormat f = o.format() != null ? o.format() : saved != null ? saved : PromptFormat.ALPACA;
        Path ownTokenizer = o.model().resolve(GptModelStore.TOKENIZER_FILE);
        Tokenizer tok = Tokenizers.load(Files.isRegularFile(ownTokenizer) ? ownTokenizer.toString() : "gpt2");
        GPTModel m = ModelDirectory.load(o.model(), ModelDirectory.readConfig(o.model()).withDropRate(0f)); // the book's drop_rate 0.0
        int pad = tok.eotId();
        if (pad < 0 || pad >= m.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer " + tok.name() + " has no <|endoftext|> the model knows, to end answers and pad with");
        }
        int allowed = Math.min(o.maxLength(), m.config().contextLength());
        InstructionDataset train = new InstructionDataset(split.train(), tok, f, allowed, o.data() + " (train)");
        InstructionDataset val = new InstructionDataset(split.val(), tok, f, allowed, o.data() + " (val)");
        if (val.size() == 0) throw new IllegalArgumentException(o.data() + " (val): no validation records");
        InstructionBatches trainBatches = new InstructionBatches(train, new BatchOrder(train.size(), o.batchSize(), true, true, o.seed()),
                pad, allowed, o.maskInstruction());
        InstructionBatches valBatches = new InstructionBatches(val, new BatchOrder(val.size(), o.batchSize(), false, false, o.seed()),
                pad, allowed, o.maskInstruction());
        if (trainBatches.batchesPerEpoch() < 1) {
            throw new IllegalArgumentException(o.data() + " (train): " + train.size() + " records make no batch of " + o.batchSize());
        }
        LongFunction<String> sampler = Responder.bookSample(m, tok, f, split.val().getFirst());
        long total = (long) o.epochs() * trainBatches.batchesPerEpoch();
        AdamW opt = new AdamW(m.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, o.weightDecay(), AdamW.Decay.ALL));
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), 0)) {
            Trainer t = new Trainer(m, new InstructionLoss(m), SavedFormat.beside(new GptModelStore(m, Files.isRegularFile(ownTokenizer) ? ownTokenizer : null), f),
                    opt, new LrSchedule.Constant(o.lr()), trainBatches,
                    new Trainer.Options(total, 1, 0, o.evalEvery(), 0, sampler == null ? -1 : 0, 0, 2), o.out())
                    .evaluation(valBatches.first(o.evalBatches()), trainBatches.first(o.evalBatches()))
                    .evalRule(Trainer.EvalRule.BOOK)
                    .rng("dropout", m.dropoutRng())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener);
            if (sampler != null) t.sampler(sampler);
            t.run();
        }
        m.eval();
        return Myllm.of(m, tok).withPromptFormat(f);
    }
}
