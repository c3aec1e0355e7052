package dev.myllm;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Myllm#load} refuses a model whose float32 weights alone exceed the heap before reading them, as {@link Myllm#train} refuses a run. */
class LoadTooLargeTest {
    @Test
    void aModelLargerThanTheHeapIsRefusedBeforeItsWeightsAreRead(@TempDir Path dir) throws Exception {
        // 40 layers of width 4096: about 30 GiB of float32 weights (before: an OutOfMemoryError once allocating them)
        Path model = Files.createDirectories(dir.resolve("big"));
        Files.writeString(model.resolve("config.json"), """
                {"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 4096, "n_head": 32, "n_layer": 40}
                """);
        Files.writeString(model.resolve("model.safetensors"), "not read");
        String heap = dev.myllm.util.ByteSizes.of(Runtime.getRuntime().maxMemory());
        assertThatThrownBy(() -> Myllm.load(model)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model " + model + ": its float32 weights need ")
                .hasMessageEndingWith(" but the Java heap is " + heap + "; give the JVM more heap (-Xmx), or load it with loadForInference");
    }
}
