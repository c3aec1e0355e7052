package dev.myllm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The programs under {@code examples/} compile with the tests and run on a tiny model. */
class ExamplesTest {
    /** Runs an example's {@code main} (they live in the unnamed package, so by name) and returns what it printed. */
    static String run(String example, String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Class.forName(example).getMethod("main", String[].class).invoke(null, (Object) args);
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void generateText(@TempDir Path dir) throws Exception {
        Myllm llm = MyllmTest.tiny();
        llm.save(dir.resolve("model"));
        String out = run("GenerateText", dir.resolve("model").toString(), "Every effort moves you", "8");
        String greedy = llm.generate("Every effort moves you", dev.myllm.generate.GenerationConfig.greedy(8)).text();
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("Every effort moves you" + greedy);
        assertThat(lines[1]).startsWith("Every effort moves you").isNotEqualTo(lines[0]);
        Myllm.Score score = llm.score("Every effort moves you and");
        assertThat(lines[2]).isEqualTo(String.format("perplexity of the prompt: %.2f over 5 tokens", score.perplexity()));
    }
}
