package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.cli.Main;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.KeepBest;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.finetune.Trainable;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The book's DPO from Java: preference tuning as {@code myllm finetune dpo}, on one shared implementation. */
class MyllmPreferenceTest {
    /** A small model with its own vocabulary, and preference records in a file (40: 34 train, 4 test, 2 validation). */
    record Tiny(Path base, Path data) {
        static Tiny in(Path dir) throws Exception {
            return in(dir, 40);
        }

        static Tiny in(Path dir, int records) throws Exception {
            Path base = dir.resolve("base");
            List<InstructionExample> examples = SyntheticTasks.generate(records, 1);
            List<String> texts = new ArrayList<>();
            for (InstructionExample e : examples) texts.add(PromptFormat.ALPACA.fullText(e, e.output()));
            TrainedBpe tok = new BpeTrainer().train(texts, 400, List.of("<|endoftext|>"), null);
            ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 128, 32, 2, 2, 0f, true, true, 1e-5f), 3), base);
            tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
            Path data = dir.resolve("preferences.json");
            List<Map<String, String>> json = new ArrayList<>();
            for (InstructionExample e : examples) {
                json.add(Map.of("instruction", e.instruction(), "input", e.input(), "chosen", e.chosen(), "rejected", e.rejected()));
            }
            new ObjectMapper().writeValue(data.toFile(), json);
            return new Tiny(base, data);
        }

        PreferenceOptions options(Path out) {
            return PreferenceOptions.of(base, data.toString(), out);
        }

        /** {@code myllm finetune dpo} on it, into {@code out}, with {@code extra} options. */
        void cli(Path out, String... extra) {
            List<String> args = new ArrayList<>(List.of("finetune", "dpo", "--model", base.toString(), "--data", data.toString(), "--out", out.toString()));
            args.addAll(List.of(extra));
            MyllmTest.cli(args.toArray(String[]::new));
        }
    }

    /** Each step's metrics.jsonl line, the step's time left out: the loss, and at evaluations every reward, margin and accuracy. */
    private static List<JsonNode> metrics(Path run) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            ObjectNode n = (ObjectNode) new ObjectMapper().readTree(line);
            n.remove("ms");
            out.add(n);
        }
        return out;
    }

    /** The same steps with the same values in both runs (which the listener saw too); returns the library's. */
    private static List<JsonNode> sameMetrics(Path lib, Path cli, List<Trainer.StepReport> steps, int count) throws Exception {
        List<JsonNode> a = metrics(lib), b = metrics(cli);
        assertThat(a).hasSize(count).isEqualTo(b);
        assertThat(steps).extracting(Trainer.StepReport::loss).containsExactlyElementsOf(a.stream().map(n -> n.get("loss").asDouble()).toList());
        return a;
    }

    /** The files of {@code dir} (recursively), relative to it. */
    @Test
    void finetunesAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetunePreferences(t.options(lib).withFormat(PromptFormat.PHI3).withTraining(2, 8, 1e-3).withEvaluation(2, 1)
                .withBeta(0.5).withRpoAlpha(0.2).withAppendEos(true).withWeightDecay(0.1).withMaxLength(100).withSeed(7), MyllmInstructTest.into(steps));
        t.cli(cli, "--format", "phi3", "--epochs", "2", "--lr", "1e-3", "--eval-every", "2", "--eval-batches", "1",
                "--beta", "0.5", "--rpo-alpha", "0.2", "--append-eos", "--weight-decay", "0.1", "--max-length", "100", "--seed", "7");

        // the same steps, losses and rewards (34 training pairs in batches of 8, 2 epochs; evaluations after steps 1, 3, 5, 7)
        List<JsonNode> m = sameMetrics(lib, cli, steps, 8);
        assertThat(m).filteredOn(n -> n.has("val_reward_accuracy")).extracting(n -> n.get("step").asInt()).containsExactly(1, 3, 5, 7);
        assertThat(m.getLast().get("loss").asDouble()).isLessThan(m.getFirst().get("loss").asDouble());
        // the same weights, format, tokenizer and final report
        MyllmInstructTest.sameFiles(lib.resolve("model"), cli.resolve("model"));
        assertThat(Files.mismatch(lib.resolve("dpo-eval.json"), cli.resolve("dpo-eval.json"))).isEqualTo(-1L);
        assertThat(new ObjectMapper().readTree(lib.resolve("dpo-eval.json").toFile()).at("/validation/pairs").asInt()).isEqualTo(2);
        assertThat(SavedFormat.read(lib.resolve("model"))).isEqualTo(PromptFormat.PHI3);
        assertThat(tuned.promptFormat()).contains(PromptFormat.PHI3);
        MyllmInstructTest.returnsModelDir(tuned, cli, dir.resolve("returned"));

        assertThatThrownBy(() -> Myllm.finetunePreferences(t.options(lib), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("out: " + lib + " already holds a run; give another directory");
    }

    @Test
    void finetunesWithLoRAAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetunePreferences(t.options(lib).withLoRA(2, 4).withTraining(1, 8, 1e-3).withEvaluation(2, 1), MyllmInstructTest.into(steps));
        t.cli(cli, "--trainable", "lora", "--lora-rank", "2", "--lora-alpha", "4", "--lr", "1e-3", "--eval-every", "2", "--eval-batches", "1");

        // the reference is the policy with its adapters off, so before the first update the two agree: ln 2
        List<JsonNode> m = sameMetrics(lib, cli, steps, 4);
        assertThat(m.getFirst().get("loss").asDouble()).isCloseTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-7));
        MyllmInstructTest.sameFiles(lib.resolve("model"), cli.resolve("model"));
        assertThat(lib.resolve("model").resolve(InstructStore.ADAPTER).resolve("adapter_model.safetensors")).exists();
        assertThat(Files.mismatch(lib.resolve("dpo-eval.json"), cli.resolve("dpo-eval.json"))).isEqualTo(-1L);
        // model/ has the update merged in: the blocks moved, the frozen embedding did not
        var before = Safetensors.read(t.base().resolve("model.safetensors"));
        var after = Safetensors.read(lib.resolve("model/model.safetensors"));
        assertThat(after.get("wte.weight").data()).isEqualTo(before.get("wte.weight").data());
        assertThat(after.get("h.0.mlp.c_fc.weight").data()).isNotEqualTo(before.get("h.0.mlp.c_fc.weight").data());
        MyllmInstructTest.returnsModelDir(tuned, cli, dir.resolve("returned"));
    }

    @Test
    void keepsTheBestLastBlockAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir, 100); // 85 training pairs, 5 validation pairs
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetunePreferences(t.options(lib).withTrainable(Trainable.LAST_BLOCK).withKeepBest(true)
                .withTraining(1, 8, 3e-2).withBeta(2).withEvaluation(1, 1), MyllmInstructTest.into(steps));
        t.cli(cli, "--trainable", "last-block", "--keep-best", "--lr", "3e-2", "--beta", "2", "--eval-every", "1", "--eval-batches", "1");

        sameMetrics(lib, cli, steps, 10);
        MyllmInstructTest.sameFiles(lib.resolve(KeepBest.DIR), cli.resolve(KeepBest.DIR));
        MyllmInstructTest.sameFiles(lib.resolve("model"), cli.resolve("model"));
        // this run's best evaluation is not its last: model/ is the kept one, reloaded, and the report is of it
        JsonNode best = new ObjectMapper().readTree(lib.resolve(KeepBest.DIR).resolve(KeepBest.FILE).toFile());
        assertThat(best.get("step").asInt()).isLessThan(10);
        assertThat(lib.resolve("model/model.safetensors")).hasSameBinaryContentAs(lib.resolve(KeepBest.DIR).resolve("model.safetensors"));
        ObjectNode libReport = (ObjectNode) new ObjectMapper().readTree(lib.resolve("dpo-eval.json").toFile());
        ObjectNode cliReport = (ObjectNode) new ObjectMapper().readTree(cli.resolve("dpo-eval.json").toFile());
        assertThat(libReport.at("/model/step").asInt()).isEqualTo(best.get("step").asInt());
        assertThat(libReport.at("/validation/reward_accuracy").asDouble()).isEqualTo(best.get("val_reward_accuracy").asDouble());
        // the same report, which names the setting each asked with
        assertThat(libReport.at("/model/kept").asText()).isEqualTo("the evaluation with the highest validation reward accuracy (keepBest)");
        assertThat(cliReport.at("/model/kept").asText()).isEqualTo("the evaluation with the highest validation reward accuracy (--keep-best)");
        ((ObjectNode) libReport.get("model")).remove("kept");
        ((ObjectNode) cliReport.get("model")).remove("kept");
        assertThat(libReport).isEqualTo(cliReport);
        // only the last block (and the final LayerNorm) moved
        var before = Safetensors.read(t.base().resolve("model.safetensors"));
        var after = Safetensors.read(lib.resolve("model/model.safetensors"));
        assertThat(after.get("h.0.attn.c_attn.weight").data()).isEqualTo(before.get("h.0.attn.c_attn.weight").data());
        assertThat(after.get("h.1.attn.c_attn.weight").data()).isNotEqualTo(before.get("h.1.attn.c_attn.weight").data());
        MyllmInstructTest.returnsModelDir(tuned, cli, dir.resolve("returned"));
    }

    @Test
    void theDefaultsAreTheCommandLines() {
        PreferenceOptions o = PreferenceOptions.of(Path.of("base"), "preferences", Path.of("out"));
        CommandLine.Model.CommandSpec dpo = Main.commandLine().getSubcommands().get("finetune").getSubcommands().get("dpo").getCommandSpec();
        assertThat(o.epochs()).isEqualTo(Integer.parseInt(dpo.findOption("--epochs").defaultValue())).isEqualTo(1);
        assertThat(o.batchSize()).isEqualTo(Integer.parseInt(dpo.findOption("--batch-size").defaultValue()));
        assertThat(o.maxLength()).isEqualTo(Integer.parseInt(dpo.findOption("--max-length").defaultValue()));
        assertThat(o.lr()).isEqualTo(Double.parseDouble(dpo.findOption("--lr").defaultValue())).isEqualTo(5e-6);
        assertThat(o.weightDecay()).isEqualTo(Double.parseDouble(dpo.findOption("--weight-decay").defaultValue())).isEqualTo(0.01);
        assertThat(o.beta()).isEqualTo(Double.parseDouble(dpo.findOption("--beta").defaultValue())).isEqualTo(0.1);
        assertThat(o.rpoAlpha()).isEqualTo(Double.parseDouble(dpo.findOption("--rpo-alpha").defaultValue())).isZero();
        assertThat(o.evalEvery()).isEqualTo(Integer.parseInt(dpo.findOption("--eval-every").defaultValue()));
        assertThat(o.evalBatches()).isEqualTo(Integer.parseInt(dpo.findOption("--eval-batches").defaultValue()));
        assertThat(o.seed()).isEqualTo(Long.parseLong(dpo.findOption("--seed").defaultValue()));
        assertThat(o.appendEos()).isFalse();
        assertThat(o.keepBest()).isFalse();
        assertThat(o.format()).isNull();
        assertThat(o.trainable()).isEqualTo(Trainable.ALL);
        assertThat(o.lora()).isNull();
        assertThat(o.withLoRA(4, 8).withSeed(9).withBeta(0.2).lora().scale()).as("kept through other changes").isEqualTo(2.0);
        assertThat(o.withLoRA(4, 8).withTrainable(Trainable.LAST_TWO_BLOCKS).lora()).isNull();
    }

    @Test
    void badSettingsAreOneLine(@TempDir Path dir) throws Exception {
        PreferenceOptions o = PreferenceOptions.of(Path.of("base"), "preferences", Path.of("out"));
        List<Map.Entry<Runnable, String>> bad = List.of(
                Map.entry(() -> o.withBeta(0), "beta must be positive, got 0.0"),
                Map.entry(() -> o.withBeta(Double.NaN), "beta must be positive, got NaN"),
                Map.entry(() -> o.withRpoAlpha(-1), "rpoAlpha must be >= 0, got -1.0"),
                Map.entry(() -> o.withRpoAlpha(Double.POSITIVE_INFINITY), "rpoAlpha must be >= 0, got Infinity"),
                Map.entry(() -> o.withWeightDecay(-0.1), "weightDecay must be >= 0, got -0.1"),
                Map.entry(() -> o.withTraining(0, 8, 1e-3), "epochs must be >= 1, got 0"),
                Map.entry(() -> o.withTraining(1, 0, 1e-3), "batchSize must be >= 1, got 0"),
                Map.entry(() -> o.withTraining(1, 8, 0), "lr must be positive, got 0.0"),
                Map.entry(() -> o.withMaxLength(1), "maxLength must be >= 2, got 1"),
                Map.entry(() -> o.withEvaluation(-1, 1), "evalEvery and evalBatches must be >= 0"),
                Map.entry(() -> o.withTrainable(Trainable.HEAD),
                        "trainable: a language model has no new head to train alone; choose ALL, LAST_BLOCK, LAST_TWO_BLOCKS or LORA"),
                Map.entry(() -> o.withTrainable(Trainable.LORA), "trainable: LoRA needs its rank and alpha; use withLoRA(rank, alpha)"),
                Map.entry(() -> o.withLoRA(0, 8), "rank must be >= 1, got 0"),
                Map.entry(() -> PreferenceOptions.of(Path.of("base"), " ", Path.of("out")), "data: a dataset name or preference file is required"));
        for (var b : bad) assertThatThrownBy(b.getKey()::run).isInstanceOf(IllegalArgumentException.class).hasMessage(b.getValue());
        assertThatThrownBy(() -> Myllm.finetunePreferences(null, null)).isInstanceOf(NullPointerException.class).hasMessage("options must not be null");

        // bad data and a model that is not there, before anything is trained or written
        Tiny t = Tiny.in(dir);
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(dir.resolve("nope"), t.data().toString(), dir.resolve("x")), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("model: no such model directory: " + dir.resolve("nope"));
        // a file where the model directory should be is not called missing; an empty directory is named as the model
        Path notes = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(notes, t.data().toString(), dir.resolve("x")), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("model: " + notes + " is a file, not a model directory");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(empty, t.data().toString(), dir.resolve("x")), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("model: " + empty + ": no config.json (not a model directory)");
        assertThat(dir.resolve("x")).doesNotExist();
        Path instructions = Files.writeString(dir.resolve("instructions.json"), "[{\"instruction\": \"A\", \"output\": \"1\"}]");
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(t.base(), instructions.toString(), dir.resolve("y")), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(instructions + " (val): record 0 has no \"chosen\"");
        assertThatThrownBy(() -> Myllm.finetunePreferences(t.options(dir.resolve("z")).withTraining(1, 64, 1e-3), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(t.data() + " (train): 34 records make no batch of 64; lower batchSize");
        assertThat(dir.resolve("y")).doesNotExist();
        assertThat(dir.resolve("z")).doesNotExist();
    }
}
