package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The jar run without {@code --add-modules jdk.incubator.vector} (the README's {@code java -jar} line with the flag left
 * out): it was a {@code NoClassDefFoundError: jdk/incubator/vector/Vector} stack trace once a kernel was first used.
 */
class VectorModuleMissingTest {
    @Test
    void aJvmWithoutTheVectorModuleIsToldInOneLine() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(javaBin, "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.myllm.cli.Main",
                "generate", "--preset", "gpt2-tiny", "--prompt", "hi", "--max-new-tokens", "1");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        p.getOutputStream().close();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isEqualTo(2);
        assertThat(out).isEmpty();
        assertThat(err).isEqualTo("myllm: the Java Vector API module is not loaded: run java with --add-modules jdk.incubator.vector"
                + " (java --add-modules jdk.incubator.vector -jar myllm.jar ...), or use ./myllm, which adds it\n");
    }
}
