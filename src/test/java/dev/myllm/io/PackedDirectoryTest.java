package dev.myllm.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories and GGUF files opened for inference straight into packed (or mapped float32) weights. */
class PackedDirectoryTest {
    @TempDir
    Path dir;

    private static final int[] IDS = {5, 17, 250, 3, 99, 42, 7, 300, 1, 64, 128};

    private static GPTModel random(GPTConfig c, long seed) {
        GPTModel m = new GPTModel(c, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Tensor p : m.namedParameters().values()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextDouble() - 0.5) * 0.4f;
        }
        return m;
    }

    private static float[] logits(GPTModel m) {
        m.eval();
        try (GradMode g = GradMode.noGrad()) {
            return m.forward(IDS, 1, IDS.length).data().clone();
        }
    }

    private static int[] greedy(GPTModel m) {
        return new Generator(m, null).generate(new int[]{1, 2, 3}, GenerationConfig.greedy(8)).tokens();
    }

    @Test
    void float32IsUsedFromTheFileWithTheSameBits() {
        for (boolean tied : new boolean[]{true, false}) {
            GPTConfig c = new GPTConfig(400, 24, 64, 4, 2, 0f, true, tied, 1e-5f);
            Path d = dir.resolve("m" + tied);
            ModelDirectory.save(random(c, 3), d);
            GPTModel heap = ModelDirectory.load(d);
            GPTModel mapped = PackedDirectory.load(d, c, PackedMatrix.Format.F32);
            PackedWeights.dropFloatWeights(mapped);
            assertThat(mapped.tokenEmbedding().packed().format()).isEqualTo(PackedMatrix.Format.F32);
            assertThat(mapped.block(1).mlp().children().values()).isNotEmpty();
            assertThat(logits(mapped)).as("tied=%s", tied).containsExactly(logits(heap));
            assertThat(greedy(mapped)).containsExactly(greedy(heap));
            // a shorter context uses the first positions, as the float32 loader does
            GPTConfig shortCtx = c.withContextLength(12);
            assertThat(logits(PackedDirectory.load(d, shortCtx, PackedMatrix.Format.F32))).containsExactly(logits(ModelDirectory.load(d, shortCtx)));
        }
    }

    @Test
    void everyTypeIsWhatPackingTheFloatModelGives() {
        GPTConfig c = new GPTConfig(400, 24, 64, 4, 2, 0f, true, false, 1e-5f);
        for (DType stored : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            Path d = dir.resolve(stored.name());
            ModelDirectory.save(random(c, 5), d, stored);
            for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
                GPTModel want = ModelDirectory.load(d);
                if (f != PackedMatrix.Format.F32) PackedWeights.pack(want, f);
                for (PackedMatrix.Halves halves : PackedMatrix.Halves.values()) {
                    GPTModel got = PackedDirectory.load(d, c, f, halves);
                    assertThat(logits(got)).as("%s stored, %s, %s", stored, f, halves).containsExactly(logits(want));
                }
            }
        }
    }

    @Test
    void openingCostsNoHeapForTheWeights() {
        // 13.4 M parameters, 54 MB in float32
        GPTConfig c = new GPTConfig(8192, 64, 384, 4, 4, 0f, true, false, 1e-5f);
        Path d = dir.resolve("big");
        ModelDirectory.save(random(c, 7), d);
        Path gguf = dir.resolve("big.gguf");
        GgufModel.save(ModelDirectory.load(d), dev.myllm.tokenizer.BpeVocab.of(new dev.myllm.tokenizer.TrainedBpe(java.util.List.of("<|endoftext|>"), new int[][]{{'h', 'e'}}), c.vocabSize()), "big", gguf, GgufType.F32);
        long weights = 4L * c.parameterCount();
        for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F32, PackedMatrix.Format.F32_PANELS, PackedMatrix.Format.Q8_0}) {
            for (boolean fromGguf : new boolean[]{false, true}) {
                String what = f + (fromGguf ? " from GGUF" : " from safetensors");
                // once before measuring: loading classes and compiling leave garbage of their own
                if (fromGguf) GgufModel.loadPacked(gguf, c, f);
                else PackedDirectory.load(d, c, f);
                long before = usedHeapAfterGc();
                // on one thread, so that what this thread allocates is all the load allocates
                int threads = Parallel.threads();
                long allocated;
                GPTModel m;
                Parallel.setThreads(1);
                try {
                    long a0 = ALLOCATED.getCurrentThreadAllocatedBytes();
                    m = fromGguf ? GgufModel.loadPacked(gguf, c, f) : PackedDirectory.load(d, c, f);
                    allocated = ALLOCATED.getCurrentThreadAllocatedBytes() - a0;
                    if (fromGguf) allocated -= headerBytes(gguf);
                } finally {
                    Parallel.setThreads(threads);
                }
                PackedWeights.dropFloatWeights(m);
                long after = usedHeapAfterGc() - before;
                // what stays on the heap: position table, biases, LayerNorms (0.2 MB), not the matrices
                // (a float32 model keeps all 54 MB; GGUF in place also keeps its parsed header while mapped);
                // Q8_0 keeps its repacked matrices in Java arrays (36 bytes a block of 32: the kernels run
                // faster from arrays), never a float32 copy
                // (F32_PANELS, float32 decoding's default, keeps the weights once, in panels)
                long packed = f == PackedMatrix.Format.Q8_0 ? c.parameterCount() * 36L / 32 : f == PackedMatrix.Format.F32_PANELS ? weights : 0;
                assertThat(after).as(what + ": heap kept").isLessThan(packed + weights / 10);
                // while loading: buffers of a few rows, never a float32 copy of a model or a whole matrix
                // (GGUF in another type than the file's used to widen each matrix whole: the token table
                // alone was 154 MB of garbage for gpt2-small; what parsing GGUF's header of 8192 tokens
                // allocates alone is not counted: its small objects grow with the JVM's alignment)
                assertThat(allocated).as(what + ": heap allocated").isLessThan(packed + weights / 4);
                assertThat(greedy(m)).hasSize(8);
                java.lang.ref.Reference.reachabilityFence(m);
            }
        }
    }

    /** What opening a GGUF file (its header and token table) allocates on this thread. */
    private static long headerBytes(Path gguf) {
        long a0 = ALLOCATED.getCurrentThreadAllocatedBytes();
        try (GgufFile g = GgufFile.open(gguf)) {
            return ALLOCATED.getCurrentThreadAllocatedBytes() - a0;
        }
    }

    private static final com.sun.management.ThreadMXBean ALLOCATED = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** The heap in use after a collection, the least of three readings (one may catch garbage made meanwhile, by surefire or the JIT). */
    private static long usedHeapAfterGc() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }

}
