package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A GGUF file of llama-quantize's types (Q4_K, Q5_K, Q6_K, ...) generates. */
class KQuantCliTest {
    private static Path fixture(String name) {
        try {
            return Path.of(KQuantCliTest.class.getResource("/gguf/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aQ4KMFileGenerates() {
        String f = fixture("tiny256-q4_k_m.gguf").toString();
        CliRun g = CliRun.run("generate", "--model", f, "--prompt", "Hello the", "--max-new-tokens", "5", "--temperature", "0", "--ids");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out().trim().split("\\s+")).hasSizeGreaterThanOrEqualTo(5);
        CliRun f32 = CliRun.run("generate", "--model", f, "--dtype", "f32", "--prompt", "Hello the", "--max-new-tokens", "5", "--temperature", "0", "--ids");
        assertThat(f32.code()).as(f32.err()).isZero();
    }
}
