package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.PackedMatrix;
import org.junit.jupiter.api.Test;

/** A model switched to 16- or 8-bit weights computes what the float32 one does, within each type's precision. */
class PackedWeightsTest {
    private static final int[] IDS = {5, 17, 3, 250, 99, 0, 42, 7, 255, 128, 11, 12};

    private static float[] logits(GPTModel m) {
        m.eval();
        try (var g = GradMode.noGrad()) {
            return m.forward(IDS, 2, 6).data().clone();
        }
    }

    @Test
    void packedLogitsAreCloseToFloat32() {
        for (boolean tied : new boolean[]{true, false}) {
            // width 48 (untied): Q8_0 takes only ffn_down (rows of 192); the others fall back to F16
            for (int width : new int[]{tied ? 64 : 48}) {
                GPTConfig c = new GPTConfig(300, 16, width, 4, 2, 0f, true, tied, 1e-5f);
                float[] ref = logits(RandomModels.uniform(c, 2));
                float scale = 0;
                for (float v : ref) scale = Math.max(scale, Math.abs(v));
                for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
                    GPTModel m = RandomModels.uniform(c, 2);
                    PackedWeights.pack(m, f);
                    assertThat(m.block(0).children().isEmpty()).isFalse();
                    float[] got = logits(m);
                    if (f == PackedMatrix.Format.F32 || f == PackedMatrix.Format.F32_PANELS) {
                        // used from memory instead of the heap, float32 stays the same bits; panels
                        // too: each output's chain of fused multiply-adds from k = 0 is the GEMM's at
                        // these widths (K <= 256, one KC block), and without SIMD Gemm's scalar twin's
                        assertThat(got).as("%s tied=%s", f, tied).containsExactly(ref);
                        continue;
                    }
                    float err = 0;
                    for (int i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
                    float tol = switch (f) {
                        case F32, F32_PANELS -> 0f;
                        case F16 -> 2e-3f;
                        case BF16, Q8_0 -> 3e-2f;
                        case Q4_0, Q4_1 -> 0.25f; // 16 levels per block
                    };
                    assertThat(err / scale).as("%s tied=%s width=%d", f, tied, width).isLessThan(tol).isGreaterThan(0f);
                    long f32Bytes = 0;
                    for (var p : PackedWeights.packable(m).values()) f32Bytes += 4L * p.size();
                    // (F16/BF16 in panels read their last panel's padding to 48 rows too: on these
                    // matrices of 16 to 300 rows up to 0.62 of float32's bytes)
                    boolean halves = f == PackedMatrix.Format.F16 || f == PackedMatrix.Format.BF16;
                    assertThat(PackedWeights.bytesPerToken(m)).isLessThan(f32Bytes * (halves ? 7 : 6) / 10);
                }
            }
        }
    }

    @Test
    void aPrefillGivesEveryPositionTheSameBitsHoweverThePromptIsCut() {
        // what the server's kept prompt prefixes rest on: positions prefilled earlier (in another
        // request, in other chunks) hold the bits that one pass over the whole prompt gives them
        GPTConfig c = new GPTConfig(300, 128, 64, 4, 2, 0f, true, true, 1e-5f);
        int[] ids = new int[70];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37 + 11) % 300;
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            GPTModel m = RandomModels.uniform(c, 8);
            PackedWeights.pack(m, f);
            m.eval();
            float[] whole = prefilled(m, ids, ids.length);
            for (int cut : new int[]{1, 8, 9, 33, 69}) {
                assertThat(prefilled(m, ids, cut)).as("%s cut at %d", f, cut).containsExactly(whole);
            }
        }
    }

    /** The last position's logits after prefilling {@code ids} in two passes, cut after {@code cut} tokens. */
    private static float[] prefilled(GPTModel m, int[] ids, int cut) {
        KVCache cache = m.newCache(1);
        float[] out = null;
        try (var g = GradMode.noGrad(); var pm = dev.myllm.tensor.ProductMode.use(dev.myllm.tensor.ProductMode.PACKED)) {
            for (int[] part : new int[][]{java.util.Arrays.copyOfRange(ids, 0, cut), java.util.Arrays.copyOfRange(ids, cut, ids.length)}) {
                if (part.length > 0) out = m.forward(part, 1, part.length, cache, true).toArray();
            }
        }
        return out;
    }

    @Test
    void cachedDecodingGivesTheSameTokensAsUncached() {
        GPTConfig c = new GPTConfig(300, 32, 64, 4, 2, 0f, true, true, 1e-5f);
        GPTModel m = RandomModels.uniform(c, 4);
        PackedWeights.pack(m, PackedMatrix.Format.Q8_0);
        Generator gen = new Generator(m, null);
        int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        int[] cached = gen.generate(prompt, GenerationConfig.greedy(12)).tokens();
        int[] plain = gen.generate(prompt, GenerationConfig.greedy(12).withCache(false)).tokens();
        assertThat(cached).containsExactly(plain);
    }

    @Test
    void theLossOfAPackedModelUsesItsPackedHead() {
        // the fused head + loss reads float32 weights: with a packed head the loss must come from the packed logits
        GPTConfig c = new GPTConfig(300, 32, 64, 4, 2, 0f, true, true, 1e-5f);
        GPTModel m = RandomModels.uniform(c, 6);
        PackedWeights.pack(m, PackedMatrix.Format.Q8_0);
        m.eval();
        int[] ids = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
        int[] targets = {1, 4, 1, 5, 9, 2, 6, 5, 3, dev.myllm.tensor.Ops.IGNORE_INDEX};
        try (var g = dev.myllm.tensor.GradMode.noGrad()) {
            float fromLogits = dev.myllm.tensor.Ops.crossEntropy(m.forward(ids, 1, ids.length).reshape(ids.length, 300), targets).item();
            float loss = dev.myllm.train.LanguageModel.of(m).loss(ids, 1, ids.length, targets).item();
            assertThat(loss).isEqualTo(fromLogits);
        }
    }

    @Test
    void droppingTheFloatWeightsChangesNoLogit() {
        GPTConfig c = new GPTConfig(300, 16, 64, 4, 2, 0f, true, false, 1e-5f);
        GPTModel m = RandomModels.uniform(c, 8);
        PackedWeights.pack(m, PackedMatrix.Format.Q8_0);
        long params = m.parameterCount();
        float[] before = logits(m);
        PackedWeights.dropFloatWeights(m);
        assertThat(logits(m)).containsExactly(before);
        assertThat(m.parameterCount()).isEqualTo(params);
        assertThat(m.block(1).mlp().children().values()).isNotEmpty();
        assertThat(m.tokenEmbedding().weight().data()).isEmpty();
        assertThat(m.outputHead().weight().data()).isEmpty();
        assertThat(m.positionEmbedding().weight().data()).hasSize(16 * 64); // not packed: kept
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.outputHead().usePacked(null)).hasMessageContaining("dropped");
    }

    @Test
    void theBandwidthProbeReadsTheWeightsOneDecodedTokenReads() {
        for (boolean tied : new boolean[]{true, false}) {
            GPTConfig c = new GPTConfig(300, 16, 64, 4, 2, 0f, true, tied, 1e-5f);
            GPTModel plain = RandomModels.uniform(c, 4);
            assertThat(PackedWeights.readProbe(plain).bytes()).as("float32, tied=%s", tied).isEqualTo(PackedWeights.bytesPerToken(plain));
            for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
                GPTModel m = RandomModels.uniform(c, 4);
                PackedWeights.packAndDrop(m, f, bytes -> { });
                float[] before = logits(m);
                var probe = PackedWeights.readProbe(m);
                assertThat(probe.bytes()).as("%s tied=%s", f, tied).isEqualTo(PackedWeights.bytesPerToken(m));
                assertThat(probe.gbps()).isPositive().isFinite();
                assertThat(logits(m)).as("read only").containsExactly(before);
            }
        }
    }
}
