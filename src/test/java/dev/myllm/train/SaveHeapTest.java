package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.LoRAModel;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.TokenRule;
import dev.myllm.io.DType;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A save needs about one tensor of heap beyond what training holds, not a copy of the model: a run whose steps fit
 * the heap must be able to save (a gpt2-small LoRA instruction tuning ran out of memory in its checkpoint's save,
 * which held every Conv1D weight transposed, every LoRA target's weight cloned and the optimizer's moments cloned).
 * Measured as the bytes the saving thread allocates, which bounds what the save can add to the heap at once.
 */
class SaveHeapTest {
    // Conv1D weights of 256x768 .. 1024x256 floats (up to 1 MiB each); 4 blocks hold 12.6 MB of them
    static final GPTConfig SHAPE = new GPTConfig(300, 32, 256, 4, 4, 0f, true, false, 1e-5f);

    static long largestTensorBytes(GPTModel m) {
        return 4L * m.namedParameters().values().stream().mapToLong(Tensor::size).max().orElseThrow();
    }

    /** Bytes {@code save} allocates on this thread, measured on its second run (the first loads classes). */
    static long allocatedBy(Runnable save) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        save.run();
        long before = threads.getCurrentThreadAllocatedBytes();
        save.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    /** About one tensor: a few of the largest's size (a reused conversion buffer per tensor size) plus the files' small change. */
    static long bound(GPTModel m) {
        return 4 * largestTensorBytes(m) + (1 << 20);
    }

    @Test
    void aModelDirectorysSaveTransposesOneWeightAtATime(@TempDir Path tmp) {
        GPTModel m = RandomModels.uniform(SHAPE, 1);
        long bytes = allocatedBy(() -> new GptModelStore(m).save(tmp));
        assertThat(bytes).isLessThan(bound(m));
    }

    @Test
    void aTrainingCheckpointAllocatesAboutOneTensorNotTheModelAndItsMoments(@TempDir Path tmp) {
        GPTModel m = RandomModels.uniform(SHAPE, 1);
        AdamW opt = new AdamW(m.namedParameters(), AdamW.Options.book());
        long bytes = allocatedBy(() -> Checkpoints.save(tmp, 1, new GptModelStore(m), opt, Map.of("step", 1), () -> { }, 0));
        assertThat(bytes).isLessThan(bound(m));
    }

    @Test
    void aLoRARunsSaveMergesOneWeightAtATimeAndWritesWhatAMergedModelWrites(@TempDir Path tmp) throws Exception {
        GPTModel m = RandomModels.uniform(SHAPE, 2);
        LoRAModel lm = new LoRAModel(m, new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), new Rng(3));
        Rng r = new Rng(9);
        for (var a : lm.lora().layers().values()) {
            for (int i = 0; i < a.blocks(); i++) {
                float[] b = a.b(i).data();
                for (int k = 0; k < b.length; k++) b[k] = (float) (r.nextDouble() - 0.5);
            }
        }
        InstructStore store = new InstructStore(m, lm, null, PromptFormat.ALPACA, tmp.resolve("start"), "--trainable lora");
        Path dir = Files.createDirectories(tmp.resolve("saved"));
        long bytes = allocatedBy(() -> store.save(dir));
        assertThat(bytes).isLessThan(bound(m));

        Path merged = Files.createDirectories(tmp.resolve("merged"));
        lm.lora().merge(m); // the model merged for good: the reference the streaming save must equal
        ModelDirectory.writeInto(m, merged, DType.F32);
        assertThat(Files.readAllBytes(dir.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(merged.resolve(ModelDirectory.WEIGHTS)));
    }

    @Test
    void aClassifiersSaveAllocatesAboutOneTensor(@TempDir Path tmp) {
        GPTModel body = RandomModels.uniform(SHAPE.withTiedHead(true), 4);
        GPTClassifier c = GPTClassifier.withNewHead(body, List.of("no", "yes"), true, TokenRule.LAST, 0, new Rng(5));
        long bytes = allocatedBy(() -> ClassifierStore.save(c, tmp));
        assertThat(bytes).isLessThan(bound(c.transformer()));
    }
}
