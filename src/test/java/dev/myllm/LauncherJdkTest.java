package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tools/find-jdk.sh}, which {@code ./myllm} and {@code ./test} source, against fake JDKs:
 * it reads a candidate's version from its {@code release} file instead of starting its JVM (each
 * start cost about 0.1 s of every command; the script took 0.75 s on a machine with four JDKs),
 * finds the JDK a symlinked {@code java} on the PATH belongs to the same way, and starts a
 * candidate only when it has no release file.
 */
class LauncherJdkTest {

    /** A fake JDK: {@code bin/java} (which leaves {@code started} behind when run) and {@code bin/javac}. */
    private static Path jdk(Path dir, String name, String releaseVersion, String reportedVersion) throws IOException {
        Path home = dir.resolve(name), bin = home.resolve("bin");
        Files.createDirectories(bin);
        if (releaseVersion != null) Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Fake\"\nJAVA_VERSION=\"" + releaseVersion + "\"\n");
        String java = "#!/bin/sh\ntouch '" + home.resolve("started") + "'\n"
                + "echo '    java.home = " + home + "' >&2\necho '    java.specification.version = " + reportedVersion + "' >&2\n";
        executable(bin.resolve("java"), java);
        executable(bin.resolve("javac"), "#!/bin/sh\nexit 0\n");
        return home;
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The JAVA_HOME the script settles on, with only {@code pathDir} ahead of the system's PATH. */
    private static String found(Path dir, String javaHome, Path pathDir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "source tools/find-jdk.sh && printf '%s' \"$JAVA_HOME\"").redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("JAVA_HOME");
        if (javaHome != null) env.put("JAVA_HOME", javaHome);
        env.put("HOME", dir.toString());
        env.put("SDKMAN_DIR", dir.resolve("no-sdkman").toString());
        env.put("PATH", pathDir + ":/usr/bin:/bin");
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void readsReleaseFilesInsteadOfStartingEachJvm(@TempDir Path dir) throws Exception {
        Path old = jdk(dir, "jdk-17", "17.0.15", "17"), current = jdk(dir, "jdk-25", "25.0.3", "25");
        Path path = Files.createDirectories(dir.resolve("path"));
        Files.createSymbolicLink(path.resolve("java"), current.resolve("bin/java"));

        // JAVA_HOME names a JDK 17: passed over; the java on the PATH is a link into a JDK 25
        assertThat(found(dir, old.toString(), path)).isEqualTo(current.toString());
        assertThat(old.resolve("started")).doesNotExist();
        assertThat(current.resolve("started")).doesNotExist();
    }

    @Test
    void startsACandidateThatHasNoReleaseFile(@TempDir Path dir) throws Exception {
        Path bare = jdk(dir, "jdk-bare", null, "26");
        assertThat(found(dir, bare.toString(), Files.createDirectories(dir.resolve("path")))).isEqualTo(bare.toString());
        assertThat(bare.resolve("started")).exists();
    }

    @Test
    void anEarlyAccessReleaseCounts(@TempDir Path dir) throws Exception {
        Path ea = jdk(dir, "jdk-ea", "26-ea", "26");
        assertThat(found(dir, ea.toString(), Files.createDirectories(dir.resolve("path")))).isEqualTo(ea.toString());
        assertThat(ea.resolve("started")).doesNotExist();
    }
}
