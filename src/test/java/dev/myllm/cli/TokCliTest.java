package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;

import dev.myllm.data.TokenBin;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class TokCliTest {

    @Test
    void aModelDirectoryAsTheTokenizerIsItsOwnVocabulary(@TempDir Path dir) throws Exception {
        // a trained run's model directory: -t DIR reads the myllm-tokenizer.json generate --model DIR reads (before: "no tokenizer.json ...")
        Path model = Files.createDirectories(dir.resolve("model"));
        new dev.myllm.tokenizer.BpeTrainer().train(java.util.List.of(Tokenizers.verdictText()), 300, java.util.List.of("<|endoftext|>"), null)
                .save(model.resolve("myllm-tokenizer.json"));
        Path f = Files.writeString(dir.resolve("t.txt"), "I had always thought Jack Gisburn<|endoftext|>");
        CliRun byDir = run("tokenize", "-t", model.toString(), f.toString());
        assertThat(byDir.code()).as(byDir.err()).isZero();
        assertThat(byDir.out()).isEqualTo(run("tokenize", "-t", model.resolve("myllm-tokenizer.json").toString(), f.toString()).out());
    }

    @Test
    void tokenizeFormats(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("t.txt"), "Hello, world<|endoftext|>");
        assertThat(run("tokenize", f.toString()).out().strip()).isEqualTo("15496 11 995 50256");
        assertThat(run("tokenize", "--specials", "text", "-f", "count", f.toString()).out().strip()).isEqualTo("10");
        assertThat(run("tokenize", "-f", "tokens", f.toString()).out()).startsWith("15496\t\"Hello\"\n11\t\",\"\n995\t\" world\"\n");
        // --json, as every other command spells it; --format json, its first spelling, still works but is not offered
        String json = "{\"file\":\"" + f + "\",\"tokenizer\":\"gpt2\",\"count\":4,\"ids\":[15496,11,995,50256]}\n";
        assertThat(run("tokenize", "--json", f.toString()).out()).isEqualTo(json);
        assertThat(run("tokenize", "-f", "json", f.toString()).out()).isEqualTo(json);
        assertThat(run("tokenize", "--help").out()).contains("--json", "--format=ids|tokens|count\n").doesNotContain("json.");
        CliRun both = run("tokenize", "--json", "--format", "count", f.toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("myllm: give --json or --format count, not both\n");
        assertThat(run("tokenize", "--format", "xml", f.toString()).err()).isEqualTo("myllm: --format must be ids, tokens or count (or --json), got 'xml'\n");
        CliRun r = run("tokenize", "--specials", "error", f.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).startsWith("myllm: ").contains("<|endoftext|>").doesNotContain("\n");
        CliRun missing = run("tokenize", dir.resolve("none.txt").toString());
        assertThat(missing.code()).isNotZero();
        assertThat(missing.err()).contains("none.txt");
        assertThat(run("tokenize", "-t", dir.resolve("v.json").toString(), f.toString()).err()).contains("v.json");
        // a GGUF file lends its embedded tokenizer, as --tokenizer FILE.gguf does wherever a model is read (it was refused)
        Path gguf = Path.of(TokCliTest.class.getResource("/gguf/tiny-f32.gguf").toURI());
        CliRun embedded = run("tokenize", "-t", gguf.toString(), f.toString());
        assertThat(embedded.code()).as(embedded.err()).isZero();
        int[] ids = dev.myllm.io.GgufModel.tokenizer(gguf).encode(Files.readString(f), dev.myllm.tokenizer.Specials.ALLOW);
        assertThat(embedded.out()).isEqualTo(java.util.Arrays.stream(ids).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(" ")) + "\n");
        // another binary file is named, not quoted: the message used to carry its bytes
        Path binaryFile = Files.write(f.resolveSibling("model.bin"), new byte[]{0, 1, 2, (byte) 0xff});
        CliRun binary = run("tokenize", "-t", binaryFile.toString(), f.toString());
        assertThat(binary.code()).isEqualTo(2);
        assertThat(binary.err()).isEqualTo("myllm: --tokenizer: " + binaryFile + ": not a tokenizer file (expected myllm-bpe JSON, tokenizer.json or .tiktoken)\n");
    }

    @Test
    void aSpecialTokenRefusedByDashDashSpecialsErrorNamesItsFileAndNothingIsPrinted(@TempDir Path dir) throws Exception {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "Hello");
        Path special = Files.writeString(dir.resolve("special.txt"), "Hello<|endoftext|>");
        // it printed the first file's ids ("15496"), then "input contains the special token ..." with exit 1,
        // naming neither the file nor the option
        CliRun r = run("tokenize", "--specials", "error", plain.toString(), special.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).endsWith("myllm: " + special + ": input contains the special token <|endoftext|> at character 5;"
                + " allow specials or treat them as text\n");
        assertThat(r.out()).isEmpty();
        CliRun missing = run("tokenize", plain.toString(), dir.resolve("none.txt").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.out()).isEmpty();
        assertThat(run("tokenize", plain.toString(), plain.toString()).out()).isEqualTo("15496\n15496\n");
        // text that is not UTF-8 is an input error offering the command's --replace-invalid, as train and demo say it (the
        // library, which has no such option, says to save it as UTF-8)
        Path latin1 = Files.write(dir.resolve("latin1.txt"), "caf\u00e9".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        CliRun bad = run("tokenize", plain.toString(), latin1.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("myllm: " + latin1 + ": invalid UTF-8 at byte offset 3 (use --replace-invalid to decode with replacement characters)\n");
        assertThat(bad.out()).isEmpty();
        assertThat(run("tokenize", "--replace-invalid", latin1.toString()).code()).isZero();
    }

    @Test
    void tokenizeTakesADatasetNameAsTheReadmeShows(@TempDir Path dir) {
        var before = TokenizeCommand.datasets;
        // nothing listens on port 1: the story must come from the jar
        TokenizeCommand.datasets = () -> new dev.myllm.data.NamedDatasets(dir, "http://127.0.0.1:1", false);
        try {
            CliRun r = run("tokenize", "--tokenizer", "simple", "verdict", "--format", "count");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out().strip()).isEqualTo("4690");
            CliRun missing = run("tokenize", "verdikt");
            assertThat(missing.code()).isNotZero();
            assertThat(missing.err().strip()).isEqualTo("myllm: no such file or dataset: verdikt (datasets: austen, tinyshakespeare, verdict)");
        } finally {
            TokenizeCommand.datasets = before;
        }
    }

    @Test
    void trainThenUseTheVocabularyThenPrepare(@TempDir Path dir) throws Exception {
        Path verdict = Files.writeString(dir.resolve("verdict.txt"), Tokenizers.verdictText());
        Path vocab = dir.resolve("v.json");
        CliRun r = run("tokenizer", "train", "--vocab-size", "1000", "--out", vocab.toString(), verdict.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("learned 742 merges");
        Path jack = Files.writeString(dir.resolve("jack.txt"), "Jack embraced beauty through art and life.");
        assertThat(run("tokenize", "-t", vocab.toString(), jack.toString()).out().strip())
                .isEqualTo("74 361 310 109 98 420 397 100 300 428 116 121 519 699 299 808 534");

        Path bin = dir.resolve("v.bin");
        CliRun p = run("data", "prepare", "--out", bin.toString(), verdict.toString(), jack.toString());
        assertThat(p.code()).as(p.err()).isZero();
        Tokenizer g = Tokenizers.load("gpt2");
        int[] ids = TokenBin.read(bin);
        assertThat(ids).hasSize(5145 + 1 + g.encode("Jack embraced beauty through art and life.", Specials.ERROR).length);
        assertThat(ids[5145]).isEqualTo(50256);

        assertThat(run("tokenizer", "train", "--vocab-size", "100", "--out", vocab.toString(), verdict.toString()).err())
                .contains("--vocab-size must be at least 258");
        // an --out that cannot be written is found before the merges are learned, and named
        CliRun d = run("tokenizer", "train", "--vocab-size", "1000", "--out", dir.toString(), verdict.toString());
        assertThat(d.code()).isNotZero();
        assertThat(d.err().strip()).isEqualTo("myllm: --out " + dir + " is a directory; give the vocabulary file to write");
        CliRun f = run("tokenizer", "train", "--vocab-size", "1000", "--out", jack.resolve("v.json").toString(), verdict.toString());
        assertThat(f.code()).isNotZero();
        assertThat(f.err().strip()).contains("cannot write --out " + jack.resolve("v.json") + ": " + jack + " is a file, not a directory").doesNotContain("merges");
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        CliRun e = run("data", "prepare", "--out", bin.toString(), empty.toString());
        assertThat(e.code()).isNotZero();
        assertThat(e.err()).contains("empty");
        assertThat(run("data", "get", "nosuch").err()).contains("unknown dataset: nosuch");
    }
}
