package dev.myllm.cli;

import dev.myllm.data.Batch;
import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.InstructionBatches;
import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionTuning;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.Trainer;
import java.util.List;
import java.util.Locale;
import java.util.function.LongFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code myllm finetune instruct}: chapter 7's instruction fine-tuning on the shared training loop. */
@Command(name = "instruct", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Instruction-tune a GPT (chapter 7): the book's prompt format, collate (EOS, -100 padding) and defaults. "
                + "With --resume DIR the saved options are the defaults.")
final class FinetuneInstructCommand extends InstructTraining {
    @Option(names = "--epochs", defaultValue = "2", description = "Passes over the training data (default ${DEFAULT-VALUE}).")
    int epochs;
    @Option(names = "--lr", defaultValue = "5e-5", description = "AdamW learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW weight decay on every tensor (default ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--mask-instruction", description = "Leave the prompt's tokens out of the loss (exercise 7.2).")
    boolean maskInstruction;

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
        return FineTuningMemory.Kind.INSTRUCT;
    }

    @Override
    public void run() {
        prepare();
        InstructionData.Split split = split();
        PromptFormat f = promptFormat();
        Tokenizer tok = tokenizer();
        GPTModel m = loadModel();
        LoRAModel lora = attachLoRA(m);
        InstructionTuning data;
        try {
            data = new InstructionTuning(m, tok, f, split, new InstructionTuning.Batching(maxLength, batchSize, !noShuffle, seed, maskInstruction), this::source);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        InstructionBatches trainBatches = data.trainBatches();
        if (trainBatches.batchesPerEpoch() < 1) throw noTrainingBatch(data.trainRecords());
        requireMemory(trainBatches.batch(0, 0).cols()); // a batch the run certainly trains on
        err.printf(Locale.ROOT, "instruction tuning: %,d parameters%s, format %s%s, lr %.2g; data: %d / %d / %d records, %d batches of %d per epoch, %s%n",
                m.parameterCount(), lora == null ? "" : String.format(Locale.ROOT, " (LoRA r %d: %,d trainable)", lora.lora().settings().rank(),
                        lora.lora().parameterCount()), f.id(), maskInstruction ? " (instruction masked)" : "", lr, data.trainRecords(), data.valRecords(), data.testRecords(),
                trainBatches.batchesPerEpoch(), batchSize, length());
        List<Batch> val = data.valBatches().first(evalBatches), trainEval = trainBatches.first(evalBatches);
        LongFunction<String> sampler = data.bookSample();
        train(m, lora, f, trainBatches.batchesPerEpoch(), (store, s) -> {
            Trainer t = FineTuning.trainer(lora != null ? lora : m, m, data.loss(), store, trainBatches, val, trainEval, s, out);
            return sampler != null ? t.sampler(sampler) : t;
        }, r -> { });
        sayWhereItStopped();
    }
}
