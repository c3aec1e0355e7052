package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Options a command took without a word or refused with a message that named no option: a {@code --max-length}
 * past the context, labels a classifier does not know, a directory or binary {@code --ids-file}, outputs that
 * cannot be written.
 */
class OptionErrorsCliTest {
    static final Path SPAM = Path.of("src/test/resources/finetune/tiny-spam.csv");
    @TempDir
    static Path tmp;
    static Path lm, classifier, blocker;

    @BeforeAll
    static void models() throws Exception {
        lm = tmp.resolve("lm");
        ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f), 1), lm);
        Path run = tmp.resolve("run");
        CliRun r = CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", SPAM.toString(), "--out", run.toString(),
                "--batch-size", "4", "--eval-every", "2", "--eval-batches", "1", "--epochs", "1", "--max-length", "16");
        assertThat(r.code()).as(r.err()).isZero();
        classifier = run.resolve("model");
        blocker = tmp.resolve("blocker"); // a file where a directory must be
        Files.writeString(blocker, "x");
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

    @Test
    void textsGivenBesideALabelledFileAreNotScoredAgainstItsLabels() throws Exception {
        Path two = tmp.resolve("two.csv");
        Files.writeString(two, "label,text\nspam,WINNER claim your free cash prize\nham,see you at lunch\n");
        CliRun alone = CliRun.run("classify", "--model", classifier.toString(), "--file", two.toString());
        assertThat(alone.code()).as(alone.err()).isZero();
        List<String> fileLines = alone.out().lines().toList();
        // the labels were read from the first text on, so "hi" took the first row's label, each row the next one's,
        // and the last row failed on an index past the end
        CliRun both = CliRun.run("classify", "--model", classifier.toString(), "--file", two.toString(), "hi");
        assertThat(both.code()).as(both.err()).isZero();
        List<String> lines = both.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).matches("(ham|spam)\t[01]\\.\\d{4}\thi");
        assertThat(lines.subList(1, 4)).isEqualTo(fileLines); // the same predictions and the same accuracy, over the file's rows
        assertThat(fileLines.get(2)).matches("accuracy \\d+\\.\\d{2}% \\(\\d/2\\)");
        for (String line : CliRun.run("classify", "--model", classifier.toString(), "--file", two.toString(), "--json", "hi").out().lines().toList()) {
            assertThat(line.contains("\"true_label\"")).as(line).isEqualTo(!line.contains("\"text\":\"hi\""));
        }
    }

    @Test
    void anIdsFileThatIsADirectoryOrBinaryIsNamed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ids-dir"));
        // "--ids-file: no such file: DIR"
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", dir.toString()),
                "--ids-file " + dir + " is a directory; give a file of token ids");
        // a link loop was "no such file": say why it cannot be read
        Path loop = Files.createSymbolicLink(tmp.resolve("ids-loop"), Path.of("ids-loop"));
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", loop.toString()),
                "--ids-file " + loop + ": Too many levels of symbolic links");
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", tmp.resolve("none.txt").toString()),
                "--ids-file " + tmp.resolve("none.txt") + ": no such file or directory");
        Path bin = tmp.resolve("ids.bin");
        Files.write(bin, new byte[]{(byte) 0xc6, 0x4d, 0x34, 0x01, (byte) 0xff, (byte) 0xfe});
        // "--ids-file: cannot read FILE: Input length = 1"
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", bin.toString()),
                "--ids-file " + bin + " is not UTF-8 text of token ids; give whitespace-separated ids or an integer .npy file");
        Path ids = tmp.resolve("ids.txt");
        Files.writeString(ids, "40 318 257\n");
        CliRun ok = CliRun.run("score", "--model", lm.toString(), "--ids-file", ids.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("tokens         3 (2 predicted)\n");
    }

    @Test
    void anIdsFileOfRowsIsRefusedNotFlattened() throws Exception {
        Path rows = tmp.resolve("rows.npy");
        dev.myllm.io.Npy.writeInts(rows, new int[]{40, 318, 257, 40, 318, 257}, 2, 3);
        // score reads one sequence; it scored the two rows as one of 6 tokens
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", rows.toString()),
                "--ids-file " + rows + " has shape (2, 3); give one sequence of token ids (a 1-D array)");
        Path one = tmp.resolve("one.npy");
        dev.myllm.io.Npy.writeInts(one, new int[]{40, 318, 257}, 3);
        CliRun ok = CliRun.run("score", "--model", lm.toString(), "--ids-file", one.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("tokens         3 (2 predicted)\n");
    }

    @Test
    void outputsThatCannotBeWrittenAreNamedBeforeTheWork() throws Exception {
        Path ids = tmp.resolve("ids-out.txt");
        Files.writeString(ids, "40 318 257\n");
        Path logits = blocker.resolve("logits.npy");
        // exit 1, "cannot write ...", naming no option, after the model had run
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", ids.toString(), "--logits-out", logits.toString()),
                "cannot write --logits-out " + logits + ": " + blocker + " is a file, not a directory");
        Path responses = blocker.resolve("responses.json");
        CliRun e = CliRun.run("eval", "instruct", "--model", lm.toString(), "--data", "synthetic", "--synthetic-size", "40", "--limit", "2",
                "--max-new-tokens", "2", "--out", responses.toString());
        assertError(e, "cannot write --out " + responses + ": " + blocker + " is a file, not a directory");
        assertThat(e.err()).doesNotContain("responses 2/2");
        Path text = tmp.resolve("corpus.txt");
        Files.writeString(text, "Some words to tokenize.\n");
        Path dir = Files.createDirectories(tmp.resolve("bin-dir"));
        assertError(CliRun.run("data", "prepare", "--out", dir.toString(), text.toString()), "--out " + dir + " is a directory; give the token file to write");
        Path under = blocker.resolve("corpus.bin");
        assertError(CliRun.run("data", "prepare", "--out", under.toString(), text.toString()),
                "cannot write --out " + under + ": " + blocker + " is a file, not a directory");
        Path good = tmp.resolve("corpus.bin");
        CliRun ok = CliRun.run("data", "prepare", "--out", good.toString(), text.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("wrote (\\d+) tokens").matcher(ok.out());
        assertThat(m.find()).as(ok.out()).isTrue();
        assertThat(Files.size(good)).isEqualTo(1024 + 2L * Integer.parseInt(m.group(1))); // the llm.c header, then uint16 tokens
    }

    @Test
    void exportsOutIsRefusedBeforeTheWorkInTheWordsOfEveryOtherOut() throws Exception {
        // a model directory and a classifier's: "--out FILE: exists and is not a directory" (exit 1 for the model, after it was
        // built) and "--out cannot write FILE/x: not a directory (a file is in its place)"
        assertError(CliRun.run("export", "--model", lm.toString(), "--out", blocker.toString()), "--out " + blocker + " is a file; give a directory");
        Path under = blocker.resolve("x");
        assertError(CliRun.run("export", "--model", lm.toString(), "--out", under.toString()),
                "cannot write --out " + under + ": " + blocker + " is a file, not a directory");
        assertError(CliRun.run("export", "--model", classifier.toString(), "--out", blocker.toString()), "--out " + blocker + " is a file; give a directory");
        // a GGUF file: its folder was found only when the file was written
        Path gguf = blocker.resolve("m.gguf");
        assertError(CliRun.run("export", "--model", lm.toString(), "--format", "gguf", "--out", gguf.toString()),
                "cannot write --out " + gguf + ": " + blocker + " is a file, not a directory");
        assertThat(blocker).hasContent("x");
    }

    @Test
    void aTokenizerThatIsNotThereIsAUsageErrorNamingTheOption() {
        Path missing = tmp.resolve("nope.json");
        String expected = "--tokenizer: tokenizer not found: " + missing;
        // tokenize, data prepare and train said "tokenizer not found" and exited 1, where generate and score name the option
        assertError(CliRun.run("tokenize", "--tokenizer", missing.toString(), SPAM.toString()), expected);
        assertError(CliRun.run("data", "prepare", "--tokenizer", missing.toString(), "--out", tmp.resolve("t.bin").toString(), SPAM.toString()),
                expected);
        assertError(CliRun.run("train", "--tokenizer", missing.toString(), "--data", SPAM.toString(), "--preset", "gpt2-tiny",
                "--out", tmp.resolve("t").toString()), expected);
        assertError(CliRun.run("tokenize", "--tokenizer", "gpt3", SPAM.toString()), "--tokenizer: tokenizer not found: gpt3");
    }

    @Test
    void aMistypedDatasetNameListsTheDatasets() {
        // the instruction commands said "--data: synthetc: no such file", listing no names
        String instructions = "--data: no such instruction file or dataset: synthetc (datasets: instructions, preferences, synthetic)";
        for (String kind : List.of("instruct", "dpo")) {
            assertError(CliRun.run("finetune", kind, "--model", lm.toString(), "--data", "synthetc", "--out", tmp.resolve("typo-" + kind).toString()),
                    instructions);
            assertThat(tmp.resolve("typo-" + kind)).doesNotExist();
        }
        assertError(CliRun.run("eval", "instruct", "--model", lm.toString(), "--data", "synthetc"), instructions);
        // the others did already
        String labelled = "--data: no such labelled file or dataset: spma (datasets: sms-spam, spam)";
        assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", "spma", "--out", tmp.resolve("typo-c").toString()), labelled);
        assertError(CliRun.run("eval", "classify", "--model", classifier.toString(), "--data", "spma"), labelled);
        String corpus = "no such file, folder or dataset: austn (datasets: austen, tinyshakespeare, verdict)";
        CliRun typo = CliRun.runCapturingStderr("train", "--data", "austn", "--preset", "gpt2-tiny", "--out", tmp.resolve("typo-t").toString());
        assertError(typo, "--data: " + corpus); // (alone: the memory estimate comes after the data is read)
        assertError(CliRun.run("data", "prepare", "austn", "--out", tmp.resolve("typo.bin").toString()), corpus);
        assertError(CliRun.run("tokenize", "austn"), "no such file or dataset: austn (datasets: austen, tinyshakespeare, verdict)");
    }

    @Test
    void exportMergeLoraOfAMistypedModelNamesTheModel() {
        Path missing = tmp.resolve("no-such-run/model");
        // it said "--merge-lora: ... has no LoRA adapter", sending the user to look for an adapter in a directory that is not there
        assertError(CliRun.run("export", "--model", missing.toString(), "--merge-lora", "--out", tmp.resolve("m").toString()),
                "--model " + missing + ": no such file or directory");
        assertError(CliRun.run("export", "--model", lm.toString(), "--merge-lora", "--out", tmp.resolve("m").toString()),
                "--merge-lora: " + lm + " has no LoRA adapter (adapter_config.json)");
    }

    @Test
    void aTypedLayerCountBelowOneIsRefusedAsTrainRefusesIt() {
        // 0 is --n-layer's "not given": typed, 0 and -2 benchmarked the preset's 2 layers without a word
        for (String n : List.of("0", "-2")) {
            CliRun r = CliRun.run("bench", "finetune", "--preset", "gpt2-tiny", "--n-layer", n, "--steps", "1", "--warmup", "0",
                    "--batch-size", "1", "--context-length", "8");
            assertError(r, "--n-layer must be positive, got " + n);
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void benchTrainRefusesATypedShapeBelowOne() {
        // bench train's shape overrides have the same "not given" 0: typed, they benchmarked the preset's shape
        for (String option : List.of("--n-layer", "--n-embd", "--n-head", "--vocab-size")) {
            CliRun r = CliRun.run("bench", "train", "--preset", "gpt2-tiny", option, "0", "--steps", "1", "--warmup", "0",
                    "--batch-size", "1", "--context-length", "8");
            assertError(r, option + " must be positive, got 0");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void scoresSequenceErrorsNameTheOptionItCameFrom() throws Exception {
        // "the sequence has 1 token; scoring needs at least 2", "token id 60000 at position 1 is outside the vocabulary":
        // from --text or from which --ids-file, the line did not say
        assertError(CliRun.run("score", "--model", lm.toString(), "--text", "hi"), "--text: the sequence has 1 token; scoring needs at least 2");
        Path ids = tmp.resolve("big-id.txt");
        Files.writeString(ids, "1 60000 2\n");
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", ids.toString()),
                "--ids-file " + ids + ": token id 60000 at position 1 is outside the vocabulary of 50257");
        Path many = tmp.resolve("many-ids.txt");
        Files.writeString(many, "1 ".repeat(41));
        assertError(CliRun.run("score", "--model", lm.toString(), "--ids-file", many.toString()),
                "--ids-file " + many + ": the sequence has 41 tokens but the model's context length is 40");
    }

    @Test
    void classifyNamesAFileThatIsADirectoryOrHasNoTexts() throws Exception {
        // "--file: cannot read DIR: Is a directory" (the system's words), and for an empty file "nothing to classify:
        // give texts or --file FILE", though --file was given
        assertError(CliRun.run("classify", "--model", classifier.toString(), "--file", tmp.toString()),
                "--file " + tmp + " is a directory; give a file of texts");
        Path blank = tmp.resolve("blank.txt");
        Files.writeString(blank, "\n  \n");
        assertError(CliRun.run("classify", "--model", classifier.toString(), "--file", blank.toString()), "--file " + blank + " holds no texts");
    }

    @Test
    void aContextLengthPastAModelsIsNamedNotATensorShape() {
        // it said "--model DIR/model.safetensors: tensor 'wpe.weight' has shape [40, 16], expected [41, 16] for ..."
        String expected = "--context-length 41 exceeds the context length 40 of --model " + lm + " (its position table has 40 rows)";
        assertError(CliRun.run("generate", "--model", lm.toString(), "--context-length", "41", "--prompt", "hi", "--max-new-tokens", "1"), expected);
        assertError(CliRun.run("score", "--model", lm.toString(), "--context-length", "41", "--text", "hi there"), expected);
        assertError(CliRun.run("info", "--model", lm.toString(), "--context-length", "41"), expected);
        // a shorter one is a shorter window on the same weights
        CliRun shorter = CliRun.run("generate", "--model", lm.toString(), "--context-length", "8", "--prompt", "hi", "--max-new-tokens", "12");
        assertThat(shorter.code()).as(shorter.err()).isZero();
    }

    @Test
    void aHeadOrBiasOverrideAgainstAModelsOwnIsNamed() throws Exception {
        // they failed on the weights: "config.json says myllm_qkv_bias: false" (it did not: the option did), "missing tensor
        // lm_head.weight", or a GGUF file that "holds ..., not the configuration asked for"
        assertError(CliRun.run("generate", "--model", lm.toString(), "--no-qkv-bias", "--prompt", "hi"),
                "--no-qkv-bias: --model " + lm + " has a bias on its QKV projection; leave the option out");
        assertError(CliRun.run("score", "--model", lm.toString(), "--no-tie-weights", "--text", "hi there"),
                "--no-tie-weights: --model " + lm + " has its output head tied to the token embedding; leave the option out");
        Path untied = tmp.resolve("untied");
        ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, false, false, 1e-5f), 1), untied);
        assertError(CliRun.run("generate", "--model", untied.toString(), "--qkv-bias", "--prompt", "hi"),
                "--qkv-bias: --model " + untied + " has no bias on its QKV projection; leave the option out");
        assertError(CliRun.run("info", "--model", untied.toString(), "--tie-weights"),
                "--tie-weights: --model " + untied + " has a separate output head; leave the option out");
        // the model's own values are no change
        CliRun same = CliRun.run("generate", "--model", lm.toString(), "--qkv-bias", "--tie-weights", "--prompt", "hi", "--max-new-tokens", "1");
        assertThat(same.code()).as(same.err()).isZero();
    }

    @Test
    void shapeOverridesBesideAClassifierAreRefusedAsInfoRefusesThem() throws Exception {
        // serve and export took them and ran or wrote the classifier as saved without a word
        String expected = "--context-length, --qkv-bias and --tie-weights change a model's shape; a classifier (" + classifier + ") is used as saved";
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            String port = Integer.toString(taken.getLocalPort());
            assertError(CliRun.run("serve", "--model", classifier.toString(), "--context-length", "8", "--port", port), expected);
        }
        assertError(CliRun.run("export", "--model", classifier.toString(), "--no-qkv-bias", "--out", tmp.resolve("shape-export").toString()),
                expected);
        assertThat(tmp.resolve("shape-export")).doesNotExist();
    }

    @Test
    void initWithAModelIsRefusedNotIgnored() throws Exception {
        // --init draws a preset's random weights: with --model every command ran the model's own weights without a word
        String expected = "--init applies to a --preset (a --model has its weights)";
        assertError(CliRun.run("generate", "--model", lm.toString(), "--init", "book", "--prompt", "hi", "--max-new-tokens", "1"), expected);
        assertError(CliRun.run("score", "--model", lm.toString(), "--init", "gpt2", "--text", "hi there"), expected);
        assertError(CliRun.run("info", "--model", lm.toString(), "--init", "book"), expected);
        assertError(CliRun.run("info", "--model", classifier.toString(), "--init", "book"), expected);
        assertError(CliRun.run("export", "--model", lm.toString(), "--init", "book", "--out", tmp.resolve("init-export").toString()), expected);
        assertThat(tmp.resolve("init-export")).doesNotExist();
        assertError(CliRun.run("export", "--model", classifier.toString(), "--init", "book", "--out", tmp.resolve("init-export").toString()),
                expected);
        assertThat(tmp.resolve("init-export")).doesNotExist();
        // a port in use: a server that got past the model stops there instead of listening
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            String port = Integer.toString(taken.getLocalPort());
            assertError(CliRun.run("serve", "--model", lm.toString(), "--init", "book", "--port", port), expected);
            assertError(CliRun.run("serve", "--model", classifier.toString(), "--init", "book", "--port", port), expected);
        }
        // a preset still takes it
        CliRun preset = CliRun.run("info", "--preset", "gpt2-tiny", "--init", "book");
        assertThat(preset.code()).as(preset.err()).isZero();
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip()).contains(message).doesNotContain("\n").doesNotContain("Exception");
    }
}
