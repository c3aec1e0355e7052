package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.Myllm;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.TokenizerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hugging Face model directory (config.json, model.safetensors, tokenizer.json) is read with its own tokenizer.json
 * by every command and by the library, as {@code transformers} reads it: the fixture's ids are the ones the real
 * {@code tokenizers} gave (tools/hf_tokenizer_fixture.py). Before, GPT-2's vocabulary was used without a word.
 */
class HfTokenizerDirectoryTest {
    static JsonNode expected;

    @BeforeAll
    static void read() throws Exception {
        expected = new ObjectMapper().readTree(fixture("bytelevel/expected.json").toFile());
    }

    static Path fixture(String name) throws Exception {
        return Path.of(HfTokenizerDirectoryTest.class.getResource("/hftok/" + name).toURI());
    }

    /** A tiny GPT-2 with GPT-2's vocabulary size, as transformers saves one, with the fixture's tokenizer.json beside it. */
    static Path hfModel(Path dir, String fixture, int vocabSize) throws Exception {
        ModelDirectory.save(new GPTModel(new GPTConfig(vocabSize, 64, 16, 2, 1, 0f, true, true, 1e-5f), 3), dir);
        if (fixture != null) Files.copy(fixture(fixture + "/tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }

    static String text(int i) {
        return expected.get("cases").get(i).get("text").asText();
    }

    static int[] ids(int i) {
        return new ObjectMapper().convertValue(expected.get("cases").get(i).get("ids"), int[].class);
    }

    static String generated(Path model, String... more) {
        String[] args = {"generate", "--model", model.toString(), "--prompt", text(1), "--max-new-tokens", "5", "--ids"};
        CliRun g = run(concat(args, more));
        assertThat(g.code()).as(g.err()).isZero();
        return g.out();
    }

    static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void everyCommandAndTheLibraryReadTheDirectorysTokenizerJson(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "bytelevel", 50257);
        // score tokenizes --text into the ids tokenizers gives: the same loss as those ids given as they are
        Path idsFile = Files.writeString(tmp.resolve("ids.txt"), Arrays.stream(ids(0)).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        CliRun byText = run("score", "--model", m.toString(), "--text", text(0), "--json");
        CliRun byIds = run("score", "--model", m.toString(), "--ids-file", idsFile.toString(), "--json");
        assertThat(byText.code()).as(byText.err()).isZero();
        assertThat(byText.out()).isEqualTo(byIds.out()).contains("\"tokens\":" + ids(0).length + ",");
        // generate reads the prompt as naming the file does
        assertThat(generated(m)).isEqualTo(generated(m, "--tokenizer", m.resolve("tokenizer.json").toString()));
        // tokenize takes the directory as its tokenizer folder
        Path textFile = Files.writeString(tmp.resolve("text.txt"), text(1));
        CliRun t = run("tokenize", "-t", m.toString(), textFile.toString());
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out().strip()).isEqualTo(Arrays.stream(ids(1)).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        // the library's loaders
        for (Myllm l : new Myllm[]{Myllm.load(m), Myllm.loadForInference(m, "f32")}) {
            for (int i = 0; i < expected.get("cases").size(); i++) assertThat(l.tokenize(text(i))).as(text(i)).containsExactly(ids(i));
        }
        // an explicit --tokenizer still wins
        CliRun gpt2 = run("score", "--model", m.toString(), "--text", text(0), "--json", "--tokenizer", "gpt2");
        assertThat(gpt2.out()).contains("\"tokens\":" + BpeTokenizer.gpt2().encode(text(0), dev.myllm.tokenizer.Specials.ALLOW).length + ",");
    }

    @Test
    void exportAndTrainingKeepTheTokenizerJsonWhereTransformersLooksForIt(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "bytelevel", 50257);
        // a directory written before: its stale myllm-tokenizer.json would be read first
        Path copy = Files.createDirectories(tmp.resolve("copy"));
        Files.writeString(copy.resolve("myllm-tokenizer.json"), "{}");
        CliRun e = run("export", "--model", m.toString(), "--out", copy.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).doesNotContain("note:");
        assertThat(copy.resolve("tokenizer.json")).hasSameBinaryContentAs(m.resolve("tokenizer.json"));
        assertThat(copy.resolve("myllm-tokenizer.json")).doesNotExist();
        assertThat(generated(copy)).isEqualTo(generated(m));
        // exporting again over it: the tokenizer.json written there is a model's file, so the directory is replaced whole
        CliRun again = run("export", "--model", m.toString(), "--out", copy.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(copy.resolve("tokenizer.json")).hasSameBinaryContentAs(m.resolve("tokenizer.json"));
        // through a GGUF file, whose tokenizer is inside it: written out as a tokenizer.json that reads the same ids
        Path gguf = tmp.resolve("m.gguf"), back = tmp.resolve("back");
        assertThat(run("export", "--model", m.toString(), "--format", "gguf", "--out", gguf.toString()).code()).isZero();
        assertThat(run("export", "--model", gguf.toString(), "--out", back.toString()).code()).isZero();
        assertThat(back.resolve("tokenizer.json")).exists();
        assertThat(back.resolve("myllm-tokenizer.json")).doesNotExist();
        assertThat(generated(back)).isEqualTo(generated(gguf)).isEqualTo(generated(m));
        // train --init reads the data with it and keeps it beside the model it saves
        Path runDir = tmp.resolve("run");
        CliRun t = CliRun.runCapturingStderr("train", "--init", m.toString(), "--data", "verdict", "--steps", "1", "--batch-size", "1",
                "--context-length", "16", "--out", runDir.toString());
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(runDir.resolve("model/tokenizer.json")).hasSameBinaryContentAs(m.resolve("tokenizer.json"));
        assertThat(runDir.resolve("model/myllm-tokenizer.json")).doesNotExist();
    }

    @Test
    void aRunFromAHuggingFaceModelResumesFromItsCheckpointsTokenizerJsonAfterTheModelIsGone(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "bytelevel", 50257);
        byte[] vocab = Files.readAllBytes(m.resolve("tokenizer.json"));
        Path whole = tmp.resolve("whole"), cut = tmp.resolve("cut");
        for (Path out : java.util.List.of(whole, cut)) {
            CliRun t = CliRun.runCapturingStderr("train", "--init", m.toString(), "--data", "verdict", "--steps", "2", "--batch-size", "1",
                    "--context-length", "16", "--eval-every", "1", "--eval-batches", "1", "--sample-every", "-1", "--checkpoint-every", "1",
                    "--seed", "7", "--out", out.toString());
            assertThat(t.code()).as(t.err()).isZero();
        }
        // the checkpoint keeps the vocabulary as tokenizer.json; killed after step 1 and the model deleted, the run reads it from there
        assertThat(cut.resolve("step-000001/tokenizer.json")).hasBinaryContent(vocab);
        Files.writeString(cut.resolve("latest"), "step-000001\n");
        try (var files = Files.walk(m)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        CliRun r = CliRun.runCapturingStderr("train", "--resume", cut.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(TrainCommandTest.losses(cut.resolve("metrics.jsonl"))).containsExactlyElementsOf(TrainCommandTest.losses(whole.resolve("metrics.jsonl")));
        assertThat(cut.resolve("model/tokenizer.json")).hasBinaryContent(vocab);
        assertThat(cut.resolve("model/myllm-tokenizer.json")).doesNotExist();
    }

    @Test
    void gpt2sOwnTokenizerJsonGivesWhatTheBuiltInVocabularyGave(@TempDir Path tmp) throws Exception {
        Path plain = hfModel(tmp.resolve("plain"), null, 50257);
        Path withFile = tmp.resolve("with-file");
        Files.createDirectories(withFile);
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(plain.resolve(f), withFile.resolve(f));
        Files.writeString(withFile.resolve("tokenizer.json"), TokenizerJson.of(BpeVocab.of(BpeTokenizer.gpt2(), 50257)));
        for (int i = 0; i < expected.get("cases").size(); i++) {
            CliRun a = run("score", "--model", plain.toString(), "--text", text(i), "--json");
            assertThat(a.code()).as(a.err()).isZero();
            assertThat(run("score", "--model", withFile.toString(), "--text", text(i), "--json").out()).isEqualTo(a.out());
        }
        assertThat(generated(withFile)).isEqualTo(generated(plain));
    }

    @Test
    void aTokenizerJsonMyllmCannotRepresentIsRefusedInOneLine(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "metaspace", 50257);
        for (String cmd : new String[]{"generate", "score"}) {
            CliRun r = run(cmd, "--model", m.toString(), cmd.equals("generate") ? "--prompt" : "--text", "Every effort moves you");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("myllm: --model " + m.resolve("tokenizer.json") + ": ").contains("Metaspace")
                    .endsWith("; name the tokenizer to use with --tokenizer\n").containsOnlyOnce("\n");
        }
        // named, another tokenizer is used and the file is not read
        generated(m, "--tokenizer", "gpt2");
    }

    @Test
    void infoNamesTheTokenizerAModelDirectoryUses(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "bytelevel", 50257), plain = hfModel(tmp.resolve("plain"), null, 50257);
        assertThat(run("info", "--model", m.toString()).out()).contains("\n  tokenizer         tokenizer.json (300 tokens)\n");
        assertThat(run("info", "--model", m.toString(), "--json").out()).contains("\"tokenizer\":{\"source\":\"tokenizer.json\",\"tokens\":300}");
        assertThat(run("info", "--model", plain.toString()).out()).contains("\n  tokenizer         gpt2 (built in; the directory has none)\n");
        assertThat(run("info", "--model", plain.toString(), "--json").out()).contains("\"tokenizer\":{\"source\":\"gpt2\",\"tokens\":50257}");
        Path gguf = tmp.resolve("m.gguf");
        assertThat(run("export", "--model", m.toString(), "--format", "gguf", "--out", gguf.toString()).code()).isZero();
        assertThat(run("info", "--model", gguf.toString()).out()).contains("\n  tokenizer         embedded in the file (300 tokens)\n");
        // one it cannot represent: refused as every command refuses it
        Path bad = hfModel(tmp.resolve("bad"), "metaspace", 50257);
        CliRun r = run("info", "--model", bad.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("myllm: --model " + bad.resolve("tokenizer.json") + ": ").containsOnlyOnce("\n");
    }

    @Test
    void aVocabularyLargerThanTheModelsIsRefusedBeforeTheWeightsAreRead(@TempDir Path tmp) throws Exception {
        Path m = hfModel(tmp.resolve("m"), "bytelevel", 280);
        CliRun r = run("generate", "--model", m.toString(), "--prompt", "Every effort");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --model " + m.resolve("tokenizer.json") + " has 300 tokens but " + m.resolve("config.json")
                + " has vocab_size 280; name the tokenizer to use with --tokenizer\n");
    }
}
