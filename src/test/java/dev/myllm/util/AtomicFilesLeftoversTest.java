package dev.myllm.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a killed write leaves beside its target is removed by the next write to that target, and nothing else is. */
class AtomicFilesLeftoversTest {

    /** Starts writing {@code args[1]} (a directory or a file) at {@code args[0]}, says so, and waits to be killed. */
    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]);
        if (args[1].equals("dir")) {
            AtomicFiles.writeDirectory(target, d -> {
                Files.writeString(d.resolve("weights"), "half");
                waitToBeKilled();
            });
        } else {
            AtomicFiles.write(target, out -> {
                out.write("half".getBytes(StandardCharsets.UTF_8));
                out.flush();
                waitToBeKilled();
            });
        }
    }

    private static void waitToBeKilled() {
        System.out.println("writing");
        System.out.flush();
        try {
            Thread.sleep(TimeUnit.MINUTES.toMillis(2));
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
        System.exit(3); // never renamed into place: the test kills us first
    }

    /** Runs {@link #main} in another JVM and kills it (SIGKILL) once it is writing. */
    private static void killMidWrite(Path target, String kind) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), AtomicFilesLeftoversTest.class.getName(),
                target.toString(), kind).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(in.readLine()).isEqualTo("writing");
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aKilledWritesLeftoverGoesWithTheNextWriteToTheSameTarget(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out"), file = dir.resolve("model.bin");
        killMidWrite(out, "dir");
        killMidWrite(file, "file");
        assertThat(AtomicFilesTest.names(dir)).hasSize(2).allMatch(n -> n.startsWith(AtomicFiles.TMP_PREFIX));
        // names that are not certainly an abandoned write of ours stay: other targets', the user's, an old format's
        Path others = Files.createDirectories(dir.resolve("others"));
        killMidWrite(others.resolve("out-2"), "dir");
        String leftoverOfAnother = AtomicFilesTest.names(others).getFirst();
        for (String n : new String[]{leftoverOfAnother, ".tmp-out", ".tmp-out-notes", ".tmp-out-1f2e3d4c", ".tmp-outer-1-2", ".tmp-out-1-zz"}) {
            Files.createDirectories(dir.resolve(n));
        }
        AtomicFiles.writeDirectory(out, d -> Files.writeString(d.resolve("weights"), "whole"));
        AtomicFiles.writeString(file, "whole");
        assertThat(out.resolve("weights")).hasContent("whole");
        assertThat(file).hasContent("whole");
        assertThat(AtomicFilesTest.names(dir)).containsExactlyInAnyOrder("out", "model.bin", "others", leftoverOfAnother, ".tmp-out",
                ".tmp-out-notes", ".tmp-out-1f2e3d4c", ".tmp-outer-1-2", ".tmp-out-1-zz");
    }

    @Test
    void aWriteInProgressIsNotALeftover(@TempDir Path dir) throws Exception {
        // a second write to the same target while the first is still writing (this process is alive) leaves the first alone
        Path out = dir.resolve("out");
        AtomicFiles.writeDirectory(out, first -> {
            Files.writeString(first.resolve("a"), "first");
            AtomicFiles.writeDirectory(out, second -> Files.writeString(second.resolve("b"), "second"));
            assertThat(first.resolve("a")).hasContent("first");
        });
        assertThat(AtomicFilesTest.names(out)).containsExactly("a");
        assertThat(AtomicFilesTest.names(dir)).containsExactly("out");
    }
}
