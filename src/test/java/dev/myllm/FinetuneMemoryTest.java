package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.finetune.Trainable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's fine-tunings refuse a run that cannot fit the Java heap before its data and weights are read, as
 * {@link Myllm#train} refuses one, in the library's names; with LoRA the same model is not refused.
 */
class FinetuneMemoryTest {
    /** A directory of gpt2-large's shape (774M parameters: 11.5 GiB to train every weight) with no weights in its file. */
    private static Path large(Path dir) throws Exception {
        Path model = Files.createDirectories(dir.resolve("large"));
        Files.writeString(model.resolve("config.json"), """
                {"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 1280, "n_head": 20, "n_layer": 36}
                """);
        Files.writeString(model.resolve("model.safetensors"), "not read");
        return model;
    }

    private static final String HEAP = "but the Java heap is " + dev.myllm.util.ByteSizes.of(Runtime.getRuntime().maxMemory()) + "; ";

    @Test
    void instructionTuningEveryWeightOfGpt2LargeIsRefusedLoRAIsNot(@TempDir Path dir) throws Exception {
        Path large = large(dir), out = dir.resolve("run");
        assertThatThrownBy(() -> Myllm.finetuneInstructions(InstructOptions.of(large, "no-such-file.json", out), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("fine-tuning every weight before its first batch needs 11.").hasMessageContaining(HEAP)
                .hasMessageEndingWith("train fewer weights (withLoRA(rank, alpha)), or give the JVM more heap (-Xmx)")
                .hasMessageNotContaining("--");
        assertThat(out).doesNotExist();
        assertThatThrownBy(() -> Myllm.finetuneInstructions(InstructOptions.of(large, "synthetic", out).withLoRA(8, 16), null))
                .hasMessageNotContaining("Java heap").hasMessageContaining("model.safetensors");
    }

    @Test
    void dpoOfEveryWeightIsRefusedLoRAIsNot(@TempDir Path dir) throws Exception {
        Path large = large(dir), out = dir.resolve("run");
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(large, "no-such-file.json", out), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("DPO of every weight with a frozen reference copy before its first batch needs ").hasMessageContaining(HEAP)
                .hasMessageEndingWith("train fewer weights (withLoRA(rank, alpha)), or give the JVM more heap (-Xmx)");
        assertThat(out).doesNotExist();
        assertThatThrownBy(() -> Myllm.finetunePreferences(PreferenceOptions.of(large, "synthetic", out).withLoRA(8, 16), null))
                .hasMessageNotContaining("Java heap").hasMessageContaining("model.safetensors");
    }

    @Test
    void aClassifierIsRefusedBeforeItsDataOrOnceItsLengthIsKnownBeforeTheWeightsAreRead(@TempDir Path dir) throws Exception {
        Path large = large(dir), out = dir.resolve("run");
        StringBuilder csv = new StringBuilder("text,label\n");
        for (int i = 0; i < 40; i++) csv.append("message number ").append(i).append(i % 2 == 0 ? ",ham\n" : ",spam\n");
        Path data = Files.writeString(dir.resolve("sms.csv"), csv);
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(large, "no-such-file.csv", out).withTrainable(Trainable.ALL), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("fine-tuning every weight before its first batch needs ").hasMessageContaining(HEAP)
                .hasMessageEndingWith("train fewer weights (withLoRA(rank, alpha)), or give the JVM more heap (-Xmx)");
        assertThat(out).doesNotExist();
        // the book's last block fits before the data; batches this large cannot fit whatever trains
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(large, data.toString(), out).withTraining(1, 4000, 1e-3).withMaxLength(1024), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("batch 4000 × 1024 needs ").hasMessageContaining(HEAP)
                .hasMessageEndingWith("; lower batchSize or maxLength, or give the JVM more heap (-Xmx)");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(large, data.toString(), out).withLoRA(8, 16), null))
                .hasMessageNotContaining("Java heap").hasMessageContaining("model.safetensors");
    }
}
