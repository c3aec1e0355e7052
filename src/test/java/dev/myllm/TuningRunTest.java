package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.train.Checkpoints;
import dev.myllm.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands' run controls from Java ({@link TuningRun}): steps, warmup + cosine, dropout, a time limit, checkpoints and
 * exact resume give what {@code myllm finetune classify|instruct|dpo} give with the same flags, and the runs continue each other.
 */
class TuningRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Each step's training loss in a run's metrics.jsonl. */
    private static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(JSON.readTree(line).get("loss").asDouble());
        return out;
    }

    /** The options the run's latest checkpoint keeps (what {@code --resume} reads). */
    private static JsonNode savedOptions(Path run) throws Exception {
        return JSON.readTree(Checkpoints.resolve(run).resolve("trainer_state.json").toFile()).get("options");
    }

    /** The same model file, byte for byte. */
    private static void sameModel(Path a, Path b) throws Exception {
        assertThat(Files.mismatch(a.resolve("model/model.safetensors"), b.resolve("model/model.safetensors"))).isEqualTo(-1L);
    }

    /** The checkpoints of a run, by name. */
    private static List<String> checkpoints(Path run) throws Exception {
        try (var s = Files.list(run)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
    }

    @Test
    void instructionTuningTakesTheCommandsRunControls(@TempDir Path dir) throws Exception {
        MyllmInstructTest.Tiny t = MyllmInstructTest.Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm.finetuneInstructions(InstructOptions.of(t.base(), t.data().toString(), lib).withTraining(2, 8, 1e-3).withEvaluation(3, 1)
                .withSteps(5).withWarmupCosine(2, 1e-4).withDropout(0.1f).withCheckpointEvery(2), MyllmInstructTest.into(steps));
        t.cli(cli, "--steps", "5", "--warmup-steps", "2", "--min-lr", "1e-4", "--dropout", "0.1", "--checkpoint-every", "2");

        assertThat(losses(lib)).hasSize(5).isEqualTo(losses(cli)).isEqualTo(steps.stream().map(Trainer.StepReport::loss).toList());
        // warmup from the floor, then the cosine: the rates the command's schedule gives
        assertThat(steps).extracting(Trainer.StepReport::lr).first().isEqualTo(1e-4);
        assertThat(steps.get(2).lr()).isCloseTo(1e-3, org.assertj.core.data.Offset.offset(1e-15));
        sameModel(lib, cli);
        assertThat(checkpoints(lib)).containsExactly("step-000004", "step-000005").isEqualTo(checkpoints(cli)); // the last two kept
        // the settings a resumed command reads are the command's own
        assertThat(savedOptions(lib)).isEqualTo(savedOptions(cli));
    }

    @Test
    void aStoppedInstructionRunResumesExactlyFromJavaAndFromTheCommandLine(@TempDir Path dir) throws Exception {
        MyllmInstructTest.Tiny t = MyllmInstructTest.Tiny.in(dir);
        InstructOptions whole = InstructOptions.of(t.base(), t.data().toString(), dir.resolve("whole")).withTraining(2, 8, 1e-3)
                .withEvaluation(3, 1).withSteps(5).withWarmupCosine(1, 1e-4).withDropout(0.1f);
        Myllm.finetuneInstructions(whole, null);

        // a time limit long past after the first step: the run stops there with a checkpoint, then goes on to the end
        Path java = dir.resolve("java");
        List<Trainer.StepReport> first = new ArrayList<>();
        InstructOptions cut = new InstructOptions(whole.model(), whole.data(), java, null, 2, 8, 1024, 1e-3, 0.1, false, 3, 1, 123,
                whole.trainable(), null, whole.run().withTimeLimit(Duration.ofNanos(1)));
        Myllm.finetuneInstructions(cut, MyllmInstructTest.into(first));
        assertThat(first).hasSize(1).allMatch(r -> r.totalSteps() == 5);
        assertThat(checkpoints(java)).containsExactly("step-000001");
        Myllm.finetuneInstructions(cut.withMinutes(0).withResume(), null);
        assertThat(losses(java)).isEqualTo(losses(dir.resolve("whole")));
        sameModel(java, dir.resolve("whole"));

        // the command continues a run a program started, with that run's settings (its time limit given anew)
        Path started = dir.resolve("started");
        Myllm.finetuneInstructions(new InstructOptions(whole.model(), whole.data(), started, null, 2, 8, 1024, 1e-3, 0.1, false, 3, 1, 123,
                whole.trainable(), null, whole.run().withMinutes(1e-12)), null);
        assertThat(checkpoints(started)).containsExactly("step-000001");
        MyllmTest.cli("finetune", "instruct", "--resume", started.toString(), "--minutes", "0");
        assertThat(losses(started)).isEqualTo(losses(dir.resolve("whole")));
        sameModel(started, dir.resolve("whole"));

        // a finished run has nothing left; a longer one may go on
        assertThatThrownBy(() -> Myllm.finetuneInstructions(whole.withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("steps: the run in " + whole.out() + " is already at step 5; give more than 5 steps (withSteps, or more epochs) to continue it");
    }

    @Test
    void preferenceTuningTakesTheCommandsRunControls(@TempDir Path dir) throws Exception {
        MyllmPreferenceTest.Tiny t = MyllmPreferenceTest.Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm.finetunePreferences(t.options(lib).withTraining(1, 8, 1e-3).withEvaluation(2, 1).withSteps(3).withWarmupCosine(1, 1e-4)
                .withDropout(0.1f).withKeepBest(true), MyllmInstructTest.into(steps));
        t.cli(cli, "--epochs", "1", "--lr", "1e-3", "--eval-every", "2", "--eval-batches", "1", "--steps", "3", "--warmup-steps", "1",
                "--min-lr", "1e-4", "--dropout", "0.1", "--keep-best");

        assertThat(losses(lib)).hasSize(3).isEqualTo(losses(cli)).isEqualTo(steps.stream().map(Trainer.StepReport::loss).toList());
        MyllmInstructTest.sameFiles(lib.resolve("model"), cli.resolve("model"));
        // the same report; why the model was kept names the setting as each says it (keepBest, --keep-best)
        JsonNode libEval = JSON.readTree(lib.resolve("dpo-eval.json").toFile()), cliEval = JSON.readTree(cli.resolve("dpo-eval.json").toFile());
        assertThat(libEval.at("/model/kept").asText()).endsWith("(keepBest)");
        assertThat(cliEval.at("/model/kept").asText()).isEqualTo(libEval.at("/model/kept").asText().replace("(keepBest)", "(--keep-best)"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) libEval.get("model")).remove("kept");
        ((com.fasterxml.jackson.databind.node.ObjectNode) cliEval.get("model")).remove("kept");
        assertThat(libEval).isEqualTo(cliEval);
        assertThat(savedOptions(lib)).isEqualTo(savedOptions(cli));

        // stopped after its first step and resumed, it ends as the whole run did
        Path cut = dir.resolve("cut");
        PreferenceOptions o = t.options(cut).withTraining(1, 8, 1e-3).withEvaluation(2, 1).withSteps(3).withWarmupCosine(1, 1e-4)
                .withDropout(0.1f).withKeepBest(true);
        Myllm.finetunePreferences(o.withMinutes(1e-12), null);
        assertThat(checkpoints(cut)).containsExactly("step-000001");
        Myllm.finetunePreferences(o.withResume(), null);
        assertThat(losses(cut)).isEqualTo(losses(lib));
        MyllmInstructTest.sameFiles(cut.resolve("model"), lib.resolve("model"));
        assertThat(Files.mismatch(cut.resolve("dpo-eval.json"), lib.resolve("dpo-eval.json"))).isEqualTo(-1L);

        // a run another command made is not continued here
        assertThatThrownBy(() -> Myllm.finetuneInstructions(InstructOptions.of(t.base(), t.data().toString(), lib).withResume(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resume: the run in " + lib + " was made by myllm finetune dpo (Myllm.finetunePreferences); continue it there, or give another out");
    }

    @Test
    void classifierTuningTakesTheCommandsRunControls(@TempDir Path dir) throws Exception {
        List<String> rows = TextClassifierTest.rows();
        Path base = TextClassifierTest.base(dir, rows);
        Path data = TextClassifierTest.csv(dir, rows);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        ClassifierOptions o = ClassifierOptions.of(base, data.toString(), lib).withTraining(2, 4, 1e-3).withEvaluation(3, 1)
                .withSteps(9).withWarmupCosine(2, 1e-4).withDropout(0.1f).withCheckpointEvery(4);
        List<Trainer.StepReport> steps = new ArrayList<>();
        TextClassifier.finetune(o, MyllmInstructTest.into(steps));
        MyllmTest.cli("finetune", "classify", "--model", base.toString(), "--data", data.toString(), "--out", cli.toString(),
                "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--eval-every", "3", "--eval-batches", "1",
                "--steps", "9", "--warmup-steps", "2", "--min-lr", "1e-4", "--dropout", "0.1", "--checkpoint-every", "4");

        assertThat(losses(lib)).hasSize(9).isEqualTo(losses(cli)).isEqualTo(steps.stream().map(Trainer.StepReport::loss).toList());
        // warmup from the floor, then the cosine: the rates the command's schedule gives
        assertThat(steps).extracting(Trainer.StepReport::lr).first().isEqualTo(1e-4);
        assertThat(steps.get(2).lr()).isCloseTo(1e-3, org.assertj.core.data.Offset.offset(1e-15));
        sameModel(lib, cli);
        assertThat(checkpoints(lib)).containsExactly("step-000008", "step-000009").isEqualTo(checkpoints(cli)); // the last two kept
        assertThat(savedOptions(lib)).isEqualTo(savedOptions(cli));

        assertThat(savedOptions(cli).get("warmup-steps").asLong()).isEqualTo(2);
        assertThat(savedOptions(cli).get("min-lr").asDouble()).isEqualTo(1e-4);

        // stopped by its time limit after the first step (in the warmup), then continued
        Path cut = dir.resolve("cut");
        TextClassifier.finetune(new ClassifierOptions(base, data.toString(), cut, o.trainable(), o.tokenRule(), 0, 2, 4, 1e-3, 0.1, 3, 1, 123, null,
                o.run().withMinutes(1e-12)), null);
        assertThat(checkpoints(cut)).containsExactly("step-000001");
        TextClassifier.finetune(new ClassifierOptions(base, data.toString(), cut, o.trainable(), o.tokenRule(), 0, 2, 4, 1e-3, 0.1, 3, 1, 123, null,
                o.run().withResume()), null);
        assertThat(losses(cut)).isEqualTo(losses(lib));
        sameModel(cut, lib);
    }

    @Test
    void badRunControlsAreRefusedNamingTheSetting(@TempDir Path dir) throws Exception {
        TuningRun book = TuningRun.book();
        assertThat(book).isEqualTo(new TuningRun(0, null, null, 0, 0f, 0, false));
        assertThatThrownBy(() -> book.withSteps(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("steps must be >= 0 (0: the epochs decide), got -1");
        assertThatThrownBy(() -> book.withWarmupCosine(-1)).isInstanceOf(IllegalArgumentException.class).hasMessage("warmupSteps must be >= 0, got -1");
        assertThatThrownBy(() -> book.withWarmupCosine(2, Double.NaN)).isInstanceOf(IllegalArgumentException.class).hasMessage("minLr must be >= 0, got NaN");
        assertThatThrownBy(() -> book.withMinutes(-0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("minutes must be >= 0 (0: no limit), got -0.5");
        assertThatThrownBy(() -> book.withTimeLimit(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeLimit must be zero or more, got PT-1S");
        assertThatThrownBy(() -> book.withDropout(1f)).isInstanceOf(IllegalArgumentException.class).hasMessage("dropout must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> book.withCheckpointEvery(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("checkpointEvery must be >= 0 (0: at the end), got -2");
        assertThat(book.withTimeLimit(Duration.ofSeconds(90)).minutes()).isEqualTo(1.5);

        InstructOptions o = InstructOptions.of(Path.of("base"), "synthetic", Path.of("out"));
        assertThat(o.run()).isEqualTo(book);
        assertThat(o.withSteps(7).withDropout(0.2f).withSeed(5).run()).as("kept through other changes").isEqualTo(book.withSteps(7).withDropout(0.2f));
        assertThatThrownBy(() -> o.withRun(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("run: the run controls are required; start from TuningRun.book()");
        assertThatThrownBy(() -> PreferenceOptions.of(Path.of("base"), "synthetic", Path.of("out")).withDropout(-0.1f))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("dropout must be in [0, 1), got -0.1");
        // classification takes a warmup and a floor as the command line's does, kept through other changes
        ClassifierOptions c = ClassifierOptions.of(Path.of("base"), "spam", Path.of("out"));
        assertThat(c.withWarmupCosine(2).withSeed(5).run()).isEqualTo(book.withWarmupCosine(2));
        assertThat(c.withWarmupCosine(3, 1e-5).withSteps(7).run()).isEqualTo(book.withWarmupCosine(3, 1e-5).withSteps(7));
        assertThatThrownBy(() -> c.withWarmupCosine(-1)).isInstanceOf(IllegalArgumentException.class).hasMessage("warmupSteps must be >= 0, got -1");

        // a run directory: a new run refuses one that holds a run, a resumed one needs it
        MyllmInstructTest.Tiny t = MyllmInstructTest.Tiny.in(dir);
        Path run = dir.resolve("run");
        InstructOptions tiny = InstructOptions.of(t.base(), t.data().toString(), run).withTraining(1, 8, 1e-3).withEvaluation(0, 1).withSteps(1);
        assertThatThrownBy(() -> Myllm.finetuneInstructions(tiny.withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("out: " + run + " holds no run to resume; train without withResume() to start one");
        Myllm.finetuneInstructions(tiny, null);
        assertThatThrownBy(() -> Myllm.finetuneInstructions(tiny, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("out: " + run + " already holds a run; give another directory");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(t.base(), "spam", run).withResume(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resume: the run in " + run + " was made by myllm finetune instruct (Myllm.finetuneInstructions); continue it there, or give another out");
    }
}
