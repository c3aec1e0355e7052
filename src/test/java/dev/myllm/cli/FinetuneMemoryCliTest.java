package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune classify|instruct|dpo} refuse a run that cannot fit the Java heap in one line before reading its data
 * or weights, as {@code train} does; with LoRA the same model is not refused (it was an OutOfMemoryError after loading).
 */
class FinetuneMemoryCliTest {
    /** A model directory of {@code preset}'s shape whose weights file is no weights: a run that reads it fails there. */
    static Path shapeOnly(Path dir, int embd, int heads, int layers) throws Exception {
        Path model = Files.createDirectories(dir);
        Files.writeString(model.resolve("config.json"), """
                {"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": %d, "n_head": %d, "n_layer": %d}
                """.formatted(embd, heads, layers));
        Files.writeString(model.resolve("model.safetensors"), "not read");
        return model;
    }

    private static String heap() {
        return dev.myllm.util.ByteSizes.of(Runtime.getRuntime().maxMemory());
    }

    /** The one-line refusal, exit code 2, nothing written. */
    private static void assertRefused(CliRun r, Path out, String start, String remedy) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("myllm: " + start).contains("but the Java heap is " + heap() + "; ")
                .endsWith(remedy).doesNotContain("\n");
        assertThat(out).doesNotExist();
    }

    /** Past the memory check: the run fails on the weights file that holds none. */
    private static void assertNotRefused(CliRun r) {
        assertThat(r.code()).as(r.err()).isNotZero();
        assertThat(r.err()).doesNotContain("Java heap").contains("model.safetensors");
    }

    @Test
    void fullInstructionTuningOfGpt2LargeIsRefusedBeforeItsDataLoRAIsNot(@TempDir Path dir) throws Exception {
        Path large = shapeOnly(dir.resolve("large"), 1280, 20, 36); // 774M parameters: 11.5 GiB of weights, gradients and AdamW
        Path out = dir.resolve("run");
        assertRefused(CliRun.runCapturingStderr("finetune", "instruct", "--model", large.toString(), "--data", "no-such-file.json", "--out", out.toString()),
                out, "fine-tuning every weight before its first batch needs 11.", "train fewer weights (--trainable lora), or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");
        assertNotRefused(CliRun.runCapturingStderr("finetune", "instruct", "--model", large.toString(), "--data", "synthetic", "--trainable", "lora",
                "--out", out.toString()));
    }

    @Test
    void fullDpoCountsItsReferenceCopy(@TempDir Path dir) throws Exception {
        Path medium = shapeOnly(dir.resolve("medium"), 1024, 16, 24); // 355M: 5.3 GiB to train, 1.3 GiB more for the reference
        Path out = dir.resolve("run");
        assertRefused(CliRun.runCapturingStderr("finetune", "dpo", "--model", medium.toString(), "--data", "no-such-file.json", "--out", out.toString()),
                out, "DPO of every weight with a frozen reference copy before its first batch needs ",
                "train fewer weights (--trainable lora), or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");
        assertNotRefused(CliRun.runCapturingStderr("finetune", "dpo", "--model", medium.toString(), "--data", "synthetic", "--trainable", "lora",
                "--out", out.toString()));
    }

    @Test
    void instructAndDpoAreRefusedWithTheirFirstBatchBeforeTraining(@TempDir Path dir) {
        Path tiny = FinetuneInstructCliTest.tinyBase(dir.resolve("tiny")), out = dir.resolve("run");
        for (String command : new String[]{"instruct", "dpo"}) {
            // 16,000 records of about 60 tokens a batch: tens of GiB of activations for any choice of what trains
            assertRefused(CliRun.runCapturingStderr("finetune", command, "--model", tiny.toString(), "--data", "synthetic", "--synthetic-size", "20000",
                            "--batch-size", "16000", "--out", out.toString()),
                    out, "batch 16000 × ", "; lower --batch-size or --max-length, or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");
        }
    }

    @Test
    void classifyIsRefusedBeforeItsDataOrOnceItsLengthIsKnownBeforeTheWeightsAreRead(@TempDir Path dir) throws Exception {
        Path large = shapeOnly(dir.resolve("large"), 1280, 20, 36);
        StringBuilder csv = new StringBuilder("text,label\n");
        for (int i = 0; i < 40; i++) csv.append("message number ").append(i).append(i % 2 == 0 ? ",ham\n" : ",spam\n");
        Path data = Files.writeString(dir.resolve("sms.csv"), csv);
        Path out = dir.resolve("run");
        // before the data is read when the weights alone cannot fit
        assertRefused(CliRun.runCapturingStderr("finetune", "classify", "--model", large.toString(), "--data", "no-such-file.csv", "--trainable", "all",
                        "--out", out.toString()),
                out, "fine-tuning every weight before its first batch needs ", "train fewer weights (--trainable lora), or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");
        // the book's default trains the last block
        assertNotRefused(CliRun.runCapturingStderr("finetune", "classify", "--model", large.toString(), "--data", data.toString(), "--out", out.toString()));
        // a batch too large for any choice of what trains
        assertRefused(CliRun.runCapturingStderr("finetune", "classify", "--model", large.toString(), "--data", data.toString(), "--batch-size", "4000",
                        "--max-length", "1024", "--out", out.toString()),
                out, "batch 4000 × 1024 needs ", "; lower --batch-size or --max-length, or give Java more memory (MYLLM_JAVA_OPTS=-Xmx...)");
    }
}
