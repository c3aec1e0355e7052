package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finetune instruct|dpo|classify --model FILE.gguf}: weights upcast to float32, the embedded tokenizer kept. */
class FinetuneGgufCliTest {
    @TempDir
    static Path dir;
    static Path base, gguf;
    static TrainedBpe tok;

    /** A small model with its own vocabulary, and its f16 GGUF export. */
    @BeforeAll
    static void models() {
        base = dir.resolve("base");
        List<String> texts = new ArrayList<>();
        for (var e : SyntheticTasks.generate(300, 1)) texts.add(PromptFormat.ALPACA.fullText(e, e.output()));
        tok = new BpeTrainer().train(texts, 400, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 128, 32, 2, 2, 0f, true, true, 1e-5f), 3), base);
        tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
        gguf = dir.resolve("base-f16.gguf");
        CliRun ex = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--dtype", "f16", "--out", gguf.toString());
        assertThat(ex.code()).as(ex.err()).isZero();
    }

    static double firstLoss(Path run) throws Exception {
        return new ObjectMapper().readTree(Files.readAllLines(run.resolve("metrics.jsonl")).getFirst()).get("loss").asDouble();
    }

    static CliRun finetune(String command, Path model, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("finetune", command, "--model", model.toString(), "--data", "synthetic",
                "--synthetic-size", "40", "--steps", "2", "--eval-every", "0", "--lr", "1e-3", "--out", out.toString()));
        a.addAll(List.of(extra));
        return CliRun.run(a.toArray(String[]::new));
    }

    @Test
    void instructFromGgufStartsAtTheDirectorysLossAndKeepsTheTokenizer() throws Exception {
        Path fromDir = dir.resolve("from-dir"), fromGguf = dir.resolve("from-gguf");
        CliRun a = finetune("instruct", base, fromDir);
        CliRun b = finetune("instruct", gguf, fromGguf);
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(b.code()).as(b.err()).isZero();
        // the same batch through f16-rounded weights: the same loss within f16's precision
        assertThat(firstLoss(fromGguf)).isCloseTo(firstLoss(fromDir), offset(2e-3 * firstLoss(fromDir)));
        assertThat(firstLoss(fromGguf)).isNotEqualTo(firstLoss(fromDir)); // it did read the rounded weights
        // the saved model carries the GGUF's tokenizer, which reads text as the original does
        Path saved = fromGguf.resolve("model").resolve(GptModelStore.TOKENIZER_FILE);
        assertThat(saved).hasSameTextualContentAs(base.resolve(GptModelStore.TOKENIZER_FILE)); // the file's myllm.tokenizer, as trained
        String text = "What is the plural of fox?\n\nThe plural of fox is foxes.";
        assertThat(Tokenizers.load(saved.toString()).encode(text, Specials.TEXT)).isEqualTo(tok.encode(text, Specials.TEXT));
        CliRun chat = CliRun.run("chat", "--model", fromGguf.resolve("model").toString(), "--instruction", "Say yes.", "--max-new-tokens", "3");
        assertThat(chat.code()).as(chat.err()).isZero();
    }

    @Test
    void dpoAndClassifyTakeAGgufFile() throws Exception {
        Path dpo = dir.resolve("dpo");
        CliRun d = finetune("dpo", gguf, dpo);
        assertThat(d.code()).as(d.err()).isZero();
        assertThat(firstLoss(dpo)).isCloseTo(Math.log(2), offset(1e-6));
        // the final report covers every validation pair (40 synthetic records: 34 / 4 / 2)
        var report = new ObjectMapper().readTree(dpo.resolve("dpo-eval.json").toFile());
        assertThat(report.at("/validation/pairs").asDouble()).isEqualTo(2.0);
        assertThat(report.get("by_family").size()).isBetween(1, 2);
        CliRun bad = finetune("dpo", gguf, dir.resolve("dpo-bad"), "--rpo-alpha", "-1");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err().strip()).endsWith("--rpo-alpha must be >= 0, got -1.0").doesNotContain("\n");
        Path cls = dir.resolve("cls");
        CliRun c = CliRun.run("finetune", "classify", "--model", gguf.toString(), "--data", FinetuneCliTest.DATA.toString(),
                "--out", cls.toString(), "--batch-size", "4", "--eval-every", "0", "--epochs", "1", "--max-length", "32");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(cls.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).exists();
        // the usage line says so too, as finetune instruct and dpo do (it read --model=DIR)
        for (String cmd : new String[]{"classify", "instruct", "dpo"}) {
            assertThat(CliRun.run("finetune", cmd, "--help").out()).as(cmd).contains("--model=DIR|FILE");
        }
    }

    @Test
    void aGgufThatCannotBeTrainedIsAOneLineError() throws Exception {
        // the same file claiming another architecture
        byte[] bytes = Files.readAllBytes(gguf);
        byte[] key = "general.architecture".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(bytes, key) + key.length + 4 + 8; // value type (uint32), string length (uint64), then "gpt2"
        assertThat(new String(bytes, at, 4, StandardCharsets.US_ASCII)).isEqualTo("gpt2");
        bytes[at + 3] = 'j';
        Path other = dir.resolve("gptj.gguf");
        Files.write(other, bytes);
        CliRun r = finetune("instruct", other, dir.resolve("bad"));
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).doesNotContain("\n").contains("gptj.gguf", "gptj");
        CliRun none = finetune("dpo", dir.resolve("none.gguf"), dir.resolve("bad2"));
        assertThat(none.code()).isNotZero();
        assertThat(none.err().strip()).doesNotContain("\n").contains("none.gguf: no such file or directory");
    }

    private static int indexOf(byte[] a, byte[] b) {
        outer:
        for (int i = 0; i + b.length <= a.length; i++) {
            for (int j = 0; j < b.length; j++) if (a[i + j] != b[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
