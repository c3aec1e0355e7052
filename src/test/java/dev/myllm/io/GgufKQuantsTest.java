package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tokenizer.BpeVocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

/**
 * The types {@code llama-quantize} writes that we only read (Q5_0, Q5_1, IQ4_NL, Q2_K to Q6_K), against
 * {@code tools/gguf_fixture.py}: its reference dequantisation of random blocks (every bit of the packed
 * scales, scales of both signs), of all-zero blocks and of awkward values quantised as ggml's reference
 * quantisers do, bit for bit; and tiny GPT-2 files of llama-quantize-like mixtures against float64 logits.
 */
class GgufKQuantsTest {
    private static final Set<GgufType> NOT_RUN = Set.of(GgufType.Q5_0, GgufType.Q5_1, GgufType.IQ4_NL, GgufType.Q2_K,
            GgufType.Q3_K, GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K);

    @TempDir
    Path dir;

    private static float[] floats(GgufFile g, GgufFile.Info t) {
        float[] out = new float[(int) t.count()];
        g.dequantize(t, out, 0);
        return out;
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    @Test
    void everyBlockTypeDequantizesBitForBitAsTheReference() {
        Set<String> seen = new TreeSet<>();
        try (GgufFile g = GgufFile.open(GgufModelTest.fixture("kquants.gguf"))) {
            for (GgufFile.Info t : g.tensors().values()) {
                if (t.type() == GgufType.F32) continue; // the expected values and the quantised sources
                GgufFile.Info want = g.tensors().get(t.name() + ".want");
                assertThat(want).as(t.name()).isNotNull();
                float[] got = floats(g, t);
                assertThat(bits(got)).as(t.name()).containsExactly(bits(floats(g, want)));
                // rows one at a time (as a matrix is converted for running) give the same values
                int cols = (int) t.ne()[0], rows = (int) t.ne()[1];
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    g.dequantizeRows(t, r, 1, row, 0);
                    assertThat(bits(row)).as("%s row %d", t.name(), r).containsExactly(Arrays.copyOfRange(bits(got), r * cols, (r + 1) * cols));
                }
                seen.add(t.type() + "." + t.name().substring(t.name().indexOf('.') + 1));
            }
        }
        for (GgufType t : NOT_RUN) {
            assertThat(seen).as(t.name()).contains(t + ".random", t + ".zero");
            if (t != GgufType.IQ4_NL) assertThat(seen).contains(t + ".quant");
        }
    }

    @Test
    void typesTheKernelsDoNotRunRunAsQ8ByDefault() {
        for (GgufType t : GgufType.values()) {
            assertThat(t.runType()).as(t.name()).isEqualTo(NOT_RUN.contains(t) ? GgufType.Q8_0 : t);
        }
        assertThat(ModelFiles.storedType(GgufModelTest.fixture("tiny256-q4_k_m.gguf"))).isEqualTo("q8_0");
    }

    private static float[] logits(GPTModel m, int[] ids) {
        m.eval();
        try (var ignored = GradMode.noGrad()) {
            return m.forward(ids, 1, ids.length).data().clone();
        }
    }

    @Test
    void mixedKQuantModelsGiveTheReferenceLogits() {
        int[] ids = Npy.readInts(GgufModelTest.fixture("tiny-ids.npy"));
        for (String name : new String[]{"q4_k_m", "q3_k_m"}) {
            Path f = GgufModelTest.fixture("tiny256-" + name + ".gguf");
            float[] want = Npy.read(GgufModelTest.fixture("tiny256-" + name + "-logits.npy")).data();
            GPTConfig c = ModelDirectory.readConfig(f);
            assertThat(c.embDim()).isEqualTo(256);
            // float32, as training and fine-tuning load it: the file's values exactly
            float[] got = logits(ModelDirectory.load(f, c), ids);
            assertThat(got).hasSameSizeAs(want);
            for (int i = 0; i < want.length; i++) assertThat(got[i]).as("%s logit %d", name, i).isCloseTo(want[i], within(1e-3f));
            // for inference: converted once to Q8_0, never a float32 matrix
            GPTModel packed = GgufModel.loadPacked(f, c, PackedMatrix.Format.Q8_0);
            assertThat(packed.tokenEmbedding().packed().format()).isEqualTo(PackedMatrix.Format.Q8_0);
            float[] q8 = logits(packed, ids);
            float scale = 0;
            for (float w : want) scale = Math.max(scale, Math.abs(w));
            for (int i = 0; i < want.length; i++) assertThat(q8[i]).as("%s as q8_0 logit %d", name, i).isCloseTo(want[i], within(2e-2f * scale));
        }
    }

    @Test
    void byDefaultAMatrixOfATypeTheKernelsDoNotRunIsNotBroughtBelowQ8() {
        // llama-quantize's Q4_0 and Q4_1 files keep the token embedding (the tied head) in Q6_K: run as the file's
        // Q4_1 it was quantised a second time, and the demo model's greedy tokens left llama.cpp's after 3
        Path k = GgufModelTest.fixture("tiny256-q4_k_m.gguf");
        GPTConfig c = ModelDirectory.readConfig(k);
        GPTModel own = GgufModel.loadPacked(k, c, PackedMatrix.Format.Q4_1, PackedMatrix.Halves.MAPPED, true);
        assertThat(own.tokenEmbedding().packed().format()).isEqualTo(PackedMatrix.Format.Q8_0);
        GPTModel asked = GgufModel.loadPacked(k, c, PackedMatrix.Format.Q4_1, PackedMatrix.Halves.MAPPED, false); // --dtype q4_1
        assertThat(asked.tokenEmbedding().packed().format()).isEqualTo(PackedMatrix.Format.Q4_1);
        // a type the kernels run stays the file's
        Path q41 = GgufModelTest.fixture("tiny-q4_1.gguf");
        GPTModel plain = GgufModel.loadPacked(q41, ModelDirectory.readConfig(q41), PackedMatrix.Format.Q4_1, PackedMatrix.Halves.MAPPED, true);
        assertThat(plain.tokenEmbedding().packed().format()).isEqualTo(PackedMatrix.Format.Q4_1);
        assertThat(GgufModel.runsAs("q4_1", Set.of(GgufType.Q4_1, GgufType.Q6_K))).isEqualTo("q4_1 (its Q6_K matrices as q8_0)");
        assertThat(GgufModel.runsAs("q8_0", Set.of(GgufType.Q4_K, GgufType.Q6_K))).isEqualTo("q8_0");
        assertThat(GgufModel.runsAs("q4_0", Set.of(GgufType.Q4_0))).isEqualTo("q4_0");
    }

    @Test
    void truncatedOrMisshapenKQuantTensorsAreOneLineErrorsNamingTheTensor() throws IOException {
        Path src = GgufModelTest.fixture("tiny256-q4_k_m.gguf");
        byte[] full = Files.readAllBytes(src);
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(full, full.length - 3 * 1024 - 100)); // inside ffn_down.weight, before three norms and biases of 256 floats
        Throwable t = catchThrowable(() -> ModelDirectory.load(cut, ModelDirectory.readConfig(cut)));
        assertThat(t).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.getMessage()).startsWith(cut + ": tensor 'blk.0.ffn_down.weight' (").contains("runs past the end of the file").doesNotContain("\n");
        // a Q4_K matrix whose rows are not whole super-blocks: the row length says 128 instead of 256
        byte[] b = full.clone();
        int at = indexOf(b, "blk.0.attn_output.weight".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        int ne0 = at + "blk.0.attn_output.weight".length() + 4; // after the name: u32 n_dims, then u64 ne[0]
        assertThat(b[ne0] & 0xFF | (b[ne0 + 1] & 0xFF) << 8).isEqualTo(256);
        b[ne0] = (byte) 128;
        b[ne0 + 1] = 0;
        Path odd = dir.resolve("odd.gguf");
        Files.write(odd, b);
        Throwable u = catchThrowable(() -> ModelDirectory.readConfig(odd));
        assertThat(u).isInstanceOf(IllegalArgumentException.class);
        assertThat(u.getMessage()).isEqualTo(odd + ": tensor 'blk.0.attn_output.weight' has rows of 128, not a multiple of Q4_K's block of 256");
    }

    @Test
    void q4KQ5KQ6KQ5_0AndQ5_1AreQuantisedByteForByteAsTheReference() {
        // the awkward values (zeros, all negative, an outlier, a constant, tiny, normal) as the Python reference quantised them
        try (GgufFile g = GgufFile.open(GgufModelTest.fixture("kquants.gguf"))) {
            for (GgufType t : new GgufType[]{GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K, GgufType.Q5_0, GgufType.Q5_1}) {
                float[] src = floats(g, g.tensors().get(t + ".quant.src"));
                GgufFile.Info want = g.tensors().get(t + ".quant");
                java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate((int) want.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                t.quantize(src, 0, src.length, out);
                assertThat(out.position()).isEqualTo(out.capacity());
                assertThat(out.array()).as(t.name()).containsExactly(g.bytes(want).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void exportedQ4KAndQ6KFilesReadBackWithinTheirStep() {
        // width 256: every matrix whole super-blocks; width 192: rows of 192 fall back as llama-quantize does (Q5_0, Q8_0)
        for (int width : new int[]{256, 192}) {
            GPTConfig c = new GPTConfig(300, 16, width, 4, 1, 0f, true, true, 1e-5f);
            GPTModel m = dev.myllm.model.RandomModels.uniform(c, 5);
            BpeVocab v = BpeVocab.of(new dev.myllm.tokenizer.TrainedBpe(java.util.List.of("<|endoftext|>"), new int[][]{{'h', 'e'}}), 300);
            for (GgufType t : new GgufType[]{GgufType.Q4_K, GgufType.Q6_K}) {
                Path f = dir.resolve(t + "-" + width + ".gguf");
                GgufModel.save(m, v, "k", f, t);
                try (GgufFile g = GgufFile.open(f)) {
                    GgufType want = width == 256 ? t : t == GgufType.Q4_K ? GgufType.Q5_0 : GgufType.Q8_0;
                    assertThat(g.tensors().get("blk.0.ffn_up.weight").type()).as("%s %d", t, width).isEqualTo(want);
                    assertThat(g.tensors().get("blk.0.ffn_down.weight").type()).isEqualTo(t); // rows of 4·width: whole super-blocks
                    assertThat(g.tensors().get("position_embd.weight").type()).isEqualTo(GgufType.F32);
                    assertThat(g.unsigned("general.file_type", GgufFile.U32)).isEqualTo(t == GgufType.Q4_K ? 15 : 18);
                }
                GPTModel back = GgufModel.load(f);
                var orig = m.namedParameters();
                back.namedParameters().forEach((name, p) -> {
                    float[] a = orig.get(name).data(), b = p.data();
                    float amax = 0, err = 0;
                    for (int i = 0; i < a.length; i++) {
                        amax = Math.max(amax, Math.abs(a[i]));
                        err = Math.max(err, Math.abs(a[i] - b[i]));
                    }
                    // within a step: a range of 2·amax in 15 steps (Q4_K, Q5_0 in 31), or amax in 32 (Q6_K, Q8_0 in 127); the
                    // reference fits the levels to least squares, not to the largest error, and the scales have bits of their own
                    assertThat(err).as("%s %d %s", t, width, name).isLessThanOrEqualTo(amax * (t == GgufType.Q4_K ? 2f / 15 : 1f / 32));
                });
            }
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
