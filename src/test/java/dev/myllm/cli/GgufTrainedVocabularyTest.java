package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.Myllm;
import dev.myllm.io.GgufFile;
import dev.myllm.io.GgufModel;
import dev.myllm.io.GgufType;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.ModelFiles;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF file of a model with a vocabulary trained here reads text back as the model directory it was
 * exported from: its tokens and merges alone say GPT-2's pre-splitting, the trained vocabulary splits
 * only at spaces and newlines, so the file carries the vocabulary itself as {@code myllm.tokenizer}.
 */
class GgufTrainedVocabularyTest {
    private static final String KEY = "myllm.tokenizer";
    /** GPT-2's rules split words from their punctuation: " Mrs." is one token of the trained vocabulary, two by those rules. */
    private static final String TEXT = "Mr. Darcy said,\n  hello to Mrs.";

    @TempDir
    static Path dir;
    static Path base, gguf;

    @BeforeAll
    static void export() throws Exception {
        base = ExportCliTest.modelWithItsOwnVocabulary(dir.resolve("base"), 400);
        gguf = dir.resolve("base.gguf");
        CliRun e = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(e.code()).as(e.err()).isZero();
    }

    private static int[] directoryIds(String text) {
        return Tokenizers.load(base.resolve(GptModelStore.TOKENIZER_FILE).toString()).encode(text, Specials.ALLOW);
    }

    private static String greedy(String... modelArgs) {
        List<String> a = new java.util.ArrayList<>(List.of("generate", "--prompt", TEXT, "--max-new-tokens", "12", "--temperature", "0", "--ids"));
        a.addAll(List.of(modelArgs));
        CliRun g = CliRun.run(a.toArray(String[]::new));
        assertThat(g.code()).as(g.err()).isZero();
        return g.out();
    }

    @Test
    void theFileTokenizesAsTheDirectory() {
        int[] want = directoryIds(TEXT);
        assertThat(ModelFiles.tokenizer(gguf).encode(TEXT, Specials.ALLOW)).containsExactly(want);
        assertThat(Myllm.loadForInference(gguf, "f32").tokenizer().encode(TEXT, Specials.ALLOW)).containsExactly(want);
        assertThat(Myllm.load(gguf).tokenizer().encode(TEXT + "<|endoftext|>", Specials.ALLOW)).containsExactly(directoryIds(TEXT + "<|endoftext|>"));
        // the tokens and merges alone (what llama.cpp reads) split by GPT-2's rules: another tokenization
        try (GgufFile g = GgufFile.open(gguf)) {
            assertThat(GgufModel.ggmlTokenizer(g).encode(TEXT, Specials.ALLOW)).isNotEqualTo(want);
            assertThat(g.string("tokenizer.ggml.pre")).isEqualTo("gpt-2");
        }
    }

    @Test
    void greedyTokensFromTheFileAreTheDirectorys() {
        String fromDir = greedy("--model", base.toString());
        assertThat(greedy("--model", gguf.toString())).isEqualTo(fromDir);
        // --tokenizer FILE.gguf borrows the same vocabulary
        assertThat(greedy("--model", base.toString(), "--tokenizer", gguf.toString())).isEqualTo(fromDir);
    }

    @Test
    void aDirectoryExportedFromTheFileKeepsTheTrainedVocabulary() {
        Path back = dir.resolve("back");
        CliRun e = CliRun.run("export", "--model", gguf.toString(), "--out", back.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(back.resolve(GptModelStore.TOKENIZER_FILE)).hasSameTextualContentAs(base.resolve(GptModelStore.TOKENIZER_FILE));
    }

    @Test
    void aGpt2VocabularyFileHasNoSuchKey() {
        Path plain = dir.resolve("plain.gguf");
        CliRun p = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--out", plain.toString());
        assertThat(p.code()).as(p.err()).isZero();
        try (GgufFile g = GgufFile.open(plain)) {
            assertThat(g.metadata()).doesNotContainKey(KEY);
        }
        try (GgufFile g = GgufFile.open(gguf)) {
            assertThat(g.metadata()).containsKey(KEY);
        }
    }

    @Test
    void aTruncatedFileIsNamedWithoutTheTokenizerHint() throws Exception {
        // the weights run past the end: nothing is wrong with its tokenizer, so --tokenizer is no remedy to suggest
        Path cut = dir.resolve("cut.gguf");
        byte[] whole = Files.readAllBytes(gguf);
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 100));
        CliRun g = CliRun.run("generate", "--model", cut.toString(), "--prompt", "hi", "--max-new-tokens", "1");
        assertThat(g.code()).isEqualTo(2);
        assertThat(g.err()).startsWith("myllm: --model " + cut + ": ").contains("runs past the end of the file")
                .doesNotContain("--tokenizer").containsOnlyOnce("\n");
    }

    @Test
    void malformedKeyContentIsAOneLineErrorNamingTheFileAndKey() throws Exception {
        TrainedBpe own = (TrainedBpe) Tokenizers.load(base.resolve(GptModelStore.TOKENIZER_FILE).toString());
        var model = ModelDirectory.load(base);
        BpeVocab vocab = BpeVocab.of(own, model.config().vocabSize());
        TrainedBpe other = new TrainedBpe(List.of("<|endoftext|>"), new int[][]{{'h', 'e'}});
        // file name → {the key's content, what the error says of it}
        Map<String, String[]> bad = Map.of(
                "not-json.gguf", new String[]{"{\"type\": \"myllm-bpe\", \"merges\": [[",
                        "not valid JSON at character 34 (Unexpected end-of-input: expected close marker for Array)"},
                "not-ours.gguf", new String[]{"{\"type\": \"BPE\"}", "not a myllm-bpe vocabulary"},
                "bad-merge.gguf", new String[]{"{\"type\": \"myllm-bpe\", \"version\": 1, \"specials\": {}, \"merges\": [[104, \"x\"]]}",
                        "merge 1 is not a pair of ids"},
                "unknown-id.gguf", new String[]{"{\"type\": \"myllm-bpe\", \"version\": 1, \"specials\": {}, \"merges\": [[104, 9999]]}",
                        "merge 1 uses an unknown id (104, 9999)"},
                "other.gguf", new String[]{other.toJson(), "token 258 is 'he', in tokenizer.ggml.tokens 'Ġt'"});
        for (var b : bad.entrySet()) {
            Path f = dir.resolve(b.getKey());
            GgufModel.save(model, vocab, "bad", f, GgufType.F32, Map.of(KEY, b.getValue()[0]));
            String line = f + ": key " + KEY + ": " + b.getValue()[1];
            assertThatThrownBy(() -> ModelFiles.tokenizer(f)).as(b.getKey()).hasMessage(line);
            CliRun g = CliRun.run("generate", "--model", f.toString(), "--prompt", "hi", "--max-new-tokens", "1");
            assertThat(g.code()).as(b.getKey()).isEqualTo(2);
            assertThat(g.err()).as(b.getKey()).isEqualTo("myllm: --model " + line + "; name the tokenizer to use with --tokenizer\n");
            // train --init reads the same vocabulary, and names its own option
            CliRun t = CliRun.run("train", "--init", f.toString(), "--data", "verdict", "--out", dir.resolve("never").toString());
            assertThat(t.code()).as(b.getKey()).isEqualTo(2);
            assertThat(t.err()).as(b.getKey()).isEqualTo("myllm: --init " + line + "; name the tokenizer to use with --tokenizer\n");
            assertThat(dir.resolve("never")).doesNotExist();
        }
    }
}
