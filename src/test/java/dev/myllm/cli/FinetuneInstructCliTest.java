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
        base = tinyBase(dir.resolve("base"));
    }

    /** Saves the small model with its own vocabulary (trained on synthetic Alpaca texts) in {@code base}; returns it. */
    static Path tinyBase(Path base) {
        List<String> texts = new ArrayList<>();
        for (var e : SyntheticTasks.generate(300, 1)) texts.add(PromptFormat.ALPACA.fullText(e, e.output()));
        TrainedBpe tok = new BpeTrainer().train(texts, 400, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 128, 32, 2, 2, 0f, true, true, 1e-5f), 3), base);
        tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
        return base;
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
    void aVocabularyNamedByTokenizerIsKeptBesideTheTunedModel() throws Exception {
        // the base's weights alone, its vocabulary kept elsewhere and named
        Path bare = dir.resolve("bare");
        ModelDirectory.save(ModelDirectory.load(base), bare);
        Path vocab = dir.resolve("bare-vocab.json");
        Files.copy(base.resolve(GptModelStore.TOKENIZER_FILE), vocab);
        Path out = dir.resolve("named-vocab");
        CliRun r = CliRun.run("finetune", "instruct", "--model", bare.toString(), "--tokenizer", vocab.toString(), "--data", "synthetic",
                "--synthetic-size", "40", "--eval-every", "0", "--eval-batches", "1", "--steps", "1", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        // it was left behind, and the tuned model read GPT-2's 50,257 ids
        assertThat(out.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).hasSameBinaryContentAs(vocab);
        CliRun chat = CliRun.run("chat", "--model", out.resolve("model").toString(), "--instruction", "Say yes.", "--max-new-tokens", "3");
        assertThat(chat.code()).as(chat.err()).isZero();
    }

    @Test
    void dpoKeepsTheBestValidationModelWhenAsked() throws Exception {
        Path sft = dir.resolve("keep-sft");
        assertThat(CliRun.run(instruct(sft, "--format", "phi3", "--steps", "4")).code()).isZero();
        Path dpo = dir.resolve("keep-dpo");
        CliRun d = CliRun.run("finetune", "dpo", "--model", sft.resolve("model").toString(), "--data", "synthetic", "--synthetic-size", "200",
                "--lr", "3e-2", "--beta", "2", "--steps", "10", "--eval-every", "1", "--eval-batches", "1", "--keep-best", "--append-eos",
                "--out", dpo.toString());
        assertThat(d.code()).as(d.err()).isZero();
        // the kept model is the evaluation with the highest validation reward accuracy, the latest of equals
        long bestStep = -1;
        double bestAcc = -1;
        List<Double> seen = new ArrayList<>();
        for (String line : Files.readAllLines(dpo.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            if (n.has("val_reward_accuracy")) seen.add(n.get("val_reward_accuracy").asDouble());
            if (n.has("val_reward_accuracy") && n.get("val_reward_accuracy").asDouble() >= bestAcc) {
                bestAcc = n.get("val_reward_accuracy").asDouble();
                bestStep = n.get("step").asLong();
            }
        }
        JsonNode best = new ObjectMapper().readTree(dpo.resolve("best/myllm-best.json").toFile());
        assertThat(best.get("step").asLong()).isEqualTo(bestStep);
        assertThat(best.get("val_reward_accuracy").asDouble()).isEqualTo(bestAcc);
        assertThat(dpo.resolve("model/model.safetensors")).hasSameBinaryContentAs(dpo.resolve("best/model.safetensors"));
        // the report scores the kept weights, not the last ones: the same accuracy as at that evaluation
        JsonNode report = new ObjectMapper().readTree(dpo.resolve("dpo-eval.json").toFile());
        assertThat(report.at("/model/step").asLong()).isEqualTo(bestStep);
        assertThat(report.at("/validation/reward_accuracy").asDouble()).isEqualTo(bestAcc);
        assertThat(report.get("pairs").size()).isEqualTo(report.at("/validation/pairs").asInt());
        // counts are integers (they were written 30.0), in the report, its families and the metrics log
        assertThat(report.at("/validation/pairs").isIntegralNumber()).as(report.at("/validation").toString()).isTrue();
        report.get("by_family").forEach(f -> assertThat(f.get("pairs").isIntegralNumber()).as(f.toString()).isTrue());
        assertThat(report.get("by_family").size()).isPositive();
        for (String line : Files.readAllLines(dpo.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            for (String k : List.of("val_pairs", "train_pairs")) {
                if (n.has(k)) assertThat(n.get(k).isIntegralNumber()).as(line).isTrue();
            }
        }
        assertThat(Files.readString(dpo.resolve("metrics.jsonl"))).contains("\"val_pairs\":");
        assertThat(bestStep).as("this run's best evaluation is not its last, so the report had to reload it: %s", seen).isLessThan(10);
    }

    @Test
    void dpoKeepBestWeighsTheLastStepWhenNoEvaluationFellOnIt() throws Exception {
        Path sft = dir.resolve("keep-last-sft");
        assertThat(CliRun.run(instruct(sft, "--format", "phi3", "--steps", "4")).code()).isZero();
        Path dpo = dir.resolve("keep-last-dpo");
        // evaluations at steps 1, 5 and 9 (the book's rule); step 10 is the last
        CliRun d = CliRun.run("finetune", "dpo", "--model", sft.resolve("model").toString(), "--data", "synthetic", "--synthetic-size", "200",
                "--lr", "1e-2", "--beta", "2", "--steps", "10", "--eval-every", "4", "--eval-batches", "1", "--keep-best", "--append-eos",
                "--seed", "3", "--out", dpo.toString());
        assertThat(d.code()).as(d.err()).isZero();
        List<Long> evaluated = new ArrayList<>();
        double bestLogged = -1;
        for (String line : Files.readAllLines(dpo.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            if (!n.has("val_reward_accuracy")) continue;
            evaluated.add(n.get("step").asLong());
            bestLogged = Math.max(bestLogged, n.get("val_reward_accuracy").asDouble());
        }
        assertThat(evaluated).containsExactly(1L, 5L, 9L);
        JsonNode report = new ObjectMapper().readTree(dpo.resolve("dpo-eval.json").toFile());
        JsonNode best = new ObjectMapper().readTree(dpo.resolve("best/myllm-best.json").toFile());
        double kept = report.at("/validation/reward_accuracy").asDouble();
        // this run's last model (step 10) scores higher than every evaluation (0.7), so it is the one kept
        assertThat(report.at("/model/step").asLong()).isEqualTo(10);
        assertThat(kept).isGreaterThan(bestLogged);
        assertThat(best.get("step").asLong()).isEqualTo(9);
        assertThat(report.at("/model/kept").asText()).startsWith("the last model");
        assertThat(Files.readAllBytes(dpo.resolve("model/model.safetensors"))).isNotEqualTo(Files.readAllBytes(dpo.resolve("best/model.safetensors")));
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
        assertThat(CliRun.run(instruct(dir.resolve("bad"), "--trainable", "head")).err()).contains("--trainable: unknown 'head'");
        assertThat(CliRun.run(instruct(dir.resolve("bad"), "--lora-rank", "4")).err()).contains("--lora-rank, --lora-alpha and --lora-scale need --trainable lora");
        assertThat(CliRun.run(instruct(dir.resolve("bad"), "--lora-scale", "alpha")).err()).contains("--lora-rank, --lora-alpha and --lora-scale need --trainable lora");
        assertThat(CliRun.run(instruct(dir.resolve("bad"), "--trainable", "lora", "--lora-scale", "rank²")).err().strip())
                .isEqualTo("myllm: --lora-scale: unknown LoRA scale 'rank²'; choose alpha/rank or alpha");
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

    @Test
    void loraInstructSavesAMergedModelResumesExactlyAndDpoUsesTheAdaptersOffAsReference() throws Exception {
        Path lora = dir.resolve("lora");
        String[] args = instruct(lora, "--trainable", "lora", "--lora-rank", "4", "--lora-alpha", "8", "--mask-instruction", "--steps", "6");
        CliRun r = CliRun.run(args);
        assertThat(r.code()).as(r.err()).isZero();
        List<Double> all = losses(lora.resolve("metrics.jsonl"));
        assertThat(all).hasSize(6);
        // model/ is a plain GPT with the update merged in (every block weight moved, the frozen embedding did not), the adapter beside it
        var before = dev.myllm.io.Safetensors.read(base.resolve("model.safetensors"));
        var after = dev.myllm.io.Safetensors.read(lora.resolve("model/model.safetensors"));
        assertThat(after.get("wte.weight").data()).isEqualTo(before.get("wte.weight").data());
        assertThat(after.get("h.0.mlp.c_fc.weight").data()).isNotEqualTo(before.get("h.0.mlp.c_fc.weight").data());
        assertThat(lora.resolve("model/adapter/adapter_model.safetensors")).exists();
        assertThat(lora.resolve("model/adapter/adapter_config.json")).content().contains("\"CAUSAL_LM\"");
        // the merged model answers like the adapted one did: its first validation loss after resuming equals the run's
        Path half = dir.resolve("lora-half");
        args[java.util.Arrays.asList(args).indexOf("--out") + 1] = half.toString();
        List<String> first = new ArrayList<>(List.of(args));
        first.set(first.indexOf("--steps") + 1, "3");
        assertThat(CliRun.run(first.toArray(String[]::new)).code()).isZero();
        CliRun resumed = CliRun.run("finetune", "instruct", "--resume", half.toString(), "--steps", "6");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(losses(half.resolve("metrics.jsonl"))).isEqualTo(all);
        assertThat(half.resolve("model/model.safetensors")).hasSameBinaryContentAs(lora.resolve("model/model.safetensors"));

        // DPO with LoRA: one model in memory, the reference is it with the adapters off, so the first loss is ln 2 exactly
        Path dpo = dir.resolve("lora-dpo");
        CliRun d = CliRun.run("finetune", "dpo", "--model", lora.resolve("model").toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--trainable", "lora", "--lora-rank", "2", "--lr", "1e-3", "--eval-every", "2", "--eval-batches", "1", "--out", dpo.toString());
        assertThat(d.code()).as(d.err()).isZero();
        List<Double> dl = losses(dpo.resolve("metrics.jsonl"));
        assertThat(dl.getFirst()).isEqualTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-7));
        assertThat(dl.getLast()).isNotEqualTo(dl.getFirst());
    }

    @Test
    void generateAnswersAnInstructionTunedModelInItsFormat() throws Exception {
        Path sft = dir.resolve("gen");
        assertThat(CliRun.run(instruct(sft, "--format", "phi3", "--steps", "2")).code()).isZero();
        String m = sft.resolve("model").toString();
        // the same greedy answer as chat gives, and only the answer
        CliRun chat = CliRun.run("chat", "--model", m, "--instruction", "What is 2 plus 3?", "--max-new-tokens", "5");
        CliRun gen = CliRun.run("generate", "--model", m, "--prompt", "What is 2 plus 3?", "--max-new-tokens", "5");
        assertThat(gen.code()).as(gen.err()).isZero();
        assertThat(gen.out().strip()).isEqualTo(chat.out().strip());
        CliRun ids = CliRun.run("generate", "--model", m, "--prompt", "What is 2 plus 3?", "--max-new-tokens", "5", "--ids");
        CliRun rawIds = CliRun.run("generate", "--model", m, "--prompt", "<|user|>\nWhat is 2 plus 3?\n<|assistant|>:\n", "--max-new-tokens", "5",
                "--ids", "--raw");
        assertThat(ids.out()).isEqualTo(rawIds.out());
        // --raw continues the text itself, echoing it
        CliRun raw = CliRun.run("generate", "--model", m, "--prompt", "What is 2 plus 3?", "--max-new-tokens", "3", "--raw");
        assertThat(raw.out()).startsWith("What is 2 plus 3?");
        assertThat(gen.out()).doesNotContain("<|user|>");
    }

    @Test
    void instructionDataThatIsNotUtf8IsSaidToBe() throws Exception {
        Path latin1 = Files.write(dir.resolve("latin1.json"), "[{\"instruction\":\"caf\u00e9\",\"input\":\"\",\"output\":\"x\"}]"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        CliRun r = CliRun.run("finetune", "instruct", "--model", base.toString(), "--data", latin1.toString(), "--out", dir.resolve("l1").toString(),
                "--steps", "1");
        assertThat(r.code()).isNotZero();
        // it said "latin1.json: Input length = 3"
        assertThat(r.err()).endsWith(latin1 + ": invalid UTF-8 at byte offset 20 (save it as UTF-8)\n");
    }

    @Test
    void aTypedNegativeWarmupOrFloorIsAnErrorNotTheDefault() {
        for (String[] bad : List.of(new String[]{"--warmup-steps", "-4", "--warmup-steps must be >= 0, got -4"},
                new String[]{"--min-lr", "-3", "--min-lr must be >= 0, got -3.0"})) {
            for (String kind : List.of("instruct", "dpo")) {
                Path out = dir.resolve("neg-" + kind + bad[0]);
                CliRun r = CliRun.run("finetune", kind, "--model", base.toString(), "--data", "synthetic", "--synthetic-size", "100",
                        "--out", out.toString(), "--steps", "1", bad[0], bad[1]);
                assertThat(r.code()).as(r.err()).isEqualTo(2);
                assertThat(r.err()).isEqualTo("myllm: " + bad[2] + "\n");
                assertThat(out).doesNotExist();
            }
        }
    }

    @Test
    void aRunIsResumedOnlyByTheCommandThatMadeIt() throws Exception {
        Path sft = dir.resolve("sft-for-resume");
        CliRun made = CliRun.run("finetune", "instruct", "--model", base.toString(), "--data", "synthetic", "--synthetic-size", "100",
                "--out", sft.toString(), "--steps", "1", "--eval-every", "0");
        assertThat(made.code()).as(made.err()).isZero();
        byte[] weights = Files.readAllBytes(sft.resolve("model/model.safetensors"));
        // finetune dpo --resume on an SFT run used to "continue" it as DPO and overwrite its model
        CliRun dpo = CliRun.run("finetune", "dpo", "--resume", sft.toString());
        assertThat(dpo.code()).isEqualTo(2);
        assertThat(dpo.err()).isEqualTo("myllm: --resume " + sft + ": that run was made by myllm finetune instruct; continue it with myllm finetune instruct --resume " + sft + "\n");
        assertThat(Files.readAllBytes(sft.resolve("model/model.safetensors"))).isEqualTo(weights);
        assertThat(sft.resolve("dpo-eval.json")).doesNotExist();
        // a checkpoint from before the command was recorded: an option the command does not take gives it away
        Path state;
        try (var files = Files.walk(sft)) {
            state = files.filter(p -> p.getFileName().toString().equals("trainer_state.json")).findFirst().orElseThrow();
        }
        var mapper = new ObjectMapper();
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(state.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("options")).remove("command");
        mapper.writeValue(state.toFile(), tree);
        CliRun classify = CliRun.run("finetune", "classify", "--resume", sft.toString());
        assertThat(classify.code()).isEqualTo(2);
        assertThat(classify.err()).startsWith("myllm: --resume " + sft + ": that run was made by another command (it has --")
                .endsWith(", which myllm finetune classify does not take); continue it with the command that made it\n");
        CliRun train = CliRun.run("train", "--resume", sft.toString());
        assertThat(train.err()).contains("that run was made by another command");
    }

    /** Runs the command line with System.err captured: the finetune commands report progress there, which CliRun does not capture. */
    static String progressOf(String... args) {
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
            r = CliRun.run(args);
        } finally {
            System.setErr(before);
        }
        assertThat(r.code()).as(r.err()).isZero();
        return progress.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void minutesUsedUpSaysWhereTheRunStoppedAndHowToContinue() throws Exception {
        // a budget of 6 microseconds: over after the first step
        Path sft = dir.resolve("sft-minutes");
        String said = progressOf(instruct(sft, "--minutes", "1e-7"));
        assertThat(said).endsWith("stopped at step 1 of 8: --minutes 1.0E-7 used up; continue with: myllm finetune instruct --resume " + sft + "\n");
        assertThat(sft.resolve("latest")).hasContent("step-000001");
        // the line's command continues the run to its end, and a run that ends says nothing of the kind
        String resumed = progressOf("finetune", "instruct", "--resume", sft.toString(), "--minutes", "0");
        assertThat(sft.resolve("latest")).hasContent("step-000008");
        assertThat(resumed).doesNotContain("stopped at step");

        Path dpo = dir.resolve("dpo-minutes");
        said = progressOf("finetune", "dpo", "--model", sft.resolve("model").toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "2", "--eval-batches", "1", "--out", dpo.toString(), "--minutes", "1e-7");
        assertThat(said).endsWith("stopped at step 1 of 4: --minutes 1.0E-7 used up; continue with: myllm finetune dpo --resume " + dpo + "\n");
        assertThat(dpo.resolve("latest")).hasContent("step-000001");

        CliRun nan = CliRun.run(instruct(dir.resolve("sft-nan"), "--minutes", "NaN"));
        assertThat(nan.code()).isEqualTo(2);
        assertThat(nan.err()).isEqualTo("myllm: --minutes must be >= 0, got NaN\n");
    }
}
