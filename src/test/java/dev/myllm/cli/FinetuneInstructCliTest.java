package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finetune instruct} and {@code finetune dpo} on a tiny model: outputs, exact resume, one-line errors. */
class FinetuneInstructCliTest {
    @TempDir
    static Path dir;
    static Path base;

    /** A small model with its own 400-token vocabulary (a GPT-2-sized head would dominate the test's time). */
    @BeforeAll
    static void baseModel() {
        base = dir.resolve("base");
        List<String> texts = new ArrayList<>();
        for (var e : SyntheticTasks.generate(300, 1)) texts.add(PromptFormat.ALPACA.fullText(e, e.output()));
        TrainedBpe tok = new BpeTrainer().train(texts, 400, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 128, 32, 2, 2, 0f, true, true, 1e-5f), 3), base);
        tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
    }

    static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) out.add(new ObjectMapper().readTree(line).get("loss").asDouble());
        return out;
    }

    static String[] instruct(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("finetune", "instruct", "--model", base.toString(), "--data", "synthetic",
                "--synthetic-size", "40", "--eval-every", "3", "--eval-batches", "1", "--lr", "1e-3", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void instructTrainsSavesTheFormatAndResumesExactly() throws Exception {
        Path full = dir.resolve("full");
        CliRun r = CliRun.run(instruct(full, "--format", "phi3", "--mask-instruction"));
        assertThat(r.code()).as(r.err()).isZero();
        List<Double> all = losses(full.resolve("metrics.jsonl"));
        assertThat(all).hasSize(8); // 34 training records, batches of 8 (last dropped), 2 epochs
        assertThat(all.getLast()).isLessThan(all.getFirst());
        assertThat(SavedFormat.read(full.resolve("model"))).isEqualTo(PromptFormat.PHI3);
        assertThat(full.resolve("loss.png")).exists();

        Path half = dir.resolve("half");
        assertThat(CliRun.run(instruct(half, "--format", "phi3", "--mask-instruction", "--epochs", "1")).code()).isZero();
        CliRun resumed = CliRun.run("finetune", "instruct", "--resume", half.toString(), "--epochs", "2");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(losses(half.resolve("metrics.jsonl"))).isEqualTo(all);

        // chat picks up the saved format; DPO starts from the tuned model
        CliRun chat = CliRun.run("chat", "--model", full.resolve("model").toString(), "--instruction", "Say yes.", "--max-new-tokens", "3");
        assertThat(chat.code()).as(chat.err()).isZero();
        Path dpo = dir.resolve("dpo");
        CliRun d = CliRun.run("finetune", "dpo", "--model", full.resolve("model").toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "2", "--eval-batches", "1", "--out", dpo.toString());
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode first = new ObjectMapper().readTree(Files.readAllLines(dpo.resolve("metrics.jsonl")).getFirst());
        assertThat(first.get("loss").asDouble()).isCloseTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(first.has("val_reward_accuracy")).isTrue();
        assertThat(first.has("train_reward_margin")).isTrue();
        assertThat(SavedFormat.read(dpo.resolve("model"))).isEqualTo(PromptFormat.PHI3);
    }

    @Test
    void lastBlockLeavesTheRestAlone() {
        Path out = dir.resolve("last");
        CliRun r = CliRun.run(instruct(out, "--trainable", "last-block", "--epochs", "1"));
        assertThat(r.code()).as(r.err()).isZero();
        var before = dev.myllm.io.Safetensors.read(base.resolve("model.safetensors"));
        var after = dev.myllm.io.Safetensors.read(out.resolve("model/model.safetensors"));
        assertThat(after.get("wte.weight").data()).isEqualTo(before.get("wte.weight").data());
        assertThat(after.get("h.0.attn.c_attn.weight").data()).isEqualTo(before.get("h.0.attn.c_attn.weight").data());
        assertThat(after.get("h.1.attn.c_attn.weight").data()).isNotEqualTo(before.get("h.1.attn.c_attn.weight").data());
        assertThat(CliRun.run(instruct(dir.resolve("bad"), "--trainable", "lora")).err()).contains("--trainable: unknown 'lora'");
    }

    @Test
    void badDataIsOneLine() throws Exception {
        Path noChosen = Files.writeString(dir.resolve("p.json"), "[{\"instruction\": \"A\", \"output\": \"1\", \"rejected\": \"2\"}]");
        CliRun d = CliRun.run("finetune", "dpo", "--model", base.toString(), "--train", noChosen.toString(), "--val", noChosen.toString(),
                "--out", dir.resolve("x").toString());
        assertThat(d.code()).isNotZero();
        assertThat(d.err().strip()).isEqualTo("myllm: " + noChosen + ": record 0 has no \"chosen\"");
        Path longPrompt = Files.writeString(dir.resolve("long.jsonl"), "{\"instruction\": \"" + "word ".repeat(300) + "\", \"output\": \"1\"}\n");
        CliRun l = CliRun.run("finetune", "instruct", "--model", base.toString(), "--train", longPrompt.toString(), "--val", longPrompt.toString(),
                "--out", dir.resolve("y").toString());
        assertThat(l.code()).isNotZero();
        assertThat(l.err().strip()).startsWith("myllm: " + longPrompt + ": record 0 has a prompt of ").endsWith("which does not fit the context of 128");
        CliRun both = CliRun.run("finetune", "instruct", "--model", base.toString(), "--out", dir.resolve("z").toString());
        assertThat(both.err()).contains("give --data, or --train with --val");
    }
}
