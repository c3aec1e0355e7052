package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Options a command took without a word or refused with a message that named no option: a {@code --max-length}
 * past the context, labels a classifier does not know.
 */
class OptionErrorsCliTest {
    static final Path SPAM = Path.of("src/test/resources/finetune/tiny-spam.csv");
    @TempDir
    static Path tmp;
    static Path lm, classifier;

    @BeforeAll
    static void models() throws Exception {
        lm = tmp.resolve("lm");
        ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f), 1), lm);
        Path run = tmp.resolve("run");
        CliRun r = CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", SPAM.toString(), "--out", run.toString(),
                "--batch-size", "4", "--eval-every", "2", "--eval-batches", "1", "--epochs", "1", "--max-length", "16");
        assertThat(r.code()).as(r.err()).isZero();
        classifier = run.resolve("model");
    }

    @Test
    void aMaxLengthPastTheContextIsRefusedAsFinetuneClassifyRefusesIt() {
        String expected = "--max-length 41 exceeds the model's context length 40";
        assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", SPAM.toString(), "--out", tmp.resolve("f").toString(),
                "--max-length", "41"), expected);
        // they cut to 40 without a word
        assertError(CliRun.run("classify", "--model", classifier.toString(), "--max-length", "41", "win cash now"), expected);
        assertError(CliRun.run("eval", "classify", "--model", classifier.toString(), "--data", SPAM.toString(), "--max-length", "41"), expected);
        CliRun fits = CliRun.run("classify", "--model", classifier.toString(), "--max-length", "40", "win cash now");
        assertThat(fits.code()).as(fits.err()).isZero();
        assertThat(fits.out()).matches("(ham|spam)\t[01]\\.\\d{4}\twin cash now\n");
    }

    @Test
    void labelsTheModelDoesNotKnowAreAnErrorAsInEvalClassify() throws Exception {
        Path eggs = tmp.resolve("eggs.csv");
        Files.writeString(eggs, "label,text\neggs,breakfast\nham,see you\n");
        // it printed "accuracy 0.00% (0/2)"-like results, counting the unknown label as a wrong answer
        CliRun r = CliRun.run("classify", "--model", classifier.toString(), "--file", eggs.toString());
        assertError(r, "--file " + eggs + ": label 'eggs' is not one of the model's [ham, spam]");
        assertThat(r.out()).isEmpty();
        assertError(CliRun.run("eval", "classify", "--model", classifier.toString(), "--train", SPAM.toString(), "--val", SPAM.toString(),
                "--test", eggs.toString()), "--test " + eggs + ": label 'eggs' is not one of the model's [ham, spam]");
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).contains(message).doesNotContain("\n").doesNotContain("Exception");
    }
}
