package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TrainedBpe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * GGUF files as llama.cpp reads them for GPT-2 (the key types, tensor names, types and offsets),
 * round trips through export and import, and fixtures written by an independent Python script
 * ({@code tools/gguf_fixture.py}) with float64 reference logits.
 */
class GgufModelTest {
    private static final int[] IDS = {5, 17, 3, 250, 99, 0, 42, 7, 255, 128};

    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(GgufModelTest.class.getResource("/gguf/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A small model with all parameters random; widths 64 (Q8_0-able) and an untied head when asked. */
    private static GPTModel model(int width, boolean tied) {
        GPTConfig c = new GPTConfig(300, 24, width, 4, 2, 0f, true, tied, 1e-5f);
        return RandomModels.uniform(c, 11);
    }

    private static BpeVocab bytesVocab(int rows) {
        // a byte-level vocabulary of 256 bytes, a few merges, <|endoftext|>
        TrainedBpe t = new TrainedBpe(List.of("<|endoftext|>"), new int[][]{{TrainedBpe.SPACE, 't'}, {'h', 'e'}, {258, 259}});
        return BpeVocab.of(t, rows);
    }

    private static float[] logits(GPTModel m, int[] ids) {
        m.eval();
        try (var ignored = GradMode.noGrad()) {
            return m.forward(ids, 1, ids.length).data().clone();
        }
    }

    private static float maxAbs(float[] a) {
        float m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    @Test
    void f32RoundTripGivesIdenticalLogits() {
        for (boolean tied : new boolean[]{true, false}) {
            GPTModel m = model(64, tied);
            Path f = dir.resolve("m" + tied + ".gguf");
            GgufModel.save(m, bytesVocab(300), "test", f, GgufType.F32);
            GPTModel back = ModelDirectory.load(f, ModelDirectory.readConfig(f));
            assertThat(back.config()).isEqualTo(m.config()); // dropout 0 (the file stores none), not a made-up 0.1
            assertThat(logits(back, IDS)).containsExactly(logits(m, IDS));
        }
    }

    @Test
    void reducedTypesRoundTripWithinTheirTolerance() {
        GPTModel m = model(64, false);
        float[] ref = logits(m, IDS);
        float scale = maxAbs(ref);
        Map<GgufType, Float> tol = Map.of(GgufType.F16, 2e-3f, GgufType.BF16, 2e-2f, GgufType.Q8_0, 3e-2f);
        for (var e : tol.entrySet()) {
            Path f = dir.resolve(e.getKey() + ".gguf");
            GgufModel.save(m, bytesVocab(300), "test", f, e.getKey());
            float[] got = logits(ModelDirectory.load(f, ModelDirectory.readConfig(f)), IDS);
            float err = 0;
            for (int i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
            assertThat(err / scale).as("%s relative error", e.getKey()).isLessThan(e.getValue()).isGreaterThan(0f);
        }
    }

    @Test
    void fileFollowsTheSpecLlamaCppChecks() {
        GPTModel m = model(48, false); // 48: not a multiple of 32, so Q8_0 falls back to F16 on those matrices
        Path f = dir.resolve("spec.gguf");
        GgufModel.save(m, bytesVocab(300), "spec", f, GgufType.Q8_0);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.version()).isEqualTo(3);
            Map<String, Integer> types = Map.ofEntries(Map.entry("general.architecture", GgufFile.STRING),
                    Map.entry("general.file_type", GgufFile.U32), Map.entry("gpt2.context_length", GgufFile.U32),
                    Map.entry("gpt2.embedding_length", GgufFile.U32), Map.entry("gpt2.feed_forward_length", GgufFile.U32),
                    Map.entry("gpt2.block_count", GgufFile.U32), Map.entry("gpt2.attention.head_count", GgufFile.U32),
                    Map.entry("gpt2.attention.layer_norm_epsilon", GgufFile.F32), Map.entry("tokenizer.ggml.model", GgufFile.STRING),
                    Map.entry("tokenizer.ggml.pre", GgufFile.STRING), Map.entry("tokenizer.ggml.bos_token_id", GgufFile.U32),
                    Map.entry("tokenizer.ggml.eos_token_id", GgufFile.U32), Map.entry("tokenizer.ggml.add_bos_token", GgufFile.BOOL));
            types.forEach((k, t) -> assertThat(g.get(k)).as(k).isNotNull().extracting(GgufFile.Value::type).isEqualTo(t));
            assertThat(g.string("general.architecture")).isEqualTo("gpt2");
            assertThat(g.string("tokenizer.ggml.pre")).isEqualTo("gpt-2");
            assertThat(g.unsigned("general.file_type", GgufFile.U32)).isEqualTo(7);
            assertThat(g.unsigned("gpt2.context_length", GgufFile.U32)).isEqualTo(24);
            assertThat(g.unsigned("gpt2.feed_forward_length", GgufFile.U32)).isEqualTo(4 * 48);
            assertThat(g.array("tokenizer.ggml.tokens", GgufFile.STRING)).hasSize(300);
            assertThat(g.array("tokenizer.ggml.token_type", GgufFile.I32)).hasSize(300);
            assertThat(g.tensors()).hasSize(2 + 2 * 12 + 2 + 1).containsKey("output.weight");
            // GGUF's default alignment, 32, with no key for it (llama-quantize lays its output out at 32 whatever the key says)
            assertThat(g.get("general.alignment")).isNull();
            long expect = 0;
            for (GgufFile.Info t : g.tensors().values()) {
                assertThat(t.offset()).as("offset of %s", t.name()).isEqualTo(expect);
                assertThat(g.bytes(t).address() % 32).as("address of %s", t.name()).isZero();
                expect += (t.bytes() + 31) / 32 * 32;
                if (t.ne().length == 1 || t.name().equals("position_embd.weight")) assertThat(t.type()).as(t.name()).isEqualTo(GgufType.F32);
                else if (t.ne()[0] % 32 == 0) assertThat(t.type()).as(t.name()).isEqualTo(GgufType.Q8_0);
                else assertThat(t.type()).as(t.name()).isEqualTo(GgufType.F16);
            }
            // ffn_down rows are 4·48 = 192 = 6 blocks: Q8_0; the others' rows are 48: F16
            assertThat(g.tensors().get("blk.0.ffn_down.weight").type()).isEqualTo(GgufType.Q8_0);
            assertThat(g.tensors().get("blk.0.attn_qkv.weight").ne()).containsExactly(48, 144);
            assertThat(g.tensors().get("token_embd.weight").ne()).containsExactly(48, 300);
        }
        GgufModel.save(model(48, true), bytesVocab(300), "tied", dir.resolve("tied.gguf"), GgufType.F16);
        try (GgufFile g = GgufFile.open(dir.resolve("tied.gguf"))) {
            assertThat(g.tensors()).doesNotContainKey("output.weight");
            assertThat(g.unsigned("general.file_type", GgufFile.U32)).isEqualTo(1);
        }
    }

    @Test
    void gpt2VocabularyExportsItsFiftyThousandMergesAndEncodesAlike() {
        BpeTokenizer gpt2 = BpeTokenizer.gpt2();
        BpeVocab v = BpeVocab.of(gpt2, 50304);
        assertThat(v.tokens()).hasSize(50304);
        assertThat(v.merges()).hasSize(50000);
        assertThat(v.merges().get(0)).isEqualTo("Ġ t"); // the first line of vocab.bpe
        assertThat(v.merges().get(49999)).isEqualTo("Ġg azed");
        assertThat(v.tokens().get(50256)).isEqualTo("<|endoftext|>");
        assertThat(v.types()[50256]).isEqualTo(BpeVocab.CONTROL);
        assertThat(v.types()[300]).isEqualTo(BpeVocab.NORMAL);
        assertThat(v.types()[50300]).isEqualTo(BpeVocab.UNUSED);
        assertThat(v.eot()).isEqualTo(50256);
        assertThat(new HashSet<>(v.tokens())).hasSize(50304);
        BpeTokenizer back = v.toTokenizer("back");
        String text = "It's  a test:\tCJK 中文, emoji 👩‍👩‍👧 123,456 can't\r\n  NBSP\u00a0x Ｆｕｌｌ<|endoftext|>";
        assertThat(back.encode(text, Specials.ALLOW)).containsExactly(gpt2.encode(text, Specials.ALLOW));
    }

    @Test
    void trainedVocabularyExportsWithUniqueTexts() {
        TrainedBpe t = new TrainedBpe(List.of("<|endoftext|>"), new int[][]{{TrainedBpe.SPACE, 't'}, {'h', 'e'}, {258, 259}, {'a', 'b'}});
        BpeVocab v = BpeVocab.of(t, t.vocabSize());
        assertThat(new HashSet<>(v.tokens())).hasSize(v.tokens().size());
        assertThat(v.tokens().get(' ')).startsWith("[UNUSED");
        assertThat(v.tokens().get(TrainedBpe.SPACE)).isEqualTo("Ġ");
        assertThat(v.tokens().get(257)).isEqualTo("<|endoftext|>");
        assertThat(v.types()[257]).isEqualTo(BpeVocab.CONTROL);
        assertThat(v.merges()).containsExactly("Ġ t", "h e", "Ġt he", "a b");
        Tokenizer back = v.toTokenizer("back");
        String text = "the theab the";
        assertThat(back.decode(back.encode(text, Specials.ALLOW))).isEqualTo(text);
        assertThat(back.encode(" the", Specials.ALLOW)).containsExactly(260);
    }

    @Test
    void otherTokenizersAreRefusedWithAReason() {
        Tokenizer simple = dev.myllm.tokenizer.Tokenizers.load("simple");
        assertThatThrownBy(() -> BpeVocab.of(simple, 5000)).hasMessageContaining("not byte-level BPE");
        assertThatThrownBy(() -> BpeVocab.of(BpeTokenizer.gpt2(), 300)).hasMessageContaining("50257 ids but the model has 300");
    }

    @Test
    void pythonFixturesLoadWithTheirReferenceLogits() {
        int[] ids = Npy.readInts(fixture("tiny-ids.npy"));
        Map<String, Float> tol = Map.of("f32", 1e-4f, "f16", 1e-4f, "bf16", 1e-4f, "q8_0", 1e-4f, "q4_0", 1e-4f, "q4_1", 1e-4f,
                "llmc-v3", 1e-4f, "llmc-v5", 1e-4f);
        for (var e : tol.entrySet()) {
            String ext = e.getKey().startsWith("llmc") ? ".bin" : ".gguf";
            Path f = fixture("tiny-" + e.getKey() + ext);
            GPTModel m = ModelDirectory.load(f, ModelDirectory.readConfig(f));
            assertThat(m.config().vocabSize()).isEqualTo(261);
            assertThat(m.config().embDim()).isEqualTo(32);
            float[] want = Npy.read(fixture("tiny-" + e.getKey() + "-logits.npy")).data();
            float[] got = logits(m, ids);
            assertThat(got).hasSameSizeAs(want);
            for (int i = 0; i < want.length; i++) assertThat(got[i]).as("%s logit %d of %d", e.getKey(), i, want.length).isCloseTo(want[i], within(e.getValue() * 10));
        }
        // the embedded tokenizer: byte-level with four merges and <|endoftext|> = 260
        Tokenizer tok = ModelFiles.tokenizer(fixture("tiny-f32.gguf"));
        assertThat(tok.encode("Hello the world<|endoftext|>", Specials.ALLOW))
                .containsExactly(72, 101, 108, 108, 111, 258, 32, 119, 111, 114, 108, 100, 260);
        assertThat(tok.eotId()).isEqualTo(260);
    }

    @Test
    void packedLoadsComputeTheReferenceLogitsWithoutFloatMatrices() {
        int[] ids = Npy.readInts(fixture("tiny-ids.npy"));
        for (String t : new String[]{"f16", "bf16", "q8_0", "q4_0", "q4_1"}) {
            Path f = fixture("tiny-" + t + ".gguf");
            dev.myllm.tensor.PackedMatrix.Format fmt = dev.myllm.tensor.PackedMatrix.Format.valueOf(t.toUpperCase());
            GPTModel m = GgufModel.loadPacked(f, ModelDirectory.readConfig(f), fmt);
            // the matrices are the file's type, computed from directly, and were never float32
            assertThat(m.tokenEmbedding().packed().format()).as(t).isEqualTo(fmt);
            var qkv = (dev.myllm.nn.Linear) m.block(1).children().get("attn").children().get("c_attn");
            assertThat(qkv.packed().format()).as(t).isEqualTo(fmt);
            assertThat(qkv.weight().data()).as(t).isEmpty();
            assertThat(m.positionEmbedding().weight().data()).as(t).hasSize(32 * 32);
            float[] want = Npy.read(fixture("tiny-" + t + "-logits.npy")).data();
            float[] got = logits(m, ids);
            for (int i = 0; i < want.length; i++) assertThat(got[i]).as("%s logit %d", t, i).isCloseTo(want[i], within(1e-3f));
            // F16/BF16 copied into panels instead of read where mapped: the same weights, summed in
            // another order (one chain per output against the rows' dot products), so the same
            // logits to float precision; block types are repacked either way, the same bits
            GPTModel copied = GgufModel.loadPacked(f, ModelDirectory.readConfig(f), fmt, dev.myllm.tensor.PackedMatrix.Halves.COPIED);
            float[] copiedLogits = logits(copied, ids);
            if (fmt == dev.myllm.tensor.PackedMatrix.Format.F16 || fmt == dev.myllm.tensor.PackedMatrix.Format.BF16) {
                for (int i = 0; i < want.length; i++) assertThat(copiedLogits[i]).as("%s copied logit %d", t, i).isCloseTo(got[i], within(1e-4f));
            } else {
                assertThat(copiedLogits).as(t).containsExactly(got);
            }
        }
        // another type than stored: widened and re-encoded matrix by matrix (F16 rounds the Q4_0 values a little)
        Path f = fixture("tiny-q4_0.gguf");
        GPTModel m = GgufModel.loadPacked(f, ModelDirectory.readConfig(f), dev.myllm.tensor.PackedMatrix.Format.F16);
        float[] want = Npy.read(fixture("tiny-q4_0-logits.npy")).data();
        float[] got = logits(m, ids);
        for (int i = 0; i < want.length; i++) assertThat(got[i]).as("q4_0 as f16 logit %d", i).isCloseTo(want[i], within(2e-2f * maxAbs(want)));
    }

    @Test
    void ourQuantisationIsByteForByteTheReferenceOne() throws Exception {
        // the Python fixture's F32 weights, written again by us as each type, must give the Python file's bytes
        Path src = fixture("tiny-f32.gguf");
        GPTModel m = ModelDirectory.load(src, ModelDirectory.readConfig(src));
        BpeVocab v = BpeVocab.of(ModelFiles.tokenizer(src), 261);
        for (String t : new String[]{"f16", "bf16", "q8_0", "q4_0", "q4_1"}) {
            Path ours = dir.resolve(t + ".gguf");
            GgufModel.save(m, v, "x", ours, GgufType.valueOf(t.toUpperCase()));
            try (GgufFile a = GgufFile.open(ours); GgufFile b = GgufFile.open(fixture("tiny-" + t + ".gguf"))) {
                for (GgufFile.Info ti : b.tensors().values()) {
                    GgufFile.Info mine = a.tensors().get(ti.name());
                    assertThat(mine.type()).as(ti.name()).isEqualTo(ti.type());
                    assertThat(a.bytes(mine).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                            .as("%s %s", t, ti.name()).containsExactly(b.bytes(ti).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
        }
        assertThat(Files.size(dir.resolve("q8_0.gguf"))).isLessThan(Files.size(src) / 2);
    }

    @Test
    void mismatchedConfigurationsAreOneLineErrors() {
        Path f = fixture("tiny-f32.gguf");
        GPTConfig own = ModelDirectory.readConfig(f);
        assertThatThrownBy(() -> ModelDirectory.load(f, own.withContextLength(64))).hasMessageContaining("fewer than the context length 64");
        assertThatThrownBy(() -> ModelDirectory.load(f, own.withTiedHead(false))).hasMessageContaining("not the configuration asked for");
        GPTModel shorter = ModelDirectory.load(f, own.withContextLength(8));
        assertThat(shorter.config().contextLength()).isEqualTo(8);
        Tensor wpe = shorter.positionEmbedding().weight();
        assertThat(wpe.shape()).containsExactly(8, 32);
    }
}
