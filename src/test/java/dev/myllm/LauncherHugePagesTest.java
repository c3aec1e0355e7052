package dev.myllm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's choice of huge pages: its lines that set {@code thp}, run by bash against a fake
 * {@code /sys/kernel/mm/transparent_hugepage/enabled}, ask for them where the kernel offers them on
 * request and leave them out where it does not, or where the user's options name them.
 */
class LauncherHugePagesTest {
    private static final String SYSFS = "/sys/kernel/mm/transparent_hugepage/enabled";

    /** The launcher's lines from {@code thp=""} to the end of the case that follows, with the sysfs file replaced. */
    private static String block(Path fake) throws IOException {
        String script = Files.readString(Path.of("myllm"), StandardCharsets.UTF_8);
        int from = script.indexOf("thp=\"\"");
        int to = script.indexOf("esac", from);
        assertThat(from).as("the launcher sets thp").isGreaterThan(0);
        assertThat(to).isGreaterThan(from);
        String block = script.substring(from, to + "esac".length());
        assertThat(block).contains(SYSFS);
        return block.replace(SYSFS, fake.toString());
    }

    private static String thp(Path dir, String enabled, String javaOpts) throws Exception {
        Path fake = dir.resolve("enabled");
        Files.writeString(fake, enabled + "\n");
        String script = "MYLLM_JAVA_OPTS='" + javaOpts + "'\n" + block(fake) + "\nprintf '%s' \"$thp\"\n";
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void asksForHugePagesWhereTheKernelOffersThemOnRequest(@TempDir Path dir) throws Exception {
        assertThat(thp(dir, "always [madvise] never", "")).isEqualTo("-XX:+UseTransparentHugePages");
        assertThat(thp(dir, "[always] madvise never", "")).isEqualTo("-XX:+UseTransparentHugePages");
        assertThat(thp(dir, "always madvise [never]", "")).isEmpty();
        assertThat(thp(dir, "always defer defer+madvise [madvise] never", "-Xmx2g")).isEqualTo("-XX:+UseTransparentHugePages");
    }

    @Test
    void theUsersOptionsDecideWhenTheyNameHugePages(@TempDir Path dir) throws Exception {
        assertThat(thp(dir, "always [madvise] never", "-XX:-UseTransparentHugePages")).isEmpty();
        assertThat(thp(dir, "always [madvise] never", "-Xmx2g -XX:+UseLargePages")).isEmpty();
    }

    @Test
    void noAnswerFromTheKernelMeansNoFlag(@TempDir Path dir) throws Exception {
        String script = "MYLLM_JAVA_OPTS=''\n" + block(dir.resolve("missing")) + "\nprintf '%s' \"$thp\"\n";
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
        assertThat(p.exitValue()).isZero();
    }
}
