package dev.myllm.book;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.util.List;
import java.util.Map;

/**
 * Chapter 6, fine-tuning for classification: the SMS Spam Collection, balanced and split as the
 * book does it, padded to the longest training message, and batched; the numbers that need
 * OpenAI's GPT-2 weights or a fine-tuning run are shown as notes.
 */
final class Ch06 {
    private Ch06() {
    }

    static Report run(LabelledDatasets datasets) {
        Report r = new Report("ch06", "Fine-tuning for classification");
        // 6.2: download and read the data (the book's pandas rules: 5,574 lines make 5,572 rows)
        List<LabelledExample> df;
        try {
            df = datasets.load("sms-spam");
        } catch (RuntimeException e) {
            r.note("SMS Spam Collection", "not available: " + e.getMessage(), "5,572 rows", "needs a download (myllm data get sms-spam)");
            return withoutData(r);
        }
        r.same("messages", String.format("%,d", df.size()), "5,572");
        r.same("ham / spam", counts(LabelledSplits.counts(df)), "4,825 / 747");

        // create_balanced_dataset: 747 ham sampled with random_state=123, then every spam
        List<LabelledExample> balancedDf = LabelledSplits.balance(df, 123);
        r.same("balanced ham / spam", counts(LabelledSplits.counts(balancedDf)), "747 / 747");
        // random_split(balanced_df, 0.7, 0.1)
        LabelledSplits split = LabelledSplits.randomSplit(balancedDf, 0.7, 0.1, 123);
        r.same("train / validation / test", split.train().size() + " / " + split.validation().size() + " / " + split.test().size(),
                "1045 / 149 / 300");

        // 6.3: SpamDataset pads every message with <|endoftext|> to the longest training message
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        r.ints("tokenizer.encode(\"<|endoftext|>\")", tokenizer.encode("<|endoftext|>", Specials.ALLOW), "[50256]");
        List<int[]> trainIds = ClassificationDataset.tokenize(split.train(), tokenizer);
        int maxLength = ClassificationDataset.longest(trainIds);
        r.same("train_dataset.max_length", Integer.toString(maxLength), "120");
        List<String> labels = split.labels(); // ham 0, spam 1
        ClassificationDataset trainLoader = ClassificationDataset.of(trainIds, classIds(split.train(), labels), maxLength, 50256, 8, true, true, 123);
        ClassificationDataset valLoader = loader(split.validation(), labels, tokenizer, maxLength);
        ClassificationDataset testLoader = loader(split.test(), labels, tokenizer, maxLength);
        var batch = trainLoader.batch(0, 0);
        r.same("input batch dimensions", "[" + batch.rows() + ", " + batch.cols() + "]", "[8, 120]");
        r.same("label batch dimensions", "[" + batch.targets().length + "]", "[8]");
        r.same("training / validation / test batches",
                trainLoader.batchesPerEpoch() + " / " + valLoader.batchesPerEpoch() + " / " + testLoader.batchesPerEpoch(), "130 / 19 / 38");
        return withoutData(r);
    }

    /** The rows that need no data: the tokenizer check and what needs GPT-2's weights or a run. */
    private static Report withoutData(Report r) {
        // 6.5: the classifier's input
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        r.ints("\"Do you have time\"", tokenizer.encode("Do you have time", Specials.ERROR), "[5211, 345, 423, 640]");
        r.note("accuracy before fine-tuning (train / val / test)", "(needs OpenAI's weights: myllm download gpt2)",
                "46.25 / 45.00 / 48.75 %", "GPT-2's pretrained weights with a seed-123 head");
        r.note("accuracy after 5 epochs (train / val / test)", "(run: myllm finetune classify --model DIR --data sms-spam)",
                "97.21 / 97.32 / 95.67 %", "a fine-tuning run on a GPU from OpenAI's weights");
        return r;
    }

    private static ClassificationDataset loader(List<LabelledExample> part, List<String> labels, Tokenizer tokenizer, int maxLength) {
        return ClassificationDataset.of(ClassificationDataset.tokenize(part, tokenizer), classIds(part, labels), maxLength, 50256, 8,
                false, false, 0);
    }

    private static int[] classIds(List<LabelledExample> part, List<String> labels) {
        return part.stream().mapToInt(e -> labels.indexOf(e.label())).toArray();
    }

    private static String counts(Map<String, Integer> byLabel) {
        return String.format("%,d / %,d", byLabel.getOrDefault("ham", 0), byLabel.getOrDefault("spam", 0));
    }
}
