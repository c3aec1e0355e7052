package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The padded length {@link ClassifierTuning} picks, and its messages in the words of whoever calls it. */
class ClassifierTuningTest {
    static final ClassifierTuning.Names CLI = new ClassifierTuning.Names("--model", "--max-length", "--batch-size", "--trainable lora");

    static List<LabelledExample> examples(String label, String text, int n) {
        List<LabelledExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new LabelledExample(text + " " + i, label));
        return out;
    }

    static ClassifierTuning.Settings settings(Path model, int maxLength) {
        return new ClassifierTuning.Settings(model, Trainable.LAST_BLOCK, null, TokenRule.LAST, true, 0f, maxLength, 2, true, 123);
    }

    @Test
    void aDatasetsOwnLengthIsCutToTheContextAndAChosenOneIsNot(@TempDir Path dir) {
        List<LabelledExample> train = new ArrayList<>(examples("spam", "win cash now", 3));
        train.addAll(examples("ham", "see you at lunch then", 3));
        LabelledSplits splits = new LabelledSplits(train, examples("ham", "ok", 1), examples("spam", "free prize", 1));
        TrainedBpe tok = new BpeTrainer().train(train.stream().map(LabelledExample::text).toList(), 280, List.of("<|endoftext|>"), null);
        Path model = dir.resolve("lm");
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 16, 16, 2, 1, 0.1f, true, true, 1e-5f), 1), model);

        // spam's 256 on a context of 16: 16 (the command line did so; the library refused it)
        ClassifierTuning spam = ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, "spam", OptionalInt.of(256)), tok, settings(model, 0), CLI);
        assertThat(spam.classifier().maxLength()).isEqualTo(16);
        assertThat(spam.train().length()).isEqualTo(16);
        assertThat(spam.validation().length()).isEqualTo(16);
        assertThat(spam.classifier().transformer().config().dropRate()).isZero(); // the settings', not the config's 0.1
        // no default: the longest training text
        int longest = ClassificationDataset.longest(ClassificationDataset.tokenize(train, tok));
        assertThat(longest).isBetween(3, 15);
        ClassifierTuning file = ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, "f.csv", OptionalInt.empty()), tok, settings(model, 0), CLI);
        assertThat(file.classifier().maxLength()).isEqualTo(longest);
        assertThat(file.train().batchesPerEpoch()).isEqualTo(3);
        assertThat(file.validation().size()).isEqualTo(1);
        assertThat(file.test().label(0)).isEqualTo(1); // [ham, spam]
        assertThat(file.trainableCount()).isEqualTo(Trainable.trainableCount(file.classifier()));
        assertThat(ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, "f.csv", OptionalInt.empty()), tok, settings(model, 5), CLI)
                .classifier().maxLength()).isEqualTo(5);
        assertThatThrownBy(() -> ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, "spam", OptionalInt.of(256)), tok, settings(model, 17), CLI))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--max-length 17 exceeds the model's context length 16");

        // each split named as the caller names it
        LabelledSplits noHam = new LabelledSplits(examples("spam", "win", 4), examples("ham", "ok", 1), List.of());
        assertThatThrownBy(() -> ClassifierTuning.prepare(new ClassifierTuning.Data(noHam, "--train a, --val b, --test c", "--train a", "--val b", "--test c",
                OptionalInt.empty()), tok, settings(model, 0), CLI)).hasMessage("--train a: class 'ham' has no training examples");
        assertThatThrownBy(() -> ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, "f.csv", OptionalInt.empty()), tok,
                settings(dir.resolve("none"), 0), CLI)).hasMessageStartingWith("--model " + dir.resolve("none") + ": ");
        assertThatThrownBy(() -> new ClassifierTuning.Settings(model, Trainable.LORA, null, TokenRule.LAST, true, 0f, 0, 2, true, 1))
                .hasMessage("LoRA training needs the adapters' settings");
    }
}
