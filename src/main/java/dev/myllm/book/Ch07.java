package dev.myllm.book;

import dev.myllm.data.Batch;
import dev.myllm.finetune.InstructionCollate;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDataset;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.List;

/**
 * Chapter 7, fine-tuning to follow instructions: the 1,100 instructions, the Alpaca prompt, the
 * split, the collate function with its padding and -100 targets, the loss toys and the shuffled
 * training loader; the numbers that need GPT-2 medium's weights or a run are notes.
 */
final class Ch07 {
    private Ch07() {
    }

    static Report run(InstructionDatasets datasets) {
        Report r = new Report("ch07", "Fine-tuning to follow instructions");
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        // 7.3: the collate function on the book's three toy inputs
        List<int[]> batch = List.of(new int[]{0, 1, 2, 3, 4}, new int[]{5, 6}, new int[]{7, 8, 9});
        Batch toy = InstructionCollate.collate(batch, null, 50256, 0);
        r.same("collated inputs", rows(toy.inputs(), toy.cols()), "[[0, 1, 2, 3, 4], [5, 6, 50256, 50256, 50256], [7, 8, 9, 50256, 50256]]");
        r.same("collated targets", rows(toy.targets(), toy.cols()), "[[1, 2, 3, 4, 50256], [6, 50256, -100, -100, -100], [8, 9, 50256, -100, -100]]");

        // cross_entropy ignores the -100 targets
        Tensor logits1 = Tensor.of(new float[]{-1f, 1f, -0.5f, 1.5f}, 2, 2);
        r.number("loss of two rows", Ops.crossEntropy(logits1, new int[]{0, 1}).item(), "1.1269");
        Tensor logits2 = Tensor.of(new float[]{-1f, 1f, -0.5f, 1.5f, -0.5f, 1.5f}, 3, 2);
        r.number("loss of three rows", Ops.crossEntropy(logits2, new int[]{0, 1, 1}).item(), "0.7936");
        r.number("third target -100", Ops.crossEntropy(logits2, new int[]{0, 1, -100}).item(), "1.1269");

        // 7.2: the data and its Alpaca-style prompts
        List<InstructionExample> data;
        try {
            data = datasets.load("instructions", 0, 123);
        } catch (RuntimeException e) {
            r.note("instruction-data.json", "not available: " + e.getMessage(), "1,100 entries", "needs a download (myllm data get instructions)");
            return notes(r);
        }
        r.same("number of entries", String.format("%,d", data.size()), "1,100");
        PromptFormat format = PromptFormat.ALPACA;
        InstructionExample entry = data.get(50);
        r.same("data[50] formatted with its response", format.fullText(entry, entry.output()),
                "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                        + "\n\n### Instruction:\nIdentify the correct spelling of the following word.\n\n### Input:\nOcassion"
                        + "\n\n### Response:\nThe correct spelling is 'Occasion.'");
        InstructionExample noInput = data.get(999);
        r.same("data[999] (no input)", format.fullText(noInput, noInput.output()),
                "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                        + "\n\n### Instruction:\nWhat is an antonym of 'complicated'?\n\n### Response:\nAn antonym of 'complicated' is 'simple'.");
        r.ints("response prefix \"\\n\\n### Response:\\n\"", tokenizer.encode(format.responsePrefix(), Specials.ERROR), "[198, 198, 21017, 18261, 25, 198]");
        InstructionData.Split split = InstructionData.bookSplit(data);
        r.same("training / validation / test set length", split.train().size() + " / " + split.val().size() + " / " + split.test().size(), "935 / 55 / 110");

        // exercise 7.2: masking the instruction leaves the response prefix, the answer and <|endoftext|>
        InstructionDataset all = new InstructionDataset(data, tokenizer, format, 1024, "instruction-data.json");
        int partner = 0; // any entry of 64 tokens gives the book's batch width
        while (all.tokens(partner).length != 64) partner++;
        Batch masked = all.batch(new int[]{partner, 43}, 50256, 1024, true);
        int[] row = Arrays.copyOfRange(masked.targets(), masked.cols(), 2 * masked.cols());
        r.same("masked targets of data[43] (width 64)", maskedRow(row),
                "46 × -100, [198, 198, 21017, 18261, 25, 198, 34, 12204, 375, 576, 11, 42651, 11, 1168, 37052, 50256, -100, -100]");

        // 7.4: torch.manual_seed(123); DataLoader(train_dataset, batch_size=8, shuffle=True, drop_last=True)
        InstructionDataset trainDataset = new InstructionDataset(split.train(), tokenizer, format, 1024, "train");
        TorchGenerator torch = new TorchGenerator(123);
        int[] order = torch.dataLoaderEpoch(trainDataset.size(), true);
        r.same("training batches per epoch", Integer.toString(trainDataset.size() / 8), "116");
        Batch first = trainDataset.batch(Arrays.copyOf(order, 8), 50256, 1024, false);
        r.same("first training batch (inputs)", "[" + first.rows() + ", " + first.cols() + "]", "[8, 61]");
        return notes(r);
    }

    private static Report notes(Report r) {
        r.note("validation loss before fine-tuning", "(needs OpenAI's weights: myllm download gpt2-medium)", "3.7619",
                "GPT-2 medium's pretrained weights, 5 batches");
        r.note("loss after 2 epochs, step 230 (train / val)", "(run: myllm finetune instruct --model DIR --data instructions)",
                "0.299 / 0.657", "a fine-tuning run on a GPU");
        r.note("Ollama llama3 judge, average score", "(run: myllm eval instruct)", "49.45", "depends on the fine-tuned model and the judge");
        return r;
    }

    private static String rows(int[] values, int cols) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i += cols) {
            sb.append(i == 0 ? "" : ", ").append(Arrays.toString(Arrays.copyOfRange(values, i, i + cols)));
        }
        return sb.append(']').toString();
    }

    /** Leading ignored targets as a count, then the rest. */
    private static String maskedRow(int[] row) {
        int n = 0;
        while (n < row.length && row[n] == Ops.IGNORE_INDEX) n++;
        return n + " × -100, " + Arrays.toString(Arrays.copyOfRange(row, n, row.length));
    }
}
