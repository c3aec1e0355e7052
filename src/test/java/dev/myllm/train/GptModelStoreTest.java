package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GptModelStoreTest {
    @Test
    void savesHuggingFaceLayoutAndLoadsBack(@TempDir Path tmp) throws Exception {
        GPTConfig cfg = new GPTConfig(50, 8, 16, 2, 2, 0f, true, false, 1e-5f);
        GPTModel a = new GPTModel(cfg, 1);
        new GptModelStore(a).save(tmp);
        Map<String, Tensor> file = Safetensors.read(tmp.resolve("model.safetensors"));
        // Conv1D weights are [in, out] on disk, and equal to ours transposed
        Tensor cAttn = file.get("h.0.attn.c_attn.weight");
        assertThat(cAttn.shape()).containsExactly(16, 48);
        Tensor ours = a.namedParameters().get("h.0.attn.c_attn.weight");
        assertThat(cAttn.get(3, 40)).isEqualTo(ours.get(40, 3));
        assertThat(file.get("wte.weight").shape()).containsExactly(50, 16);
        assertThat(file).containsKey("lm_head.weight");
        var json = new ObjectMapper().readTree(tmp.resolve("config.json").toFile());
        assertThat(json.get("n_embd").asInt()).isEqualTo(16);
        assertThat(json.get("n_positions").asInt()).isEqualTo(8);
        assertThat(dev.myllm.io.ModelDirectory.readConfig(tmp)).isEqualTo(cfg);

        GPTModel b = new GPTModel(cfg, 2);
        new GptModelStore(b).load(tmp);
        for (var e : a.namedParameters().entrySet()) {
            assertThat(b.namedParameters().get(e.getKey()).data()).as(e.getKey()).containsExactly(e.getValue().data());
        }
    }
}
