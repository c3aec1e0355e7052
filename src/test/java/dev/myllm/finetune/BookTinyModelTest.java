package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledFiles;
import dev.myllm.data.LabelledSplits;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Rng;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.train.AdamW;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The book's shipped chapter-6 check ({@code test_ch06.py}, {@code test_appendix_e.py}): a tiny
 * model (width 12, one layer, two heads, context 120, no QKV bias, no dropout) with the same
 * surgery, trained on the first five training examples as one batch, evaluating every step on one
 * batch; the loss must fall. (The book's "first losses round to 0.8" depends on torch's random
 * stream and is not reproduced here.)
 */
class BookTinyModelTest {
    static List<Double> run(Path dir, boolean lora) {
        LabelledSplits s = LabelledSplits.of(LabelledFiles.read(Path.of("src/test/resources/finetune/tiny-spam.csv")), true, 123);
        BpeTokenizer tok = BpeTokenizer.gpt2();
        List<LabelledExample> five = s.train().subList(0, 5);
        List<int[]> enc = ClassificationDataset.tokenize(five, tok);
        int[] labels = five.stream().mapToInt(e -> s.labels().indexOf(e.label())).toArray();
        ClassificationDataset train = ClassificationDataset.of(enc, labels, ClassificationDataset.longest(enc), 50256, 5, true, false, 0);
        GPTModel body = new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 120, 12, 2, 1, 0f, false, true, 1e-5f), 123);
        GPTClassifier c = GPTClassifier.withNewHead(body, s.labels(), true, TokenRule.LAST, 50256, new Rng(123));
        if (lora) c.addLoRA(new LoRA.Settings(16, 16, LoRA.Scale.ALPHA_OVER_RANK), new Rng(124));
        // test_appendix_e also unfreezes the last block and final norm beside the adapters
        Trainable.LAST_BLOCK.apply(c);
        if (lora) c.lora().setTrainable(true);
        AdamW opt = new AdamW(c.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, lora ? 0.1 : 0.0, AdamW.Decay.ALL));
        List<Double> train1 = new ArrayList<>();
        List<Double> val = new ArrayList<>();
        int epochs = lora ? 6 : 5;
        new Trainer(c, new ClassificationObjective(c), new ClassifierStore(c, null), opt, new LrSchedule.Constant(5e-5), train,
                new Trainer.Options(epochs, 1, 0, 1, 1, -1, 0, 1), dir)
                .evaluation(train.first(1), train.first(1)).evalRule(Trainer.EvalRule.BOOK)
                .listener(new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        train1.add(r.trainEvalLoss());
                        val.add(r.valLoss());
                    }
                }).run();
        assertThat(val).hasSize(epochs).allMatch(Double::isFinite);
        return train1;
    }

    @Test
    void chapterSixLossFalls(@TempDir Path dir) {
        List<Double> losses = run(dir, false);
        assertThat(losses.getLast()).isLessThan(losses.getFirst());
    }

    @Test
    void appendixELossFalls(@TempDir Path dir) {
        List<Double> losses = run(dir, true);
        assertThat(losses.getLast()).isLessThan(losses.getFirst());
    }
}
