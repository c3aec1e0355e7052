package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A training run stopped by a signal says where it stopped and how to continue, as a run that {@code --minutes}
 * cut short does: the line is printed while the JVM waits for the run, not after it (when it may never be printed).
 */
class TrainSignalTest {
    @TempDir
    Path tmp;

    private static CommandSpec spec(String... path) {
        picocli.CommandLine cl = Main.commandLine();
        for (String name : path) cl = cl.getSubcommands().get(name);
        return cl.getCommandSpec();
    }

    @Test
    void theStopLineNamesWhyAndTheCommandThatContinues() {
        Path out = Path.of("runs", "a");
        assertThat(ResumePoint.stoppedLine(spec("train"), 3, 10, "interrupted", out))
                .isEqualTo("stopped at step 3 of 10: interrupted; continue with: myllm train --resume " + out);
        assertThat(ResumePoint.stoppedLine(spec("finetune", "dpo"), 1, 4, "--minutes 0.5 used up", out))
                .isEqualTo("stopped at step 1 of 4: --minutes 0.5 used up; continue with: myllm finetune dpo --resume " + out);
        assertThat(ResumePoint.stoppedLine(spec("train"), 10, 10, "interrupted", out)).as("a finished run").isNull();
    }

    @Test
    void aSignalledTrainRunSaysWhereItStoppedAndHowToContinue() throws Exception {
        Path data = tmp.resolve("verdict.txt");
        Files.writeString(data, Tokenizers.verdictText());
        Path out = tmp.resolve("run");
        signalledRun(out, "myllm train", 1_000_000, TrainCommandTest.tiny(data, out, 1_000_000));
    }

    @Test
    void aSignalledFinetuneInstructRunSaysWhereItStoppedAndHowToContinue() throws Exception {
        Path lm = tinyLanguageModel();
        Path out = tmp.resolve("sft");
        signalledRun(out, "myllm finetune instruct", 1_000_000, "finetune", "instruct", "--model", lm.toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "2", "--eval-batches", "1", "--steps", "1000000", "--checkpoint-every", "2", "--out", out.toString());
    }

    @Test
    void aSignalledFinetuneClassifyRunSaysWhereItStoppedAndHowToContinue() throws Exception {
        Path lm = tinyLanguageModel();
        Path out = tmp.resolve("cls");
        // (it went on to the accuracies while the JVM exited, and its "saved" line, if any, named no way to continue)
        // 16 spam and 16 of the 24 ham once balanced, 22 of them for training: 11 batches of 2 an epoch
        signalledRun(out, "myllm finetune classify", 100_000 * 11L, "finetune", "classify", "--model", lm.toString(), "--data",
                "src/test/resources/finetune/tiny-spam.csv", "--batch-size", "2", "--eval-every", "2", "--eval-batches", "1",
                "--epochs", "100000", "--checkpoint-every", "2", "--out", out.toString());
    }

    /** A two-layer GPT-2-vocabulary model directory (context 64, width 16) to fine-tune. */
    private Path tinyLanguageModel() throws java.io.IOException {
        Path lm = tmp.resolve("lm");
        if (!Files.exists(lm)) {
            dev.myllm.io.ModelDirectory.save(new dev.myllm.model.GPTModel(new dev.myllm.model.GPTConfig(dev.myllm.model.GPTConfig.GPT2_VOCAB, 64, 16, 2, 2,
                    0f, true, true, 1e-5f), 1), lm);
        }
        return lm;
    }

    /**
     * Runs {@code myllm ARGS} as its own process, sends SIGTERM once it has saved a checkpoint, and checks what it said last.
     * SIGTERM runs the same shutdown hook as Ctrl-C (SIGINT), which a test may be unable to send: background jobs ignore it.
     */
    private void signalledRun(Path out, String command, long total, String... args) throws Exception {
        Path log = tmp.resolve(out.getFileName() + ".err");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), "dev.myllm.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(log.toFile()).start();
        try {
            // signalled once the run is under way (its first checkpoint): before, the trainer has nothing to save
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && p.isAlive() && !Files.readString(log).contains("checkpoint: ")) Thread.sleep(50);
            assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String err = Files.readString(log);
            assertThat(p.exitValue()).as(err).isEqualTo(143);
            assertThat(out.resolve("latest")).as(err).exists();
            String latest = Files.readString(out.resolve("latest")).strip();
            long step = Long.parseLong(latest.substring("step-".length()));
            assertThat(step).isPositive();
            assertThat(err).contains("saved: " + out.resolve(latest) + " (checkpoint), " + out.resolve("model") + " (model)");
            assertThat(err).doesNotContain("accuracy: training"); // (finetune classify's report of a finished run)
            assertThat(err.strip()).endsWith("stopped at step " + step + " of " + total + ": interrupted; continue with: " + command + " --resume " + out);
        } finally {
            p.destroyForcibly();
        }
    }
}
