package dev.myllm;

import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.Checkpoints;
import dev.myllm.train.GptModelStore;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the library's instruction and preference tuning start from, as {@code myllm finetune instruct} and {@code dpo}
 * do: a model directory, the book's split of the data, the prompt format (given, saved with the model, else Alpaca) and
 * the model's own tokenizer (else GPT-2's).
 *
 * @param split         the data, split as the book splits it
 * @param format        the prompt format
 * @param tokenizerFile the model directory's own tokenizer file, or null (GPT-2's)
 * @param tokenizer     the tokenizer
 */
record InstructRunStart(InstructionData.Split split, PromptFormat format, Path tokenizerFile, Tokenizer tokenizer) {

    /** Checks the model directory and the run directory, then reads the data, the format and the tokenizer. */
    static InstructRunStart of(Path model, Path out, String data, PromptFormat format) {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException("model: no such model directory: " + model);
        refuseExistingRun(out);
        InstructionData.Split split = InstructionData.bookSplit(InstructionDatasets.standard().load(data, InstructionDatasets.SYNTHETIC_SIZE, 123));
        PromptFormat f = SavedFormat.orBook(model, format);
        Path own = model.resolve(GptModelStore.TOKENIZER_FILE);
        Path tokenizerFile = Files.isRegularFile(own) ? own : null;
        return new InstructRunStart(split, f, tokenizerFile, Tokenizers.load(tokenizerFile != null ? tokenizerFile.toString() : "gpt2"));
    }

    /** Refuses a run directory that already holds a run: a second run would mix its checkpoints with the first's. */
    static void refuseExistingRun(Path out) {
        if (Files.isRegularFile(out.resolve(Checkpoints.LATEST))) {
            throw new IllegalArgumentException("out: " + out + " already holds a run; give another directory");
        }
    }
}
