package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.Npy;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCliTest {


    static void assertOneLineError(CliRun r, String... fragments) {
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).startsWith("myllm: ").contains(fragments).doesNotContain("\tat ");
    }

    @Test
    void infoPrintsTheIssuesCounts() {
        CliRun r = run("info", "--preset", "gpt2-small");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("124,439,808", "163,037,184", "497.8 MB", "tied to the token embedding");
        CliRun book = run("info", "--preset", "gpt2-small", "--no-qkv-bias", "--no-tied-head");
        assertThat(book.out()).contains("total             163,009,536", "without the head  124,412,160");
        assertThat(run("info", "--preset", "gpt2-xl", "--no-qkv-bias", "--no-tied-head", "--json").out())
                .contains("\"parameters\":1637792000", "\"n_layers\":48");
        assertOneLineError(run("info", "--preset", "gpt5"), "unknown preset 'gpt5'");
        assertOneLineError(run("info", "--preset", "gpt2-small", "--context-length", "0"), "--context-length must be >= 1, got 0");
    }

    @Test
    void generateIdsAreTheSameWithAndWithoutTheCache() {
        String[] base = {"generate", "--preset", "gpt2-tiny", "--seed", "3", "--prompt", "Every effort moves you", "--max-new-tokens", "6", "--ids"};
        CliRun cached = run(base);
        assertThat(cached.code()).as(cached.err()).isZero();
        assertThat(cached.out().strip().split(" ")).hasSize(6);
        String[] plain = java.util.Arrays.copyOf(base, base.length + 1);
        plain[base.length] = "--no-kv-cache";
        assertThat(run(plain).out()).isEqualTo(cached.out());
        CliRun text = run("generate", "--preset", "gpt2-tiny", "--seed", "3", "--prompt", "Every effort moves you",
                "--max-new-tokens", "6", "--temperature", "0.8", "--top-k", "50", "--top-p", "0.9");
        assertThat(text.code()).isZero();
        assertThat(text.out()).startsWith("Every effort moves you");
        assertOneLineError(run("generate", "--preset", "gpt2-tiny", "--prompt", "x", "--top-p", "1.5"), "top-p");
        // each bad value is named by the option a user typed
        for (String[] bad : new String[][]{{"--max-new-tokens", "-3", "--max-new-tokens must be >= 0, got -3"},
                {"--temperature", "-1", "--temperature must be >= 0, got -1.0"}, {"--top-k", "-1", "--top-k must be >= 0, got -1"},
                {"--top-p", "0", "--top-p must be in (0, 1], got 0.0"}, {"--context-length", "-5", "--context-length must be >= 1, got -5"}}) {
            CliRun r = run("generate", "--preset", "gpt2-tiny", "--prompt", "x", bad[0], bad[1]);
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("myllm: " + bad[2] + "\n");
        }
        assertOneLineError(run("generate", "--model", "/nonexistent", "--prompt", "x"), "--model");
    }

    @Test
    void scorePrintsCrossEntropyAndWritesLogits(@TempDir Path dir) throws Exception {
        Path ids = Files.writeString(dir.resolve("ids.txt"), "464 3277 1110 11\n 345 13");
        Path npy = dir.resolve("logits.npy");
        CliRun r = run("score", "--preset", "gpt2-tiny", "--seed", "4", "--ids-file", ids.toString(), "--logits-out", npy.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        // the same numbers computed directly
        GPTModel m = new GPTModel(GPTConfig.preset("gpt2-tiny"), 4);
        m.eval();
        int[] seq = {464, 3277, 1110, 11, 345, 13};
        Tensor logits = m.forward(seq, 1, 6).reshape(6, 50257);
        float loss = Ops.crossEntropy(logits, new int[]{3277, 1110, 11, 345, 13, Ops.IGNORE_INDEX}).item();
        assertThat(r.out()).contains("\"tokens\":6", "\"cross_entropy\":" + (double) loss);
        Tensor written = Npy.read(npy);
        assertThat(written.shape()).containsExactly(6, 50257);
        assertThat(written.data()[50257 * 5 + 7]).isEqualTo(logits.data()[50257 * 5 + 7]);
        // without --logits-out the head runs fused with the loss: the same value
        assertThat(run("score", "--preset", "gpt2-tiny", "--seed", "4", "--ids-file", ids.toString(), "--json").out())
                .contains("\"cross_entropy\":" + (double) loss);
        assertThat(run("score", "--preset", "gpt2-tiny", "--text", "Hello there, friend").out()).contains("tokens         4 (3 predicted)", "perplexity");
        assertOneLineError(run("score", "--preset", "gpt2-tiny", "--text", "Hello"), "at least 2");
        Files.writeString(ids, "1 2 x");
        assertOneLineError(run("score", "--preset", "gpt2-tiny", "--ids-file", ids.toString()), "'x'");
        Files.writeString(ids, "1 99999");
        assertOneLineError(run("score", "--preset", "gpt2-tiny", "--ids-file", ids.toString()), "outside the vocabulary");
        // a tokenizer larger than the model's vocabulary is named, as generate names it
        Path small = dir.resolve("small");
        dev.myllm.io.ModelDirectory.save(new GPTModel(new GPTConfig(1000, 16, 16, 2, 1, 0f, true, true, 1e-5f), 1), small);
        CliRun wrongTokenizer = run("score", "--model", small.toString(), "--text", "Hello there");
        assertThat(wrongTokenizer.code()).isEqualTo(2);
        assertThat(wrongTokenizer.err()).isEqualTo("myllm: tokenizer gpt2 has 50257 ids but the model's vocabulary is 1000\n");
    }

    @Test
    void anOutputThatCannotBeWrittenIsNamedNotOurTemporaryFile(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("afile"), "x"); // a file where the output's folder should be
        Path npy = blocker.resolve("logits.npy");
        CliRun r = run("score", "--preset", "gpt2-tiny", "--text", "Hello there", "--logits-out", npy.toString());
        // checked before the model runs, naming the option (it said "cannot write FILE: not a directory ..." and exited 1)
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: cannot write --logits-out " + npy + ": " + blocker + " is a file, not a directory\n");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(blocker);
        }
    }

    @Test
    void aSavedPromptFormatThatCannotBeReadIsNamedWithTheReason(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model");
        dev.myllm.io.ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 16, 16, 2, 1, 0f, true, true, 1e-5f), 1), model);
        Path format = model.resolve(dev.myllm.finetune.SavedFormat.FILE);
        Files.write(format, new byte[]{'{', (byte) 0xff, '}'});
        // it said "myllm: --model: M/myllm-prompt-format.json: Input length = 1"
        CliRun r = run("generate", "--model", model.toString(), "--prompt", "hi", "--max-new-tokens", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --model: " + format + ": cannot read: not UTF-8 text\n");
    }

    @Test
    void benchGenerateRunsOnATinyModel() {
        CliRun r = run("bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "8", "--new-tokens", "16", "--runs", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("decode with cache", "GB/s", "without cache", "same tokens: yes", "tools/membw.py").doesNotContain("shared/");
        assertOneLineError(run("bench", "generate", "--preset", "gpt2-tiny", "--new-tokens", "500"), "exceeds the context length");
    }

    @Test
    void benchTrainPrintsItsMemoryAndRefusesARunThatCannotFit() {
        CliRun r = run("bench", "train", "--preset", "gpt2-tiny", "--batch-size", "2", "--context-length", "16", "--steps", "1", "--warmup", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("memory: about ", "weights and gradients", "AdamW state", "activations", "; heap ", "GFLOP/s");
        // gpt2-xl at 64 × 1024 needs far more than any test heap: refused before a byte is allocated
        CliRun bench = run("bench", "train", "--preset", "gpt2-xl", "--batch-size", "64", "--context-length", "1024");
        assertOneLineError(bench, "batch 64 × 1024 needs", "the Java heap is", "--batch-size");
        assertThat(bench.err()).doesNotContain("--grad-accum"); // an option bench train does not have
        assertOneLineError(run("train", "--data", "verdict", "--preset", "gpt2-xl", "--batch-size", "64", "--context-length", "1024",
                "--out", "target/never-written"), "batch 64 × 1024 needs", "(--grad-accum keeps the tokens per step)");
    }

    @Test
    void benchTrainWithCheckpointedActivationsGivesTheSameLossInLessMemory() {
        String[] args = {"bench", "train", "--preset", "gpt2-tiny", "--batch-size", "2", "--context-length", "128", "--steps", "1", "--warmup", "1", "--json"};
        CliRun plain = run(args);
        String[] more = java.util.Arrays.copyOf(args, args.length + 1);
        more[args.length] = "--checkpoint-activations";
        CliRun checkpointed = run(more);
        assertThat(plain.code()).as(plain.err()).isZero();
        assertThat(checkpointed.code()).as(checkpointed.err()).isZero();
        assertThat(plain.out()).contains("\"checkpoint_activations\":false");
        assertThat(checkpointed.out()).contains("\"checkpoint_activations\":true");
        java.util.function.BiFunction<String, String, Double> field = (json, key) -> {
            var m = java.util.regex.Pattern.compile("\"" + key + "\":([0-9.]+)").matcher(json);
            assertThat(m.find()).as(key + " in " + json).isTrue();
            return Double.parseDouble(m.group(1));
        };
        // the same second step (same weights after the warm-up update, same gradients), with a smaller estimate
        assertThat(field.apply(checkpointed.out(), "loss")).isEqualTo(field.apply(plain.out(), "loss"));
        assertThat(field.apply(checkpointed.out(), "estimated_mb")).isLessThan(field.apply(plain.out(), "estimated_mb"));
    }
}
