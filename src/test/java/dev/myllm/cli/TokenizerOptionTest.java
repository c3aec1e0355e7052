package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerOptionTest {
    @TempDir
    Path dir;

    private static Path gguf() throws Exception {
        return Path.of(TokenizerOptionTest.class.getResource("/gguf/tiny-f32.gguf").toURI());
    }

    private static TokenizerOption option(String spec) {
        TokenizerOption t = new TokenizerOption();
        t.spec = spec;
        return t;
    }

    @Test
    void withoutASpecAPresetGetsGpt2AndAGgufFileItsOwnTokenizer() throws Exception {
        assertThat(option(null).load((Path) null).vocabSize()).isEqualTo(50257);
        assertThat(option(null).load(dir).vocabSize()).isEqualTo(50257);
        int embedded = option(null).load(gguf()).vocabSize();
        assertThat(embedded).isLessThan(50257).isEqualTo(option(gguf().toString()).load((Path) null).vocabSize());
        assertThat(option("simple").load(gguf()).name()).isEqualTo("simple");
    }

    @Test
    void aSavedTokenizerFileIsFoundAndKeptBesideTheSavedModel() throws Exception {
        assertThat(option(null).file(dir)).isNull();
        assertThat(option(gguf().toString()).file(dir)).as("an embedded tokenizer is not a file to copy").isNull();
        Path own = dir.resolve(GptModelStore.TOKENIZER_FILE);
        Files.writeString(own, "not a tokenizer");
        assertThat(option(null).file(dir)).isEqualTo(own);
        // the model's own file is named as the model's, not as a --tokenizer the user did not give
        assertThatThrownBy(() -> option(null).load(dir)).isInstanceOf(CliException.class).hasMessageStartingWith("--model " + own + ": ")
                .hasMessageEndingWith("; name the tokenizer to use with --tokenizer");
        assertThatThrownBy(() -> option(dir.resolve("missing.json").toString()).load((Path) null))
                .isInstanceOf(CliException.class).hasMessageStartingWith("--tokenizer: ");
    }

    @Test
    void aNamedVocabularyFileIsTheFileToKeep() throws Exception {
        Path vocab = dir.resolve("vocab.json");
        Files.writeString(vocab, "{}");
        // every regular file counted as a model file, so a named vocabulary was never kept beside a saved model
        assertThat(option(vocab.toString()).file(dir)).isEqualTo(vocab);
        assertThat(option(vocab.toString()).toKeep(dir, null, 0).bytes()).isEqualTo(Files.readAllBytes(vocab));
        // a GGUF file's tokenizer is embedded: written out by toKeep, not copied
        assertThat(option(gguf().toString()).file(dir)).isNull();
        assertThat(option("gpt2").file(dir)).isNull();
    }

    @Test
    void aTiktokenFileOrATokenizerFolderIsKeptAsATokenizerJson() throws Exception {
        // 256 bytes and one merge, "he": copied as it is, a .tiktoken file would not read back as a tokenizer file
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[]{(byte) b})).append(' ').append(b).append('\n');
        ranks.append(java.util.Base64.getEncoder().encodeToString("he".getBytes())).append(" 256\n");
        Path tiktoken = Files.writeString(dir.resolve("tiny.tiktoken"), ranks);
        int[] ids = option(tiktoken.toString()).load((Path) null).encode("hehe<|endoftext|>", dev.myllm.tokenizer.Specials.ALLOW);
        assertThat(ids).containsExactly(256, 256, 257);
        Path run = dir.resolve("run");
        TokenizerOption t = option(tiktoken.toString());
        Path kept = keptIn(t.toKeep(null, t.load((Path) null), 258), run);
        assertThat(kept).isEqualTo(run.resolve("tokenizer.json")); // where transformers reads it
        assertThat(dev.myllm.tokenizer.Tokenizers.load(kept.toString()).encode("hehe<|endoftext|>", dev.myllm.tokenizer.Specials.ALLOW)).containsExactly(ids);
        // a Hugging Face folder (tokenizer.json inside) is not a file to copy either: it is written out the same way
        Path folder = Files.createDirectories(dir.resolve("hf"));
        Files.copy(kept, folder.resolve("tokenizer.json"));
        Path run2 = dir.resolve("run2");
        TokenizerOption f = option(folder.toString());
        Path kept2 = keptIn(f.toKeep(null, f.load((Path) null), 258), run2);
        assertThat(kept2).isEqualTo(run2.resolve("tokenizer.json"));
        assertThat(dev.myllm.tokenizer.Tokenizers.load(kept2.toString()).encode("hehe<|endoftext|>", dev.myllm.tokenizer.Specials.ALLOW)).containsExactly(ids);
    }

    /** Writes {@code kept} into the model directory {@code dir}, as a run's saves do; returns the file. */
    private static Path keptIn(dev.myllm.train.TokenizerCopy kept, Path dir) throws java.io.IOException {
        kept.writeInto(Files.createDirectories(dir));
        return dir.resolve(kept.fileName());
    }

    @Test
    void everyCommandThatReadsAModelSpellsTheOptionTheSameWay() {
        String[][] commands = {{"generate"}, {"score"}, {"chat"}, {"serve"}, {"export"}, {"classify"}, {"train"},
                {"eval", "classify"}, {"eval", "instruct"}, {"finetune", "classify"}, {"finetune", "instruct"}, {"finetune", "dpo"},
                {"bench", "serve"}};
        for (String[] cmd : commands) {
            String[] help = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            help[cmd.length] = "--help";
            assertThat(run(help).out()).as(String.join(" ", cmd)).contains("-t, --tokenizer=gpt2|simple|PATH");
        }
    }
}
