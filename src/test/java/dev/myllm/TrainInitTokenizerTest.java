package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Myllm#train} from an init model reads with that model's own tokenizer unless another is named, as {@code myllm train --init}. */
class TrainInitTokenizerTest {
    static final String TEXT = "It is a truth universally acknowledged, that a single man in possession of a good fortune";

    @Test
    void anInitModelTrainsWithItsOwnVocabulary(@TempDir Path dir) throws Exception {
        TrainedBpe tok = new BpeTrainer().train(List.of(TEXT, "Every effort moves you forward."), 300, List.of("<|endoftext|>"), null);
        Path init = dir.resolve("init");
        Myllm.of(new GPTModel(new GPTConfig(tok.vocabSize(), 32, 32, 2, 2, 0f, true, true, 1e-5f), 3), tok).save(init);
        Path text = Files.writeString(dir.resolve("text.txt"), (TEXT + ". ").repeat(40));
        TrainingOptions o = TrainingOptions.of(List.of(text.toString()), dir.resolve("run")).withInit(init).withBatch(2, 16).withSteps(2);
        // before: GPT-2's 50,257 ids against the model's 300 rows, refused
        Myllm trained = Myllm.train(o, null);
        assertThat(o.tokenizer()).as("unset: the init model's own, else GPT-2's").isNull();
        assertThat(trained.tokenize(TEXT)).containsExactly(tok.encode(TEXT));
        Myllm saved = Myllm.load(dir.resolve("run/model"));
        assertThat(saved.tokenize(TEXT)).containsExactly(tok.encode(TEXT));
        // resumed, the run's own (kept in its checkpoint), as myllm train --resume
        Myllm resumed = Myllm.train(o.withSteps(3).withResume(), null);
        assertThat(resumed.tokenize(TEXT)).containsExactly(tok.encode(TEXT));
        // named, it is used (and here refused: GPT-2's is larger than the model), in the library's words
        assertThatThrownBy(() -> Myllm.train(o.withTokenizer("gpt2").withSteps(5).withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the tokenizer's vocabulary (50257) is larger than the model's (300)");
        // a preset with the tokenizer unset is GPT-2's, as before
        Myllm fresh = Myllm.train(TrainingOptions.of(List.of(text.toString()), dir.resolve("fresh")).withBatch(2, 16).withSteps(1), null);
        assertThat(fresh.tokenize(TEXT)).containsExactly(Myllm.tokenizer("gpt2").encode(TEXT));
    }
}
