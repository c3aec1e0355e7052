package dev.myllm.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Saving and loading Hugging Face GPT-2 model directories: layout, round trips, save_pretrained's names. */
class ModelDirectoryTest {
    static final GPTConfig TINY = new GPTConfig(67, 16, 32, 4, 2, 0f, true, true, 1e-5f);
    static final int[] IDS = {5, 17, 3, 66, 0, 42, 9, 12};

    @TempDir
    Path tmp;

    /** A model whose every parameter (biases and LayerNorm too) is random, so no mix-up can hide. */
    static GPTModel randomModel(GPTConfig c, long seed) {
        return RandomModels.uniform(c, seed);
    }

    static float[] logits(GPTModel m) {
        m.eval();
        try (var g = GradMode.noGrad()) {
            return m.forward(IDS, 2, 4).toArray();
        }
    }

    @Test
    void roundTripGivesIdenticalLogitsAndIdenticalBytes() throws IOException {
        for (GPTConfig c : List.of(TINY, TINY.withQkvBias(false).withTiedHead(false))) {
            GPTModel m = randomModel(c, 3);
            Path a = tmp.resolve("a" + c.qkvBias()), b = tmp.resolve("b" + c.qkvBias());
            ModelDirectory.save(m, a);
            GPTModel back = ModelDirectory.load(a);
            assertThat(back.config()).isEqualTo(c);
            assertThat(logits(back)).containsExactly(logits(m));
            ModelDirectory.save(back, b);
            for (String f : List.of(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS)) {
                assertThat(Files.readAllBytes(b.resolve(f))).as(f).isEqualTo(Files.readAllBytes(a.resolve(f)));
            }
            assertThat(ModelDirectory.check(a)).isEqualTo(c);
        }
    }

    @Test
    void writesHuggingFaceNamesLayoutsAndConfigKeys() throws IOException {
        GPTModel m = randomModel(TINY, 4);
        Path d = tmp.resolve("m");
        ModelDirectory.save(m, d);
        try (Safetensors st = Safetensors.open(d.resolve(ModelDirectory.WEIGHTS))) {
            assertThat(st.metadata()).containsExactly(Map.entry("format", "pt"));
            assertThat(st.names()).hasSize(2 + 2 * 12 + 2).contains("wte.weight", "wpe.weight", "ln_f.bias", "h.1.mlp.c_proj.bias")
                    .doesNotContain("lm_head.weight").isSorted();
            assertThat(st.info("h.0.attn.c_attn.weight").shape()).containsExactly(32, 96);
            assertThat(st.info("h.1.mlp.c_fc.weight").shape()).containsExactly(32, 128);
            assertThat(st.info("h.1.mlp.c_proj.weight").shape()).containsExactly(128, 32);
            // stored [in, out]: element (i, o) of the file is our weight's (o, i)
            Tensor ours = m.namedParameters().get("h.0.attn.c_attn.weight");
            Tensor file = st.load("h.0.attn.c_attn.weight");
            assertThat(file.get(5, 70)).isEqualTo(ours.get(70, 5));
            assertThat(st.load("wte.weight").data()).containsExactly(m.namedParameters().get("wte.weight").data());
        }
        JsonNode cfg = new ObjectMapper().readTree(d.resolve(ModelDirectory.CONFIG).toFile());
        assertThat(cfg.get("model_type").asText()).isEqualTo("gpt2");
        assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("GPT2LMHeadModel");
        assertThat(cfg.get("n_embd").asInt()).isEqualTo(32);
        assertThat(cfg.get("n_layer").asInt()).isEqualTo(2);
        assertThat(cfg.get("n_head").asInt()).isEqualTo(4);
        assertThat(cfg.get("n_positions").asInt()).isEqualTo(16);
        assertThat(cfg.get("n_ctx").asInt()).isEqualTo(16);
        assertThat(cfg.get("vocab_size").asInt()).isEqualTo(67);
        assertThat(cfg.get("layer_norm_epsilon").asDouble()).isEqualTo(1e-5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(cfg.get("activation_function").asText()).isEqualTo("gelu_new");
        assertThat(cfg.get("tie_word_embeddings").asBoolean()).isTrue();
        assertThat(cfg.get("myllm_qkv_bias").asBoolean()).isTrue();
        // not GPT-2's vocabulary, and no tokenizer said: null, not absent (transformers would take 50256, outside it)
        assertThat(cfg.get("bos_token_id").isNull()).as("not GPT-2's vocabulary").isTrue();
        assertThat(cfg.get("eos_token_id").isNull()).isTrue();
        assertThat(Files.readString(d.resolve(ModelDirectory.CONFIG))).startsWith("{\n  \"activation_function\": \"gelu_new\",\n"
                + "  \"architectures\": [\n    \"GPT2LMHeadModel\"\n  ],\n");
        String gpt2 = ModelDirectory.configJson(GPTConfig.preset("gpt2"), DType.BF16);
        assertThat(gpt2).contains("\"bos_token_id\": 50256", "\"eos_token_id\": 50256", "\"torch_dtype\": \"bfloat16\"",
                "\"resid_pdrop\": 0.1", "\"n_inner\": null");
        assertThat(tmp).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));
    }

    @Test
    void layoutAgreesWithTheModelsParameters() {
        for (GPTConfig c : List.of(TINY, TINY.withQkvBias(false).withTiedHead(false))) {
            Map<String, Tensor> params = new GPTModel(c, 0).namedParameters();
            Map<String, int[]> shapes = Gpt2Layout.fileShapes(c);
            assertThat(shapes.keySet()).containsExactlyInAnyOrderElementsOf(params.keySet());
            shapes.forEach((n, s) -> {
                int[] ours = params.get(n).shape();
                assertThat(s).as(n).containsExactly(Gpt2Layout.isConv1d(n) ? new int[]{ours[1], ours[0]} : ours);
            });
        }
    }

    @Test
    void theGoldenFixtureLoadsAndSavesBackByteForByte() throws IOException {
        // written by tools/gpt2_reference.py (numpy, sorted names, {"format": "pt"}), independently of this code
        Path golden = Path.of("src/test/resources/golden/gpt2-tiny");
        GPTModel m = ModelDirectory.load(golden);
        assertThat(m.config()).isEqualTo(TINY);
        Path again = tmp.resolve("again");
        ModelDirectory.save(m, again);
        assertThat(Files.readAllBytes(again.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(golden.resolve(ModelDirectory.WEIGHTS)));
    }

    /** A directory laid out as {@code transformers}' {@code save_pretrained} writes GPT2LMHeadModel. */
    @Test
    void loadsSavePretrainedLayout() throws IOException {
        GPTModel m = randomModel(TINY, 5);
        Path d = Files.createDirectory(tmp.resolve("hf"));
        Files.writeString(d.resolve("config.json"), """
                {"_name_or_path": "gpt2", "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
                 "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
                 "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 16,
                 "n_embd": 32, "n_head": 4, "n_inner": null, "n_layer": 2, "n_positions": 16, "resid_pdrop": 0.0,
                 "summary_activation": null, "summary_type": "cls_index", "task_specific_params": {"text-generation": {"do_sample": true}},
                 "torch_dtype": "float32", "transformers_version": "4.44.0", "use_cache": true, "vocab_size": 67}
                """);
        List<RawTensor> raw = new java.util.ArrayList<>();
        for (var e : ModelDirectory.hubTensors(m, Tensor::data).entrySet()) {
            int[] shape = e.getValue().shape();
            int n = java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            // a copy: the transposes share one (longer) buffer
            raw.add(RawTensor.f32("transformer." + e.getKey(), Tensor.of(java.util.Arrays.copyOf(e.getValue().values().get(), n), shape)));
            if (e.getKey().endsWith("ln_1.bias")) { // the causal-mask buffers of older versions
                String layer = e.getKey().substring(0, e.getKey().indexOf(".ln_1"));
                byte[] mask = new byte[16 * 16];
                for (int i = 0; i < 16; i++) for (int j = 0; j <= i; j++) mask[i * 16 + j] = 1;
                raw.add(new RawTensor("transformer." + layer + ".attn.bias", "BOOL", new int[]{1, 1, 16, 16}, mask));
                raw.add(RawTensor.f32("transformer." + layer + ".attn.masked_bias", Tensor.of(new float[]{-1e4f})));
            }
        }
        raw.add(RawTensor.f32("lm_head.weight", m.namedParameters().get("wte.weight").copy()));
        RawTensor.write(d.resolve("model.safetensors"), raw);
        GPTModel back = ModelDirectory.load(d);
        assertThat(back.config()).isEqualTo(TINY.withDropRate(0f));
        assertThat(logits(back)).containsExactly(logits(m));
    }

    /** config.json as the hub serves it for openai-community/gpt2 (no tie_word_embeddings: tied). */
    static final String HUB_GPT2_CONFIG = """
            {
              "activation_function": "gelu_new",
              "architectures": ["GPT2LMHeadModel"],
              "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
              "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
              "n_ctx": 1024, "n_embd": %d, "n_head": %d, "n_layer": %d, "n_positions": 1024, "resid_pdrop": 0.1,
              "summary_activation": null, "summary_first_dropout": 0.1, "summary_proj_to_labels": true,
              "summary_type": "cls_index", "summary_use_proj": true,
              "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
              "vocab_size": 50257
            }
            """;

    @Test
    void readsTheHubsConfigsAsThePresets() throws IOException {
        int[][] shapes = {{768, 12, 12}, {1024, 16, 24}, {1280, 20, 36}, {1600, 25, 48}};
        String[] names = {"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"};
        for (int i = 0; i < 4; i++) {
            Path d = Files.createDirectories(tmp.resolve(names[i]));
            Files.writeString(d.resolve("config.json"), HUB_GPT2_CONFIG.formatted(shapes[i][0], shapes[i][1], shapes[i][2]));
            assertThat(ModelDirectory.readConfig(d)).as(names[i]).isEqualTo(GPTConfig.preset(names[i]));
        }
    }

    @Test
    void aShorterContextUsesTheFirstPositions() {
        GPTModel m = randomModel(TINY, 8);
        Path d = tmp.resolve("ctx");
        ModelDirectory.save(m, d);
        GPTModel short8 = ModelDirectory.load(d, TINY.withContextLength(8));
        Tensor wpe = short8.namedParameters().get("wpe.weight");
        assertThat(wpe.shape()).containsExactly(8, 32);
        assertThat(wpe.data()).containsExactly(java.util.Arrays.copyOf(m.namedParameters().get("wpe.weight").data(), 8 * 32));
        assertThat(logits(short8)).containsExactly(logits(m)); // 4 positions: the same function
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ModelDirectory.load(d, TINY.withContextLength(32))))
                .hasMessageContaining("tensor 'wpe.weight' has shape [16, 32], expected [32, 32]");
    }

    @Test
    void halfPrecisionFilesLoadConverted() throws IOException {
        GPTModel m = randomModel(TINY, 6);
        float[] want = logits(m);
        for (DType t : List.of(DType.F16, DType.BF16)) {
            Path d = tmp.resolve(t.name());
            ModelDirectory.save(m, d, t);
            GPTModel back = ModelDirectory.load(d);
            float w = m.namedParameters().get("h.1.mlp.c_fc.weight").get(100, 7);
            float got = back.namedParameters().get("h.1.mlp.c_fc.weight").get(100, 7);
            float rounded = t == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16(w)) : Float.intBitsToFloat(dev.myllm.tensor.Quantize.bf16(w) << 16);
            assertThat(got).isEqualTo(rounded);
            Path again = tmp.resolve(t.name() + "-again");
            ModelDirectory.save(back, again, t); // half → float32 → half is exact
            assertThat(Files.readAllBytes(again.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(d.resolve(ModelDirectory.WEIGHTS)));
            float[] l = logits(back);
            for (int i = 0; i < l.length; i++) assertThat(l[i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(t == DType.F16 ? 0.02f : 0.1f));
        }
    }

    @Test
    void savingOverAModelDirectoryReplacesItWhileWritingIntoOneKeepsItsOtherFiles() throws IOException {
        // save: the directory is an output, replaced whole (a tokenizer of the earlier model would not match this one)
        Path d = Files.createDirectory(tmp.resolve("model"));
        Files.writeString(d.resolve("myllm-tokenizer.json"), "{}");
        ModelDirectory.save(randomModel(TINY, 7), d);
        assertThat(d).isDirectoryNotContaining(p -> p.getFileName().toString().equals("myllm-tokenizer.json"));
        assertThat(ModelDirectory.load(d).config()).isEqualTo(TINY);
        // writeInto: a directory being made, such as a checkpoint's, keeps what else it holds
        Path c = Files.createDirectory(tmp.resolve("ckpt"));
        Files.writeString(c.resolve("trainer_state.json"), "{}");
        ModelDirectory.writeInto(randomModel(TINY, 7), c, DType.F32);
        assertThat(c.resolve("trainer_state.json")).hasContent("{}");
        assertThat(Files.readAllBytes(c.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(d.resolve(ModelDirectory.WEIGHTS)));
        assertThat(tmp).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));
        assertThat(d).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));
    }

    /** A tensor as raw bytes with any dtype code, for files our writer would not produce. */
    record RawTensor(String name, String dtype, int[] shape, byte[] bytes) {
        static RawTensor f32(String name, Tensor t) {
            ByteBuffer b = ByteBuffer.allocate(4 * t.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : t.data()) b.putFloat(x);
            return new RawTensor(name, "F32", t.shape(), b.array());
        }

        static void write(Path file, List<RawTensor> tensors) throws IOException {
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("__metadata__", Map.of("format", "pt"));
            long off = 0;
            for (RawTensor t : tensors) {
                header.put(t.name, Map.of("dtype", t.dtype, "shape", t.shape, "data_offsets", List.of(off, off + t.bytes.length)));
                off += t.bytes.length;
            }
            byte[] h = new ObjectMapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate((int) (8 + h.length + off)).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(h.length).put(h);
            for (RawTensor t : tensors) b.put(t.bytes);
            Files.write(file, b.array());
        }
    }
}
