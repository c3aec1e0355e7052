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
 * The launcher's own JVM flags, each decided by a few lines of the script run here by bash: huge
 * pages (against a fake {@code /sys/kernel/mm/transparent_hugepage/enabled}) where the kernel
 * offers them on request, objects aligned to cache lines, and C2's budget of uncommon traps raised
 * (so that kernels of many inlined Vector API calls keep their vectors in registers), the vector
 * helpers forced inline; each left out where the user's options name it.
 */
class LauncherJvmFlagsTest {
    private static final String SYSFS = "/sys/kernel/mm/transparent_hugepage/enabled";

    /** The launcher's lines from {@code name=""} (or {@code name="...}) to the end of the case that follows. */
    private static String block(String variable) throws IOException {
        String script = Files.readString(Path.of("myllm"), StandardCharsets.UTF_8);
        int from = script.indexOf("\n" + variable + "=\"");
        int to = script.indexOf("esac", from);
        assertThat(from).as("the launcher sets " + variable).isGreaterThan(0);
        assertThat(to).isGreaterThan(from);
        return script.substring(from + 1, to + "esac".length());
    }

    /** The value the block leaves in {@code variable}, with these user options. */
    private static String run(String block, String variable, String javaOpts) throws Exception {
        String script = "MYLLM_JAVA_OPTS='" + javaOpts + "'\n" + block + "\nprintf '%s' \"$" + variable + "\"\n";
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static String thp(Path dir, String enabled, String javaOpts) throws Exception {
        Path fake = dir.resolve("enabled");
        Files.writeString(fake, enabled + "\n");
        String block = block("thp");
        assertThat(block).contains(SYSFS);
        return run(block.replace(SYSFS, fake.toString()), "thp", javaOpts);
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
    void noAnswerFromTheKernelMeansNoHugePages(@TempDir Path dir) throws Exception {
        String block = block("thp").replace(SYSFS, dir.resolve("missing").toString());
        assertThat(run(block, "thp", "")).isEmpty();
    }

    @Test
    void alignsObjectsToCacheLinesUnlessTheUserSetsTheAlignment() throws Exception {
        String block = block("align");
        assertThat(run(block, "align", "")).isEqualTo("-XX:ObjectAlignmentInBytes=64");
        assertThat(run(block, "align", "-Xmx2g -XX:+UseTransparentHugePages")).isEqualTo("-XX:ObjectAlignmentInBytes=64");
        assertThat(run(block, "align", "-XX:ObjectAlignmentInBytes=16")).isEmpty();
    }

    @Test
    void raisesTheTrapBudgetUnlessTheUserSetsIt() throws Exception {
        String block = block("traps");
        assertThat(run(block, "traps", "")).isEqualTo("-XX:PerMethodTrapLimit=10000");
        assertThat(run(block, "traps", "-Xmx2g -XX:+UseTransparentHugePages")).isEqualTo("-XX:PerMethodTrapLimit=10000");
        assertThat(run(block, "traps", "-XX:PerMethodTrapLimit=100")).isEmpty();
    }

    @Test
    void forcesTheVectorHelpersInlineAsTheSuiteDoesUnlessTheUserNamesThem() throws Exception {
        String block = block("inline");
        String flags = run(block, "inline", "");
        assertThat(flags).isEqualTo("-XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.myllm.tensor.VecMath::exp"
                + " -XX:CompileCommand=inline,dev.myllm.tensor.VecMath::sum");
        assertThat(run(block, "inline", "-Xmx2g -XX:CompileCommand=print,dev.myllm.tensor.GemmKernel::*")).isEqualTo(flags);
        assertThat(run(block, "inline", "-XX:CompileCommand=dontinline,dev.myllm.tensor.VecMath::exp")).isEmpty();
        // the tests run with the product's flags (ForcedInliningTest checks what they do)
        assertThat(Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8)).contains(flags + "</test.jvm>");
    }

    @Test
    void theLauncherPassesItsFlagsToTheJvm() throws Exception {
        String script = Files.readString(Path.of("myllm"), StandardCharsets.UTF_8);
        String exec = script.substring(script.lastIndexOf("exec \"$JAVA_HOME/bin/java\""));
        assertThat(exec).contains("$thp").contains("$align").contains("$traps").contains("$inline");
    }
    /** The launcher's young-generation lines, run with these command arguments and user options. */
    private static String young(String args, String javaOpts) throws Exception {
        String script = Files.readString(Path.of("myllm"), StandardCharsets.UTF_8);
        int from = script.indexOf("\nyoung=\"");
        int to = script.indexOf("esac", script.indexOf("esac", from) + 4);
        assertThat(from).isGreaterThan(0);
        return run("set -- " + args + "\n" + script.substring(from + 1, to + "esac".length()), "young", javaOpts);
    }

    @Test
    void commandsThatOnlyRunAModelGetASmallerYoungGeneration() throws Exception {
        assertThat(young("generate --model m --prompt hi", "")).isEqualTo("-XX:MaxNewSize=16m");
        assertThat(young("chat --model m", "")).isEqualTo("-XX:MaxNewSize=16m");
        assertThat(young("score --model m --text hi", "")).isEqualTo("-XX:MaxNewSize=16m");
        assertThat(young("bench generate --preset gpt2-small", "")).isEqualTo("-XX:MaxNewSize=16m");
        assertThat(young("serve --model m", "")).isEqualTo("-XX:MaxNewSize=16m");
        // training and the other benchmarks keep 64 MB; the user's own sizing wins
        assertThat(young("train --data verdict", "")).isEqualTo("-XX:MaxNewSize=64m");
        assertThat(young("bench serve --preset gpt2-small", "")).isEqualTo("-XX:MaxNewSize=64m");
        assertThat(young("bench train", "")).isEqualTo("-XX:MaxNewSize=64m");
        assertThat(young("generate --model m", "-Xmn200m")).isEmpty();
        assertThat(young("train", "-XX:NewRatio=3")).isEmpty();
    }

    @Test
    void theIncubatorWarningFilterPassesAMessageWithBinaryBytesThrough() throws Exception {
        // a message quoting a binary file's bytes (a GGUF header) was swallowed whole: grep printed "binary file matches"
        String script = Files.readString(Path.of("myllm"), StandardCharsets.UTF_8);
        int from = script.lastIndexOf("2> >(") + "2> >(".length();
        String filter = script.substring(from, script.indexOf(" >&2)", from));
        Process p = new ProcessBuilder("bash", "-c", "printf 'WARNING: Using incubator modules: jdk.incubator.vector\\nmyllm: bad: GGUF\\003\\000\\000 x\\n' | " + filter)
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.getInputStream().readAllBytes()).isEqualTo("myllm: bad: GGUF\u0003\u0000\u0000 x\n".getBytes(StandardCharsets.UTF_8));
    }
}
