package dev.myllm.model;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The book's 124M model initialised from seed 123 as PyTorch 2.13 does it: every tensor's SHA-256
 * and first/last values, and the untrained model's greedy continuations printed in chapters 4 and 5.
 */
class BookInitTest {
    static JsonNode gpt(String key) throws Exception {
        try (InputStream in = BookInitTest.class.getResourceAsStream("/torch-rng/vectors.json")) {
            return new ObjectMapper().readTree(in).get("gpt").get(key);
        }
    }

    static GPTConfig config(JsonNode c) {
        return new GPTConfig(c.get("vocab_size").asInt(), c.get("context_length").asInt(), c.get("emb_dim").asInt(),
                c.get("n_heads").asInt(), c.get("n_layers").asInt(), (float) c.get("drop_rate").asDouble(),
                c.get("qkv_bias").asBoolean(), false, 1e-5f);
    }

    static String sha256(float[] x, int off, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(x[off + i]);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    static int bits(JsonNode quad, int i) {
        return Integer.parseUnsignedInt(quad.get("bits").get(i).asText(), 16);
    }

    /** Draws every tensor in order into the model and compares it where it landed (a packed c_attn third included). */
    void checkModel(String key) throws Exception {
        JsonNode g = gpt(key);
        GPTConfig cfg = config(g.get("config"));
        assertEquals(GPTConfig.preset(key.startsWith("ch04") ? "book-124m" : "book-124m-256"), cfg);
        long t0 = System.nanoTime();
        GPTModel model = new GPTModel(cfg, new TorchGenerator(g.get("seed").asLong()));
        System.out.printf("%s: book initialisation %.2f s%n", key, (System.nanoTime() - t0) / 1e9);
        List<BookInit.Draw> draws = BookInit.draws(cfg);
        JsonNode order = g.get("draw_order");
        assertEquals(order.size(), draws.size());
        var params = model.namedParameters();
        for (int i = 0; i < draws.size(); i++) {
            BookInit.Draw d = draws.get(i);
            JsonNode want = order.get(i);
            assertEquals(want.get("name").asText(), d.bookName());
            assertEquals(want.get("shape").toString(), java.util.Arrays.toString(d.shape()).replace(" ", ""));
            if (!d.normal()) {
                assertEquals(Long.parseUnsignedLong(want.get("bound").get("bits").get(0).asText(), 16), Double.doubleToRawLongBits(d.bound()));
            }
            float[] data = params.get(d.target()).data();
            int n = d.size();
            for (int k = 0; k < 4; k++) {
                assertEquals(bits(want.get("first4"), k), Float.floatToRawIntBits(data[d.offset() + k]), d.bookName());
                assertEquals(bits(want.get("last4"), k), Float.floatToRawIntBits(data[d.offset() + n - 4 + k]), d.bookName());
            }
            assertEquals(want.get("sha256_le_f32").asText(), sha256(data, d.offset(), n), d.bookName());
        }
        int[] prompt = new ObjectMapper().convertValue(g.get("prompt_ids"), int[].class);
        int[] expected = new ObjectMapper().convertValue(g.get("greedy_10"), int[].class);
        model.eval();
        try (GradMode ng = GradMode.noGrad()) {
            int[] got = new Generator(model, null).generate(prompt, GenerationConfig.greedy(10)).tokens();
            assertArrayEquals(expected, got, key);
        }
    }

    @Test
    void chapter4Model() throws Exception {
        checkModel("ch04_124M_ctx1024");
    }

    @Test
    void chapter5Model() throws Exception {
        checkModel("ch05_124M_ctx256");
    }

    @Test
    void qkvBiasAndTiedHeadFollowTheBookOrder() {
        GPTConfig c = new GPTConfig(10, 4, 8, 2, 1, 0f, true, true, 1e-5f);
        List<BookInit.Draw> d = BookInit.draws(c);
        assertEquals(List.of("tok_emb.weight", "pos_emb.weight", "trf_blocks.0.att.W_query.weight", "trf_blocks.0.att.W_query.bias",
                "trf_blocks.0.att.W_key.weight", "trf_blocks.0.att.W_key.bias", "trf_blocks.0.att.W_value.weight",
                "trf_blocks.0.att.W_value.bias", "trf_blocks.0.att.out_proj.weight", "trf_blocks.0.att.out_proj.bias",
                "trf_blocks.0.ff.layers.0.weight", "trf_blocks.0.ff.layers.0.bias", "trf_blocks.0.ff.layers.2.weight",
                "trf_blocks.0.ff.layers.2.bias"), d.stream().map(BookInit.Draw::bookName).toList());
        // the key's bias lands in the middle third of the fused bias, after the query's
        TorchGenerator g = new TorchGenerator(7);
        GPTModel m = new GPTModel(c, g);
        TorchGenerator replay = new TorchGenerator(7);
        float[] scratch = new float[80];
        for (BookInit.Draw x : d.subList(0, 5)) x.fill(replay, scratch, 0);
        float[] keyBias = new float[8];
        d.get(5).fill(replay, keyBias, 0);
        Tensor bias = m.namedParameters().get("h.0.attn.c_attn.bias");
        assertArrayEquals(keyBias, java.util.Arrays.copyOfRange(bias.data(), 8, 16));
        assertEquals(1f, m.namedParameters().get("h.0.ln_1.weight").data()[3]);
        assertEquals(0f, m.namedParameters().get("h.0.ln_1.bias").data()[3]);
    }
}
