package dev.myllm;

import dev.myllm.finetune.FineTuningMemory;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.Trainable;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelTokenizer;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the library's instruction and preference tuning start from, as {@code myllm finetune instruct} and {@code dpo}
 * do: a model directory, the book's split of the data, the prompt format (given, saved with the model, else Alpaca) and
 * the model's own tokenizer (else GPT-2's).
 *
 * @param split         the data, split as the book splits it
 * @param format        the prompt format
 * @param tokenizerFile the model directory's own tokenizer file, or null (GPT-2's)
 * @param tokenizer     the tokenizer
 * @param run           the run directory: a new run, or the one to resume
 */
record InstructRunStart(InstructionData.Split split, PromptFormat format, Path tokenizerFile, Tokenizer tokenizer, LibraryRun run) {

    /**
     * Checks the model directory and the run directory (a run there of {@code command}, "finetune instruct", to resume, or
     * none), then reads the data, the format and the tokenizer.
     */
    static InstructRunStart of(Path model, Path out, TuningRun controls, String command, String data, PromptFormat format, Memory memory) {
        if (!Files.isDirectory(model)) {
            throw new IllegalArgumentException(Files.exists(model) ? "model: " + model + " is a file, not a model directory" : "model: no such model directory: " + model);
        }
        GPTConfig cfg;
        try {
            cfg = ModelDirectory.readConfig(model); // an empty directory or a classifier is named as the model, before the data is read
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model: " + e.getMessage(), e);
        }
        memory.require(cfg.withDropRate(controls.dropout()), 0);
        LibraryRun run = LibraryRun.open(out, controls, command);
        InstructionData.Split split = InstructionData.bookSplit(InstructionDatasets.standard().load(data, InstructionDatasets.SYNTHETIC_SIZE, SYNTHETIC_SEED));
        PromptFormat f = SavedFormat.orBook(model, format);
        Tokenizer own = ModelTokenizer.of(model);
        return new InstructRunStart(split, f, ModelTokenizer.file(model), own != null ? own : Tokenizers.load("gpt2"), run);
    }

    /**
     * The options {@code finetune instruct} and {@code dpo} share, as the command saves them in a checkpoint (its long
     * option names without {@code --}), for a run made with these settings; the caller adds its own.
     */
    static Map<String, Object> commandOptions(String command, Path model, String data, PromptFormat format, Trainable trainable, LoRA.Settings lora,
                                              int maxLength, int batchSize, TuningRun run, int evalEvery, int evalBatches, long seed) {
        Map<String, Object> o = TrainingRunOptions.start(command);
        o.put("model", model.toString());
        o.put("data", data);
        o.put("train", null);
        o.put("val", null);
        o.put("test", null);
        o.put("format", format == null ? null : format.id());
        o.put("trainable", trainable.id());
        o.put("lora-rank", lora == null ? null : lora.rank());
        o.put("lora-alpha", lora == null ? null : lora.alpha());
        o.put("lora-scale", lora == null ? null : lora.rule().id());
        o.put("max-length", maxLength);
        o.put("batch-size", batchSize);
        o.put("checkpoint-activations", false);
        o.put("eval-every", evalEvery);
        o.put("eval-batches", evalBatches);
        run.putInto(o);
        run.putScheduleInto(o);
        o.put("seed", seed);
        o.put("no-shuffle", false);
        o.put("synthetic-size", InstructionDatasets.SYNTHETIC_SIZE);
        o.put("synthetic-seed", SYNTHETIC_SEED);
        o.put("tokenizer", null);
        o.put("log", null);
        return o;
    }

    /**
     * The run's heap check ({@link TuningChecks#memory}).
     *
     * @param kind      what the model is tuned for
     * @param trainable what trains
     * @param batchSize records (DPO: pairs) a batch
     */
    record Memory(FineTuningMemory.Kind kind, Trainable trainable, int batchSize) {
        /** Refuses the run on {@code cfg}'s shape: {@code length} 0 before the data is read, else with batches of that many tokens. */
        void require(GPTConfig cfg, int length) {
            TuningChecks.memory(cfg, kind, trainable, batchSize, length);
        }
    }

    /** The model directory's GPT with the run's dropout (the book's 0.0 unless asked). */
    static GPTModel load(Path model, float dropout) {
        return ModelDirectory.load(model, ModelDirectory.readConfig(model).withDropRate(dropout));
    }

    /** Refuses a training split of {@code records} that makes no batch of {@code batchSize}. */
    static void requireBatch(String data, int batches, int records, int batchSize) {
        if (batches < 1) throw new IllegalArgumentException(data + " (train): " + records + " records make no batch of " + batchSize + "; lower batchSize");
    }

    /**
     * The tuned model as {@code model/} holds it: the adapters merged in (the same sums as the saved copy), every weight
     * trainable again, in evaluation mode, with its prompt format.
     */
    static Myllm finished(GPTModel m, LoRAModel lora, Tokenizer tok, PromptFormat f) {
        if (lora != null) lora.lora().merge(m);
        m.setTrainable(true);
        m.eval();
        return Myllm.of(m, tok).withPromptFormat(f);
    }

    /** The seed of {@code synthetic} data, as the command's default. */
    private static final long SYNTHETIC_SEED = 123;
}
