package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.Myllm;
import dev.myllm.TrainingOptions;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pretraining run started by {@code Myllm.train} continues under {@code myllm train --resume}, and the other way round, exactly. */
class TrainResumeAcrossTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path verdict(Path tmp) throws Exception {
        return Files.writeString(tmp.resolve("verdict.txt"), Tokenizers.verdictText());
    }

    /** Tiny library settings: batch 2 × 16, the simple tokenizer, evaluation every 2 steps on 1 batch, seed 5. */
    private static TrainingOptions library(Path data, Path out, long steps, long warmup) {
        return TrainingOptions.of(List.of(data.toString()), out).withTokenizer("simple").withBatch(2, 16).withSteps(steps)
                .withLearningRate(1e-3, warmup).withEvaluation(2, 1).withSeed(5);
    }

    /** The same run as a command line (checkpoints every {@code every} steps, no samples). */
    private static String[] command(Path data, Path out, long steps, int every, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple",
                "--out", out.toString(), "--batch-size", "2", "--context-length", "16", "--steps", Long.toString(steps), "--warmup-steps", "2",
                "--lr", "1e-3", "--eval-every", "2", "--eval-batches", "1", "--sample-every", "-1", "--checkpoint-every", Integer.toString(every),
                "--seed", "5"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if (n.has("loss")) out.add(n.get("loss").asDouble());
        }
        return out;
    }

    private static JsonNode state(Path run) throws Exception {
        String latest = Files.readString(run.resolve("latest")).strip();
        return JSON.readTree(run.resolve(latest).resolve("trainer_state.json").toFile());
    }

    private static byte[] model(Path run) throws Exception {
        return Files.readAllBytes(run.resolve("model/model.safetensors"));
    }

    @Test
    void theCommandContinuesALibraryRunWithItsSettings(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Myllm.train(library(data, tmp.resolve("whole"), 6, 0), null);
        Myllm.train(library(data, tmp.resolve("split"), 4, 0), null);
        CliRun r = CliRun.runCapturingStderr("train", "--resume", tmp.resolve("split").toString(), "--steps", "6");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("batches of 2 × 16 per epoch; 6 steps");
        assertThat(losses(tmp.resolve("split"))).hasSize(6).isEqualTo(losses(tmp.resolve("whole")));
        assertThat(model(tmp.resolve("split"))).isEqualTo(model(tmp.resolve("whole")));
    }

    @Test
    void theLibraryContinuesACommandRunExactly(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        assertThat(CliRun.runCapturingStderr(command(data, tmp.resolve("a"), 6, 3)).code()).isZero();
        Path b = tmp.resolve("b");
        assertThat(CliRun.runCapturingStderr(command(data, b, 6, 3)).code()).isZero();
        Files.writeString(b.resolve("latest"), "step-000003\n"); // as if it had been killed at step 3
        Myllm.train(library(data, b, 6, 2).withResume(), null);
        assertThat(losses(b)).hasSize(6).isEqualTo(losses(tmp.resolve("a")));
        assertThat(model(b)).isEqualTo(model(tmp.resolve("a")));
        // what the library does not set is the command run's own still, for the next myllm train --resume
        assertThat(state(b).get("options").get("checkpoint-every").asInt()).isEqualTo(3);
        assertThat(state(b).get("options").get("warmup-steps").asLong()).isEqualTo(2);
    }

    @Test
    void aLibraryRunFromAModelResumesAfterTheModelIsGone(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Myllm.train(library(data, tmp.resolve("base"), 2, 0), null);
        Path init = tmp.resolve("base/model");
        Myllm.train(library(data, tmp.resolve("whole"), 4, 0).withInit(init), null);
        Path cut = tmp.resolve("cut");
        Myllm.train(library(data, cut, 2, 0).withInit(init), null);
        // the model it started from deleted: the checkpoint has its configuration and the weights
        try (var files = Files.walk(tmp.resolve("base"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        Myllm.train(library(data, cut, 4, 0).withInit(init).withResume(), null);
        assertThat(losses(cut)).hasSize(4).isEqualTo(losses(tmp.resolve("whole")));
        assertThat(model(cut)).isEqualTo(model(tmp.resolve("whole")));
    }

    @Test
    void aLibraryRunSavesTheOptionsOfItsCommandLine(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Myllm.train(library(data, tmp.resolve("lib"), 3, 2), null);
        assertThat(CliRun.runCapturingStderr(command(data, tmp.resolve("cli"), 3, 0)).code()).isZero();
        JsonNode lib = state(tmp.resolve("lib")), cli = state(tmp.resolve("cli"));
        assertThat(lib.get("options")).isEqualTo(cli.get("options"));
        assertThat(lib.get("options").get("command").asText()).isEqualTo("train");
        assertThat(lib.get("schedule").asText()).isEqualTo(cli.get("schedule").asText()).startsWith("warmup_cosine(");
        assertThat(model(tmp.resolve("lib"))).isEqualTo(model(tmp.resolve("cli")));
    }

    @Test
    void aLibraryResumeRefusesAnotherSettingNamingIt(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path run = tmp.resolve("run");
        Myllm.train(library(data, run, 2, 0), null);
        String at = "resume: the run in " + run + " ";
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 0).withBatch(3, 16).withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(at + "was made with batchSize 2, the options give 3; resume with the run's own batchSize");
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 0).withLearningRate(2e-3, 0).withResume(), null))
                .hasMessage(at + "was made with lr 0.001, the options give 0.002; resume with the run's own lr");
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 1).withResume(), null))
                .hasMessage(at + "was made with warmupSteps 0, the options give 1; resume with the run's own warmupSteps");
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 0).withSeed(6).withResume(), null))
                .hasMessage(at + "was made with seed 5, the options give 6; resume with the run's own seed");
        byte[] before = model(run);
        Myllm.train(library(data, run, 4, 0).withEvaluation(1, 2).withResume(), null); // evaluation does not change the weights
        assertThat(model(run)).isNotEqualTo(before);
    }

    @Test
    void aLibraryResumeRefusesWhatOnlyTheCommandCanContinue(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path run = tmp.resolve("run");
        assertThat(CliRun.runCapturingStderr(command(data, run, 2, 0, "--decay", "all")).code()).isZero();
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 2).withResume(), null))
                .hasMessage("resume: the run in " + run + " was made with --decay all, which TrainingOptions cannot give; continue it with myllm train --resume " + run);
    }

    @Test
    void aLibraryResumeRefusesAnotherCommandsRun(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path run = tmp.resolve("run");
        Myllm.train(library(data, run, 2, 0), null);
        Path stateFile = run.resolve("step-000002/trainer_state.json");
        ObjectNode st = (ObjectNode) JSON.readTree(stateFile.toFile());
        ((ObjectNode) st.get("options")).put("command", "finetune dpo");
        JSON.writeValue(stateFile.toFile(), st);
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 0).withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resume: the run in " + run + " was made by myllm finetune dpo (Myllm.finetunePreferences); continue it there, or give another out");
        // from before the options named their command: an option train does not take gives the other command away
        ((ObjectNode) st.get("options")).remove("command");
        ((ObjectNode) st.get("options")).put("beta", 0.1);
        JSON.writeValue(stateFile.toFile(), st);
        assertThatThrownBy(() -> Myllm.train(library(data, run, 4, 0).withResume(), null))
                .hasMessage("resume: the run in " + run + " was made by another command (it has --beta, which myllm train does not take);"
                        + " continue it with the command that made it");
    }
}
