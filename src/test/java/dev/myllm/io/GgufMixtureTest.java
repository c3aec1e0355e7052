package dev.myllm.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.model.GPTConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our per-tensor types of the mixtures' files against llama.cpp's: {@code q4_k_m-types.json} (and q4_k_s, q5_k_s,
 * q5_k_m) records the types {@code llama_model_quantize} (node-llama-cpp 3.21.1) gave five F32 exports of ours
 * (tools/gguf_tensor_types.py): 2, 4, 6 and 12 blocks, widths 64 (rows not whole super-blocks), 256 and 768, heads
 * tied and not.
 */
class GgufMixtureTest {
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q4_k_s", "q5_k_s", "q5_k_m"})
    void typesAreLlamaCppsForEveryTensor(String name) throws IOException {
        GgufMixture mix = GgufMixture.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        JsonNode all = new ObjectMapper().readTree(GgufModelTest.fixture(name + "-types.json").toFile());
        assertThat(all.size()).isEqualTo(5);
        for (var model : (Iterable<Map.Entry<String, JsonNode>>) all::fields) {
            JsonNode tensors = model.getValue().get("tensors");
            Map<String, GgufType> want = new TreeMap<>();
            Map<String, long[]> ne = new LinkedHashMap<>();
            for (var t : (Iterable<Map.Entry<String, JsonNode>>) tensors::fields) {
                want.put(t.getKey(), GgufType.valueOf(t.getValue().get("type").asText()));
                JsonNode n = t.getValue().get("ne");
                long[] d = new long[n.size()];
                for (int i = 0; i < d.length; i++) d[i] = n.get(i).asLong();
                ne.put(t.getKey(), d);
            }
            int layers = (int) ne.keySet().stream().filter(n -> n.matches("blk\\.\\d+\\.attn_qkv\\.weight")).count();
            long[] wte = ne.get("token_embd.weight");
            GPTConfig c = new GPTConfig((int) wte[1], (int) ne.get("position_embd.weight")[1], (int) wte[0], 1, layers, 0f, true,
                    !ne.containsKey("output.weight"), 1e-5f);
            assertThat(GgufModel.names(c).values()).as(model.getKey()).containsExactlyInAnyOrderElementsOf(want.keySet());
            Map<String, GgufType> got = new TreeMap<>();
            ne.forEach((n, d) -> got.put(n, GgufModel.tensorType(n, d, mix, c)));
            assertThat(got).as(model.getKey()).isEqualTo(want);
            assertThat(model.getValue().get("file_type").asInt()).isEqualTo(mix.fileType);
        }
    }
}
