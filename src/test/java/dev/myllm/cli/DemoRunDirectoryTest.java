package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo replaces only a run it made itself: a training run in its --out is refused, not deleted. */
class DemoRunDirectoryTest {

    @Test
    void aTrainRunInOutIsRefusedAndLeftUntouched(@TempDir Path tmp) throws Exception {
        // demo deleted every step-N, latest and metrics.jsonl in --out, so demo --out runs/my-train-run lost that run's checkpoints
        Path run = fakeRun(Files.createDirectories(tmp.resolve("run")));
        CliRun r = CliRun.run("demo", "--out", run.toString(), "--data", tmp.resolve("none.txt").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --out " + run + " holds a training run that demo did not make (step-000001, latest, metrics.jsonl);"
                + " give another --out or remove it\n");
        assertThat(run.resolve("step-000001").resolve("model.safetensors")).hasContent("weights");
        assertThat(run.resolve("latest")).hasContent("step-000001");
        assertThat(run.resolve("metrics.jsonl")).hasContent("{}\n");
        try (var files = Files.list(run)) {
            assertThat(files).hasSize(3);
        }
    }

    @Test
    void anEarlierDemosRunIsClearedForTheNextOne(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("demo");
        DemoCommand.clearRun(run); // a first demo marks its new directory as its own
        assertThat(run.resolve(DemoCommand.MARKER)).exists();
        fakeRun(run);
        // a hidden name that is not an abandoned write of this host (a live writer's could be there) is not the demo's to delete
        Path other = Files.writeString(run.resolve(".tmp-notes"), "x");
        DemoCommand.refuseOthersRun(run);
        DemoCommand.clearRun(run);
        try (var files = Files.list(run)) {
            assertThat(files).containsExactlyInAnyOrder(run.resolve(DemoCommand.MARKER), other);
        }
    }

    @Test
    void anEmptyOrMissingOutIsNoOnesRun(@TempDir Path tmp) throws Exception {
        DemoCommand.refuseOthersRun(tmp.resolve("none"));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(empty.resolve("notes.txt"), "mine");
        DemoCommand.refuseOthersRun(empty);
        Files.writeString(empty.resolve("latest"), "step-000004");
        assertThatThrownBy(() -> DemoCommand.refuseOthersRun(empty)).isInstanceOf(CliException.class).hasMessageContaining("(latest)");
    }

    private static Path fakeRun(Path dir) throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("step-000001")).resolve("model.safetensors"), "weights");
        Files.writeString(dir.resolve("latest"), "step-000001");
        Files.writeString(dir.resolve("metrics.jsonl"), "{}\n");
        return dir;
    }
}
