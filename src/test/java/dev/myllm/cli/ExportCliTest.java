package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code export} to a safetensors directory keeps what the model reads beside its weights. */
class ExportCliTest {

    static String ids(Path model) {
        CliRun g = CliRun.run("generate", "--model", model.toString(), "--prompt", "I had always thought", "--max-new-tokens", "6",
                "--temperature", "0", "--ids");
        assertThat(g.code()).as(g.err()).isZero();
        return g.out();
    }

    /** A tiny model directory with a BPE vocabulary of {@code size} tokens learned here (on the verdict), as training one leaves it. */
    static Path modelWithItsOwnVocabulary(Path dir, int size) throws Exception {
        TrainedBpe tok = new BpeTrainer().train(List.of(Tokenizers.verdictText()), size, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 64, 32, 2, 2, 0f, true, true, 1e-5f), 3), dir);
        tok.save(dir.resolve(GptModelStore.TOKENIZER_FILE));
        return dir;
    }

    @Test
    void aSafetensorsCopyKeepsTheTrainedTokenizerAndThePromptFormat(@TempDir Path tmp) throws Exception {
        // an instruction-tuned model with its own 300-token vocabulary, as finetune instruct leaves one
        Path base = modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        SavedFormat.write(base, PromptFormat.PHI3);

        Path copy = tmp.resolve("copy");
        CliRun e = CliRun.run("export", "--model", base.toString(), "--out", copy.toString(), "--dtype", "f16");
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(copy.resolve(GptModelStore.TOKENIZER_FILE)).hasSameTextualContentAs(base.resolve(GptModelStore.TOKENIZER_FILE));
        // transformers finds no tokenizer.json there and makes a tokenizer of the special tokens alone, without a word: say so
        assertThat(e.out()).contains("\nnote: " + copy.resolve(GptModelStore.TOKENIZER_FILE) + " is a vocabulary trained with myllm (the book's "
                + "merge rules, which a tokenizer.json cannot express): transformers cannot tokenize as myllm does\n");
        assertThat(SavedFormat.read(copy)).isEqualTo(PromptFormat.PHI3);
        // the copy reads the prompt as the model does (before: GPT-2's 50,257 ids against a vocabulary of 300, an error)
        assertThat(ids(copy)).isEqualTo(ids(base));

        // from a GGUF file, whose tokenizer is inside it: written out beside the weights (before: none, GPT-2's taken)
        Path gguf = tmp.resolve("base.gguf");
        assertThat(CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString()).code()).isZero();
        Path fromGguf = tmp.resolve("from-gguf");
        CliRun g = CliRun.run("export", "--model", gguf.toString(), "--out", fromGguf.toString());
        assertThat(g.code()).as(g.err()).isZero();
        // the trained vocabulary itself (the file's myllm.tokenizer), not its tokens and merges as GPT-2's rules read them
        assertThat(fromGguf.resolve(GptModelStore.TOKENIZER_FILE)).hasSameTextualContentAs(base.resolve(GptModelStore.TOKENIZER_FILE));
        assertThat(ids(fromGguf)).isEqualTo(ids(gguf)).isEqualTo(ids(base));
        assertThat(Files.list(tmp).map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
    }

    static com.fasterxml.jackson.databind.JsonNode config(Path dir) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve(ModelDirectory.CONFIG).toFile());
    }

    /** config.json's bos_token_id and eos_token_id, as "bos/eos" ("null/null" when written as null, "-" when absent). */
    static String endOfText(Path dir) throws Exception {
        var c = config(dir);
        return (c.has("bos_token_id") ? c.get("bos_token_id").toString() : "-") + "/" + (c.has("eos_token_id") ? c.get("eos_token_id").toString() : "-");
    }

    @Test
    void configJsonNamesTheModelsOwnEndOfTextNotGpt2s(@TempDir Path tmp) throws Exception {
        // without the keys, transformers' GPT2Config takes 50256, outside a 300-token vocabulary, and warns
        Path base = modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        int eot = TrainedBpe.load(base.resolve(GptModelStore.TOKENIZER_FILE)).eotId();
        assertThat(eot).isBetween(0, 299);
        Path copy = tmp.resolve("copy");
        CliRun e = CliRun.run("export", "--model", base.toString(), "--out", copy.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(endOfText(copy)).isEqualTo(eot + "/" + eot);
        // the library's save, and a training run's saves (its tokenizer as a file it read, here a tokenizer.json)
        Path saved = tmp.resolve("saved");
        dev.myllm.Myllm.load(base).save(saved);
        assertThat(endOfText(saved)).isEqualTo(eot + "/" + eot);
        TrainedBpe trained = TrainedBpe.load(base.resolve(GptModelStore.TOKENIZER_FILE));
        Path hf = Files.writeString(tmp.resolve("tokenizer.json"),
                dev.myllm.tokenizer.TokenizerJson.of(dev.myllm.tokenizer.BpeVocab.of(trained, 300)));
        Path run = Files.createDirectories(tmp.resolve("run"));
        new GptModelStore(ModelDirectory.load(base), dev.myllm.train.TokenizerCopy.read(hf)).save(run);
        assertThat(endOfText(run)).isEqualTo(eot + "/" + eot);
        // a vocabulary without <|endoftext|>: none to name, so null rather than GPT-2's id
        TrainedBpe plain = new BpeTrainer().train(List.of(Tokenizers.verdictText()), 280, List.of(), null);
        Path noEot = tmp.resolve("no-eot");
        ModelDirectory.save(new GPTModel(new GPTConfig(plain.vocabSize(), 64, 32, 2, 2, 0f, true, true, 1e-5f), 3), noEot);
        plain.save(noEot.resolve(GptModelStore.TOKENIZER_FILE));
        Path noEotCopy = tmp.resolve("no-eot-copy");
        assertThat(CliRun.run("export", "--model", noEot.toString(), "--out", noEotCopy.toString()).code()).isZero();
        assertThat(endOfText(noEotCopy)).isEqualTo("null/null");
        // GPT-2's vocabulary keeps GPT-2's id
        Path gpt2 = tmp.resolve("gpt2");
        assertThat(CliRun.run("export", "--preset", "gpt2-tiny", "--out", gpt2.toString()).code()).isZero();
        assertThat(endOfText(gpt2)).isEqualTo("50256/50256");
    }

    @Test
    void aGgufFileKeepsThePromptFormatAndShowsNoMadeUpDropout(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base");
        ModelDirectory.save(new GPTModel(new GPTConfig(50257, 32, 32, 2, 1, 0f, true, true, 1e-5f), 3), base);
        SavedFormat.write(base, PromptFormat.PHI3);
        Path gguf = tmp.resolve("base.gguf");
        CliRun e = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString()); // f32: the same greedy ids
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("llama-server -m " + gguf + " --jinja   (the file's chat template renders the phi3 prompt)");
        // the format is read back from the file (generate, chat and serve use it; before: the plain transcript)
        assertThat(SavedFormat.read(gguf)).isEqualTo(PromptFormat.PHI3);
        // info names it, for the directory and the file alike (and says nothing of one for a base model)
        for (Path m : List.of(base, gguf)) {
            assertThat(CliRun.run("info", "--model", m.toString()).out())
                    .contains("  prompt format     phi3 (instruction-tuned: chat, generate and serve use it)\n");
            assertThat(CliRun.run("info", "--model", m.toString(), "--json").out()).contains("\"prompt_format\":\"phi3\"");
        }
        assertThat(CliRun.run("info", "--preset", "gpt2-tiny").out()).doesNotContain("prompt format");
        try (dev.myllm.io.GgufFile g = dev.myllm.io.GgufFile.open(gguf)) {
            assertThat(g.string(SavedFormat.GGUF_KEY)).isEqualTo("{\"prompt_format\": \"phi3\"}");
            assertThat(g.string("tokenizer.chat_template")).isEqualTo(dev.myllm.server.ChatTemplate.jinja(PromptFormat.PHI3));
        }
        // an instruction-tuned GGUF file answers --prompt in its format, as the directory does
        assertThat(ids(gguf)).isEqualTo(ids(base));
        // and a directory exported from it keeps the format too
        Path back = tmp.resolve("back");
        assertThat(CliRun.run("export", "--model", gguf.toString(), "--out", back.toString()).code()).isZero();
        assertThat(SavedFormat.read(back)).isEqualTo(PromptFormat.PHI3);
        // a plain model's file has neither key
        Path plain = tmp.resolve("plain.gguf");
        CliRun p = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--out", plain.toString());
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.out()).doesNotContain("--jinja");
        assertThat(SavedFormat.read(plain)).isNull();
        try (dev.myllm.io.GgufFile g = dev.myllm.io.GgufFile.open(plain)) {
            assertThat(g.metadata()).doesNotContainKeys(SavedFormat.GGUF_KEY, "tokenizer.chat_template");
        }

        // a GGUF file stores no dropout: info shows 0 and says so (before: 0.1, made up)
        CliRun info = CliRun.run("info", "--model", gguf.toString());
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("  dropout           0.0\n").contains("the file stores no dropout rate");
        assertThat(CliRun.run("info", "--model", gguf.toString(), "--json").out()).contains("\"drop_rate\":0.0");
        assertThat(CliRun.run("info", "--model", base.toString()).out()).doesNotContain("stores no dropout");
    }

    @Test
    void aGgufFileOfAVocabularyTrainedHereServesThoughItHasAGap(@TempDir Path tmp) throws Exception {
        // such a vocabulary's raw space byte (id 32) is a placeholder in the file, a token with no text,
        // which the server's warm-up sent through the model and a model may sample: the server died at start
        Path base = modelWithItsOwnVocabulary(tmp.resolve("base"), 400);
        Path gguf = tmp.resolve("base.gguf");
        assertThat(CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--dtype", "q8_0", "--out", gguf.toString()).code()).isZero();
        CliRun b = CliRun.run("bench", "serve", "--model", gguf.toString(), "--requests", "1", "--prompt-tokens", "5", "--max-tokens", "6",
                "--generate-runs", "0");
        assertThat(b.code()).as(b.err()).isZero();
        // the gap is in the tokens llama.cpp reads (myllm reads the trained vocabulary, which has none)
        try (dev.myllm.io.GgufFile g = dev.myllm.io.GgufFile.open(gguf)) {
            dev.myllm.tokenizer.BpeTokenizer inFile = dev.myllm.io.GgufModel.ggmlTokenizer(g);
            assertThat(inFile.hasToken(' ')).isFalse();
            assertThat(dev.myllm.generate.TokenDecoder.of(inFile).bytes(' ')).isEmpty();
            assertThat(dev.myllm.generate.TokenDecoder.of(inFile).bytes('a')).containsExactly('a');
        }
    }

    @Test
    void anOllamaModelfileCarriesThePromptFormatAsItsTemplate(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("my chat");
        ModelDirectory.save(new GPTModel(new GPTConfig(50257, 32, 32, 2, 1, 0f, true, true, 1e-5f), 3), base);
        SavedFormat.write(base, PromptFormat.ALPACA);
        Path gguf = tmp.resolve("chat.gguf"), modelfile = tmp.resolve("Modelfile");
        CliRun e = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString(), "--modelfile", modelfile.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("wrote " + modelfile + " (Ollama, the alpaca prompt format as its TEMPLATE)\n")
                .contains("make an Ollama model: ollama create my-chat -f " + modelfile + " && ollama run my-chat\n");
        // FROM the file beside it, the template between triple quotes as Ollama's parser takes it verbatim, the stop quoted (it has spaces)
        assertThat(Files.readString(modelfile)).isEqualTo("# my-chat for Ollama, written by myllm export (prompt format alpaca)\n"
                + "# make it: ollama create my-chat -f Modelfile\n"
                + "FROM ./chat.gguf\n"
                + "PARAMETER num_ctx 32\n"
                + "TEMPLATE \"\"\"" + dev.myllm.server.ChatTemplate.ollama(PromptFormat.ALPACA) + "\"\"\"\n"
                + "PARAMETER stop \"### Instruction:\"\n");
        // a base model: FROM only (Ollama's own {{ .Prompt }} template), the file elsewhere by its absolute path
        Path elsewhere = tmp.resolve("sub").resolve("Modelfile");
        CliRun p = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--out", tmp.resolve("plain.gguf").toString(),
                "--modelfile", elsewhere.toString());
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(Files.readString(elsewhere)).endsWith("\nFROM " + tmp.resolve("plain.gguf").toAbsolutePath() + "\nPARAMETER num_ctx 128\n")
                .doesNotContain("TEMPLATE");
        // without --modelfile, the hint says what it would add
        assertThat(CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString()).out())
                .contains("(--modelfile FILE writes one with the prompt format, which Ollama needs as its TEMPLATE)");
        // misuse: one line naming the option, nothing written
        CliRun dir = CliRun.run("export", "--model", base.toString(), "--out", tmp.resolve("d").toString(), "--modelfile", modelfile.toString());
        assertThat(dir.code()).isEqualTo(2);
        assertThat(dir.err()).isEqualTo("myllm: --modelfile applies to --format gguf only\n");
        CliRun same = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString(), "--modelfile", gguf.toString());
        assertThat(same.code()).isEqualTo(2);
        assertThat(same.err()).isEqualTo("myllm: --modelfile " + gguf + " is the --out file; give the Modelfile its own name\n");
        assertThat(Files.exists(tmp.resolve("d"))).isFalse();
        // a path a Modelfile cannot hold: said before the GGUF file is written
        Path quoted = tmp.resolve("q\"x.gguf"), other = tmp.resolve("Other");
        CliRun q = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", quoted.toString(), "--modelfile", other.toString());
        assertThat(q.code()).isEqualTo(2);
        assertThat(q.err()).isEqualTo("myllm: --modelfile " + other + ": cannot write to a Modelfile: ./q\"x.gguf\n");
        assertThat(Files.exists(quoted)).isFalse();
        assertThat(Files.exists(other)).isFalse();
    }

    /** The names in {@code dir}, sorted. */
    static List<String> names(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Each file in {@code dir} by name, with its bytes. */
    static java.util.Map<String, List<Byte>> contents(Path dir) throws java.io.IOException {
        java.util.Map<String, List<Byte>> m = new java.util.TreeMap<>();
        for (String n : names(dir)) {
            byte[] b = Files.readAllBytes(dir.resolve(n));
            List<Byte> l = new java.util.ArrayList<>(b.length);
            for (byte x : b) l.add(x);
            m.put(n, l);
        }
        return m;
    }

    @Test
    void aDirectoryExportThatFailsPartWayLeavesNothingNewUnderItsName(@TempDir Path tmp) throws Exception {
        // an instruction-tuned model with its own vocabulary: weights, config, tokenizer and prompt format
        Path base = modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        SavedFormat.write(base, PromptFormat.PHI3);
        Path earlier = tmp.resolve("earlier");
        assertThat(CliRun.run("export", "--preset", "gpt2-tiny", "--out", earlier.toString()).code()).isZero();
        var before = contents(earlier);
        Path fresh = tmp.resolve("fresh");
        // the last file fails, as a full disk would: the weights, config and tokenizer were written (before: renamed into
        // place first, so --out was left a model without its prompt format; into an existing one, its files were replaced)
        try (AutoCloseable f = dev.myllm.util.AtomicFiles.failWritesOf(SavedFormat.FILE)) {
            for (Path out : List.of(fresh, earlier)) {
                CliRun e = CliRun.run("export", "--model", base.toString(), "--out", out.toString());
                assertThat(e.code()).as(e.err()).isEqualTo(1);
                assertThat(e.err()).startsWith("myllm: --out cannot write " + out.toAbsolutePath()).contains("No space left on device").hasLineCount(1);
            }
        }
        assertThat(fresh).doesNotExist();
        assertThat(contents(earlier)).isEqualTo(before);
        assertThat(names(tmp)).containsExactly("base", "earlier");
        // the export that succeeds: byte for byte what a fresh directory gets, with the model's files only
        CliRun ok = CliRun.run("export", "--model", base.toString(), "--out", earlier.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(CliRun.run("export", "--model", base.toString(), "--out", fresh.toString()).code()).isZero();
        assertThat(contents(earlier)).isEqualTo(contents(fresh));
        assertThat(names(fresh)).containsExactly(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS, SavedFormat.FILE, GptModelStore.TOKENIZER_FILE);
        assertThat(names(tmp)).containsExactly("base", "earlier", "fresh");
    }

    @Test
    void aDirectoryIsReplacedWholeSoNoFileOfTheEarlierModelStays(@TempDir Path tmp) throws Exception {
        Path base = modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        SavedFormat.write(base, PromptFormat.PHI3);
        Path out = tmp.resolve("out");
        assertThat(CliRun.run("export", "--model", base.toString(), "--out", out.toString()).code()).isZero();
        // a GPT-2-vocabulary model over it: the earlier tokenizer and format went with the earlier model (before: they
        // stayed, and the new model read its prompts with the 300-token vocabulary, in the phi3 format)
        CliRun e = CliRun.run("export", "--preset", "gpt2-tiny", "--out", out.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(names(out)).containsExactly(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS);
        assertThat(SavedFormat.read(out)).isNull();
        // a folder that holds anything else is refused before the work, untouched (replacing it would delete the user's files)
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("notes.txt"), "mine");
        Files.writeString(mine.resolve(ModelDirectory.CONFIG), "{}");
        CliRun r = CliRun.run("export", "--preset", "gpt2-tiny", "--out", mine.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --out " + mine + ": holds notes.txt, which is not a model's file; give a new or empty "
                + "directory (a model directory is replaced whole)\n");
        assertThat(names(mine)).containsExactly(ModelDirectory.CONFIG, "notes.txt");
        // an empty one is filled
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThat(CliRun.run("export", "--preset", "gpt2-tiny", "--out", empty.toString()).code()).isZero();
        assertThat(names(empty)).containsExactly(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS);
    }

    @Test
    void aGgufFileAndItsModelfileAreWrittenTogetherOrNotAtAll(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("chat");
        ModelDirectory.save(new GPTModel(new GPTConfig(50257, 32, 32, 2, 1, 0f, true, true, 1e-5f), 3), base);
        SavedFormat.write(base, PromptFormat.ALPACA);
        Path gguf = tmp.resolve("chat.gguf"), modelfile = tmp.resolve("Modelfile");
        Path earlier = tmp.resolve("earlier.gguf");
        assertThat(CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--out", earlier.toString()).code()).isZero();
        byte[] before = Files.readAllBytes(earlier);
        try (AutoCloseable f = dev.myllm.util.AtomicFiles.failWritesOf("Modelfile")) {
            for (Path out : List.of(gguf, earlier)) {
                CliRun e = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", out.toString(),
                        "--modelfile", modelfile.toString());
                assertThat(e.code()).as(e.err()).isEqualTo(1);
                assertThat(e.err()).contains("No space left on device").hasLineCount(1);
            }
        }
        // before: the .gguf file was in place (a new one, or the earlier one replaced) and its Modelfile missing
        assertThat(gguf).doesNotExist();
        assertThat(modelfile).doesNotExist();
        assertThat(earlier).hasBinaryContent(before);
        assertThat(names(tmp)).containsExactly("chat", "earlier.gguf");
        CliRun ok = CliRun.run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString(), "--modelfile", modelfile.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(Files.readString(modelfile)).contains("FROM ./chat.gguf\n");
        assertThat(names(tmp)).containsExactly("Modelfile", "chat", "chat.gguf", "earlier.gguf");
    }

    @Test
    void aClassifierExportReplacesAnEarlierOneAndKeepsItWhenItFails(@TempDir Path tmp) throws Exception {
        Path clf = tmp.resolve("clf");
        dev.myllm.io.ClassifierDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f), 1),
                dev.myllm.tensor.Tensor.zeros(2, 16), null, new dev.myllm.io.ClassifierDirectory.Head(List.of("ham", "spam"), 50256, "last", 0), clf);
        Path out = tmp.resolve("out");
        assertThat(CliRun.run("export", "--model", clf.toString(), "--out", out.toString()).code()).isZero();
        var before = contents(out);
        try (AutoCloseable f = dev.myllm.util.AtomicFiles.failWritesOf(ModelDirectory.CONFIG)) {
            CliRun e = CliRun.run("export", "--model", clf.toString(), "--out", out.toString());
            assertThat(e.code()).as(e.err()).isEqualTo(1);
            assertThat(e.err()).startsWith("myllm: --out cannot write " + out).contains("No space left on device").hasLineCount(1);
        }
        assertThat(contents(out)).isEqualTo(before);
        // the same export again replaces it, byte for byte (before: "exists and is not empty", where a language model's export replaced its files)
        CliRun again = CliRun.run("export", "--model", clf.toString(), "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(contents(out)).isEqualTo(before);
        assertThat(names(tmp)).containsExactly("clf", "out");
    }
}
