package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user meets running the training commands again: resuming a finished run or with another shape, outputs
 * that cannot be written (refused before the work), a directory given as data, a typed {@code --steps 0}.
 */
class RerunCliTest {
    static final Path SPAM = Path.of("src/test/resources/finetune/tiny-spam.csv");
    @TempDir
    static Path tmp;
    static Path lm, blocker;

    @BeforeAll
    static void model() throws Exception {
        lm = tmp.resolve("lm");
        ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 64, 16, 2, 2, 0f, true, true, 1e-5f), 1), lm);
        blocker = tmp.resolve("blocker"); // a file where a directory must be
        Files.writeString(blocker, "x");
    }

    static CliRun classify(Path out, String... more) {
        return CliRun.run(classifyArgs(out, more));
    }

    static String[] classifyArgs(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", "classify", "--model", lm.toString(), "--data", SPAM.toString(), "--out", out.toString(),
                "--batch-size", "4", "--eval-every", "2", "--eval-batches", "1", "--epochs", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static CliRun instruct(String kind, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", kind, "--model", lm.toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "2", "--eval-batches", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return CliRun.run(a.toArray(String[]::new));
    }

    @Test
    void aFinishedRunResumedTrainsNothingAndRewritesNothing() throws Exception {
        Path c = tmp.resolve("c");
        assertThat(classify(c).code()).isZero();
        Path state = c.resolve(Files.readString(c.resolve("latest")).strip()).resolve("trainer_state.json");
        byte[] before = Files.readAllBytes(state), model = Files.readAllBytes(c.resolve("model/model.safetensors"));
        long modified = Files.getLastModifiedTime(c.resolve("model/model.safetensors")).toMillis();
        Thread.sleep(20);
        // the same length again: done already, said so, not an error
        CliRun again = CliRun.run("finetune", "classify", "--resume", c.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.err()).isEqualTo("myllm: nothing to train: the run in " + c + " has finished its 5 steps; give a larger --steps or --epochs to continue it\n");
        assertThat(Files.getLastModifiedTime(c.resolve("model/model.safetensors")).toMillis()).isEqualTo(modified);

        Path i = tmp.resolve("i");
        assertThat(instruct("instruct", i, "--steps", "3").code()).isZero();
        Path iState = i.resolve("step-000003/trainer_state.json");
        byte[] iBefore = Files.readAllBytes(iState);
        // fewer steps than done: it rewrote step 3's checkpoint with "steps": 2 in its options and said "saved"
        CliRun past = CliRun.run("finetune", "instruct", "--resume", i.toString(), "--steps", "2");
        assertError(past, "--resume " + i + ": the run is already at step 3, past the 2 steps asked for; give a larger --steps or --epochs to continue it");
        assertThat(Files.readAllBytes(iState)).isEqualTo(iBefore);
        assertThat(Files.readAllBytes(state)).isEqualTo(before);
        assertThat(Files.readAllBytes(c.resolve("model/model.safetensors"))).isEqualTo(model);
    }

    @Test
    void aResumedRunKeepsWhatTrains() {
        Path c = tmp.resolve("k");
        assertThat(classify(c).code()).isZero();
        // it failed on "optimizer state has no 'transformer.wte.weight.exp_avg'"
        assertError(CliRun.run("finetune", "classify", "--resume", c.toString(), "--epochs", "2", "--trainable", "all"),
                "--resume " + c + ": the run was made with --trainable last-block, and a resumed run cannot change it (--trainable all needs a new run with another --out)");
        Path l = tmp.resolve("l");
        assertThat(instruct("instruct", l, "--steps", "2", "--trainable", "lora", "--lora-rank", "2").code()).isZero();
        // it said "--lora-rank and --lora-alpha need --trainable lora", of an option the user had not typed
        assertError(CliRun.run("finetune", "instruct", "--resume", l.toString(), "--steps", "4", "--trainable", "all"),
                "the run was made with --trainable lora, and a resumed run cannot change it");
        assertError(CliRun.run("finetune", "instruct", "--resume", l.toString(), "--steps", "4", "--lora-rank", "4"),
                "the run was made with --lora-rank 2, and a resumed run cannot change it");
        // made without --lora-alpha (16), it trained on with a typed alpha's scale: nothing in the checkpoint's shapes differs
        assertError(CliRun.run("finetune", "instruct", "--resume", l.toString(), "--steps", "4", "--lora-alpha", "8"),
                "--resume " + l + ": the run was made without --lora-alpha, and a resumed run cannot change it (--lora-alpha 8.0 needs a new run with another --out)");
        assertError(CliRun.run("finetune", "instruct", "--resume", l.toString(), "--steps", "4", "--lora-scale", "alpha"),
                "--resume " + l + ": the run was made without --lora-scale, and a resumed run cannot change it (--lora-scale alpha needs a new run with another --out)");
        assertThat(l.resolve("step-000004")).doesNotExist();
        // the same value again is no change
        CliRun same = CliRun.run("finetune", "instruct", "--resume", l.toString(), "--steps", "3", "--trainable", "lora", "--lora-rank", "2");
        assertThat(same.code()).as(same.err()).isZero();
    }

    @Test
    void shapeOptionsThatDisagreeWithTheCheckpointAreNamedWithItsValue() throws Exception {
        Path verdict = tmp.resolve("verdict-shape.txt");
        Files.writeString(verdict, Tokenizers.verdictText());
        Path r = tmp.resolve("shape");
        // gpt2-tiny decides the shape (2 layers, width 64, 4 heads, a tied head, a qkv bias): the options were saved as 0 or unset
        CliRun made = CliRun.run("train", "--data", verdict.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple", "--context-length", "16",
                "--batch-size", "2", "--steps", "1", "--eval-batches", "1", "--sample-every", "-1", "--out", r.toString());
        assertThat(made.code()).as(made.err()).isZero();
        byte[] state = Files.readAllBytes(r.resolve("step-000001/trainer_state.json"));
        String cannot = ", and a resumed run cannot change it (";
        // --n-layer and --n-embd failed on "missing tensors h.2..." or a tensor's shape, naming no option; --n-head trained on silently
        for (String[] c : List.of(
                new String[]{"--n-layer", "3", "the checkpoint's model has --n-layer 2" + cannot + "--n-layer 3 needs a new run with another --out)"},
                new String[]{"--n-embd", "32", "the checkpoint's model has --n-embd 64" + cannot + "--n-embd 32 needs"},
                new String[]{"--n-head", "2", "the checkpoint's model has --n-head 4" + cannot + "--n-head 2 needs"},
                new String[]{"--context-length", "32", "the checkpoint's model has --context-length 16" + cannot + "--context-length 32 needs"},
                new String[]{"--no-tie-weights", null, "the checkpoint's model has --tie-weights" + cannot + "--no-tie-weights needs"},
                new String[]{"--no-qkv-bias", null, "the checkpoint's model has --qkv-bias" + cannot + "--no-qkv-bias needs"},
                new String[]{"--tokenizer", "gpt2", "the checkpoint's model has a vocabulary of " + Tokenizers.load("simple").vocabSize() + " tokens"
                        + cannot + "--tokenizer gpt2, of 50257 tokens, needs"})) {
            List<String> a = new ArrayList<>(List.of("train", "--resume", r.toString(), "--steps", "2", c[0]));
            if (c[1] != null) a.add(c[1]);
            // the one line, before the memory estimate and the model's header
            assertError(CliRun.runCapturingStderr(a.toArray(String[]::new)), "--resume " + r + ": " + c[2]);
        }
        assertThat(r.resolve("step-000002")).doesNotExist();
        assertThat(Files.readAllBytes(r.resolve("step-000001/trainer_state.json"))).isEqualTo(state);
        // the checkpoint's own values are no change
        CliRun same = CliRun.run("train", "--resume", r.toString(), "--steps", "2", "--n-layer", "2", "--n-head", "4", "--context-length", "16",
                "--tie-weights", "--tokenizer", "simple");
        assertThat(same.code()).as(same.err()).isZero();
    }

    @Test
    void aResumedRunNamesItsPathsAsTheUserGaveThem() throws Exception {
        Path verdict = tmp.resolve("verdict-paths.txt");
        Files.writeString(verdict, Tokenizers.verdictText());
        // a relative path to the run, as a user types runs/x
        Path t = Path.of("").toAbsolutePath().relativize(tmp.resolve("paths-t"));
        CliRun first = CliRun.runCapturingStderr("train", "--data", verdict.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple",
                "--n-layer", "1", "--n-embd", "32", "--context-length", "16", "--batch-size", "2", "--steps", "1", "--eval-batches", "1",
                "--sample-every", "-1", "--out", t.toString());
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.err()).contains("saved: " + t.resolve("step-000001") + " (checkpoint), " + t.resolve("model") + " (model), "
                + t.resolve("metrics.jsonl") + ", " + t.resolve("loss.png") + "\n");
        // resumed, it printed /tmp/junit.../paths-t/step-000002 and the rest absolute
        CliRun resumed = CliRun.runCapturingStderr("train", "--resume", t.toString(), "--steps", "2");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.err()).contains("checkpoint: " + t.resolve("step-000002") + "\n")
                .contains("saved: " + t.resolve("step-000002") + " (checkpoint), " + t.resolve("model") + " (model), "
                        + t.resolve("metrics.jsonl") + ", " + t.resolve("loss.png") + "\n")
                .doesNotContain(" " + tmp).doesNotContain(" " + Path.of("").toAbsolutePath()); // no absolute path
        // a checkpoint named itself, and a budget that stops the run: the line that says how to continue names the run as given
        CliRun stopped = CliRun.runCapturingStderr("train", "--resume", t.resolve("step-000002").toString(), "--steps", "4", "--minutes", "1e-7");
        assertThat(stopped.code()).as(stopped.err()).isZero();
        assertThat(stopped.err()).endsWith("stopped at step 3 of 4: --minutes 1.0E-7 used up; continue with: myllm train --resume " + t + "\n")
                .doesNotContain(" " + tmp).doesNotContain(" " + Path.of("").toAbsolutePath()); // no absolute path

        Path c = Path.of("").toAbsolutePath().relativize(tmp.resolve("paths-c"));
        assertThat(classify(c).code()).isZero();
        CliRun more = CliRun.runCapturingStderr("finetune", "classify", "--resume", c.toString(), "--epochs", "2");
        assertThat(more.code()).as(more.err()).isZero();
        assertThat(more.err()).contains("saved: " + c.resolve("step-000010") + " (checkpoint), " + c.resolve("model") + " (model), ")
                .doesNotContain(" " + tmp).doesNotContain(" " + Path.of("").toAbsolutePath()); // no absolute path
    }

    @Test
    void outputsThatCannotBeWrittenAreRefusedBeforeTheWork() throws Exception {
        Path under = blocker.resolve("run");
        String expected = "cannot write --out " + under + ": " + blocker + " is a file, not a directory";
        // they trained (or generated every response) first, then failed with exit 1 at the first write
        assertError(classify(under), expected);
        assertError(instruct("instruct", under, "--steps", "2"), expected);
        assertError(instruct("dpo", under, "--steps", "2"), expected);
        assertError(classify(blocker), "--out " + blocker + " is a file; give a directory");
        Path verdict = tmp.resolve("verdict.txt");
        Files.writeString(verdict, Tokenizers.verdictText());
        CliRun t = CliRun.run("train", "--data", verdict.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple", "--n-layer", "1",
                "--context-length", "16", "--steps", "2", "--out", tmp.resolve("t").toString(), "--plot", under.resolve("loss.png").toString());
        assertError(t, "cannot write --plot " + under.resolve("loss.png") + ": " + blocker + " is a file, not a directory");
        assertThat(tmp.resolve("t")).doesNotExist();
        assertError(CliRun.run("book", "ch05", "--train", "--out", under.toString()), expected);

        Path dir = tmp.resolve("a-directory");
        Files.createDirectories(dir);
        CliRun e = CliRun.run("eval", "instruct", "--model", lm.toString(), "--data", "synthetic", "--synthetic-size", "40", "--limit", "2",
                "--max-new-tokens", "2", "--out", dir.toString());
        assertError(e, "--out " + dir + " is a directory; give the responses file to write");
        assertThat(e.err()).doesNotContain("responses 2/2");
        assertError(CliRun.run("eval", "instruct", "--model", lm.toString(), "--data", "synthetic", "--judge-url", "http://localhost:9",
                "--judge-timeout", "0"), "--judge-timeout must be at least 1 second, got 0"); // it said "Invalid duration: PT0S"
    }

    @Test
    void aDirectoryGivenAsDataIsNamed() throws Exception {
        Path dir = tmp.resolve("data-dir");
        Files.createDirectories(dir);
        // exit 1 with "cannot read DIR: Is a directory", naming no option
        assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", dir.toString(), "--out", tmp.resolve("d1").toString()),
                "--data: " + dir + ": is a directory, not a labelled file");
        assertError(CliRun.run("finetune", "instruct", "--model", lm.toString(), "--data", dir.toString(), "--out", tmp.resolve("d2").toString()),
                "--data: " + dir + ": is a directory, not a file of records");
        assertError(CliRun.run("eval", "instruct", "--model", lm.toString(), "--data", dir.toString()), "--data: " + dir + ": is a directory");
        assertThat(tmp.resolve("d1")).doesNotExist();
    }

    @Test
    void tooLittleDataIsSaidPlainly() throws Exception {
        Path one = tmp.resolve("one-class.csv");
        Files.writeString(one, "label,text\nham,hello\nham,see you\nham,ok then\n");
        // exit 1 and "a classifier needs at least 2 classes, got 1", naming no file
        assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", one.toString(), "--out", tmp.resolve("o1").toString()),
                "--data " + one + ": every example has the label [ham]; a classifier needs at least 2 classes");
        Path single = tmp.resolve("single.json");
        Files.writeString(single, "[{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"hi\", \"chosen\": \"hi\", \"rejected\": \"no\"}]");
        for (String kind : List.of("instruct", "dpo")) {
            // "0 records make no batch of 8; lower --batch-size": no batch size helps
            assertError(CliRun.run("finetune", kind, "--model", lm.toString(), "--data", single.toString(), "--out", tmp.resolve("o2").toString()),
                    single + " (train): no training records; give more records");
            // some records, fewer than a batch: that one is a matter of --batch-size
            CliRun few = instruct(kind, tmp.resolve("o3"), "--batch-size", "1000");
            assertError(few, "synthetic (train): ");
            assertThat(few.err()).matches("(?s).*: [1-9]\\d* records make no batch of 1000; lower --batch-size\n");
        }
    }

    @Test
    void finetuneClassifyTakesStepsAndMinutesAsTheOtherTrainingCommands() throws Exception {
        // it had neither: "Unknown option: '--steps'"
        Path s = tmp.resolve("classify-steps");
        CliRun two = CliRun.runCapturingStderr(classifyArgs(s, "--steps", "2"));
        assertThat(two.code()).as(two.err()).isZero();
        assertThat(two.err()).contains("5 batches of 4 per epoch; 2 steps\n");
        assertThat(s.resolve("latest")).hasContent("step-000002");
        assertThat(Files.readAllLines(s.resolve("metrics.jsonl"))).hasSize(2); // one line an optimizer step
        var state = new com.fasterxml.jackson.databind.ObjectMapper().readTree(s.resolve("step-000002/trainer_state.json").toFile());
        assertThat(state.get("optimizer").get("step").asText()).isEqualTo("2"); // AdamW's own count

        // a budget of 6 microseconds: over after the first step, saved so that --resume continues
        Path m = tmp.resolve("classify-minutes");
        CliRun cut = CliRun.runCapturingStderr(classifyArgs(m, "--minutes", "1e-7"));
        assertThat(cut.code()).as(cut.err()).isZero();
        assertThat(m.resolve("latest")).hasContent("step-000001");
        assertThat(m.resolve("model/model.safetensors")).exists();
        assertThat(cut.err()).endsWith("stopped at step 1 of 5: --minutes 1.0E-7 used up; continue with: myllm finetune classify --resume " + m + "\n");
        CliRun rest = CliRun.run("finetune", "classify", "--resume", m.toString(), "--minutes", "0");
        assertThat(rest.code()).as(rest.err()).isZero();
        assertThat(m.resolve("latest")).hasContent("step-000005");
        assertThat(Files.readAllLines(m.resolve("metrics.jsonl"))).hasSize(5);
    }

    @Test
    void aTypedZeroStepsIsAnErrorNotTheEpochs() throws Exception {
        // 0 is --steps' "not given": typed in, it ran the whole of --epochs
        Path out = tmp.resolve("z");
        assertError(instruct("instruct", out, "--steps", "0"), "--steps must be positive, got 0");
        assertError(classify(out, "--steps", "0"), "--steps must be positive, got 0");
        assertError(classify(out, "--minutes", "-1"), "--minutes must be >= 0, got -1.0");
        Path verdict = tmp.resolve("verdict0.txt");
        Files.writeString(verdict, Tokenizers.verdictText());
        assertError(CliRun.run("train", "--data", verdict.toString(), "--preset", "gpt2-tiny", "--steps", "0", "--out", out.toString()),
                "--steps must be positive, got 0");
        assertThat(out).doesNotExist();
    }

    @Test
    void epochsTypedOnResumeReplaceTheRunsSteps() throws Exception {
        // a run made with --steps, resumed with --epochs: the saved --steps (which overrides --epochs) was restored, the
        // typed --epochs ignored, and the run said "nothing to train ... give a larger --steps or --epochs"
        Path c = tmp.resolve("steps-then-epochs");
        assertThat(CliRun.run(classifyArgs(c, "--steps", "2")).code()).isZero();
        CliRun more = CliRun.runCapturingStderr("finetune", "classify", "--resume", c.toString(), "--epochs", "2");
        assertThat(more.code()).as(more.err()).isZero();
        assertThat(more.err()).contains("5 batches of 4 per epoch; 10 steps\n").doesNotContain("nothing to train");
        assertThat(c.resolve("latest")).hasContent("step-000010");

        Path text = tmp.resolve("short.txt");
        Files.writeString(text, Tokenizers.verdictText().substring(0, 3000));
        Path t = tmp.resolve("train-steps-then-epochs");
        String[] shape = {"--preset", "gpt2-tiny", "--n-layer", "1", "--context-length", "16", "--batch-size", "4", "--eval-every", "0",
                "--eval-batches", "1", "--sample-every", "-1"};
        List<String> first = new ArrayList<>(List.of("train", "--data", text.toString(), "--out", t.toString(), "--steps", "2"));
        first.addAll(List.of(shape));
        CliRun two = CliRun.run(first.toArray(String[]::new));
        assertThat(two.code()).as(two.err()).isZero();
        CliRun epoch = CliRun.run("train", "--resume", t.toString(), "--epochs", "1");
        assertThat(epoch.code()).as(epoch.err()).isZero();
        assertThat(epoch.err()).doesNotContain("nothing to train");
        assertThat(Files.readString(t.resolve("latest")).strip()).isNotEqualTo("step-000002");
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).contains(message).doesNotContain("\n").doesNotContain("Exception");
    }
}
