package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Ten AdamW steps on one batch agree with tools/train_reference.py (numpy, float64) to 1e-5. */
class GoldenTrainTest {
    @Test
    void tenAdamWStepsMatchNumpyReference() throws Exception {
        JsonNode g = new ObjectMapper().readTree(getClass().getResourceAsStream("/golden/train_golden.json"));
        JsonNode c = g.get("config");
        GPTConfig cfg = new GPTConfig(c.get("vocab_size").asInt(), c.get("n_positions").asInt(), c.get("n_embd").asInt(),
                c.get("n_head").asInt(), c.get("n_layer").asInt(), 0f, true, true, (float) c.get("layer_norm_epsilon").asDouble());
        GPTModel model = new GPTModel(cfg, 1);
        Path dir = Files.createTempDirectory("golden");
        try {
            Files.copy(Path.of(getClass().getResource("/golden/train_init.safetensors").toURI()), dir.resolve("model.safetensors"));
            new GptModelStore(model).load(dir); // HF names and Conv1D layout, as a downloaded GPT-2
        } finally {
            Checkpoints.deleteTree(dir);
        }
        int b = g.get("batch").asInt(), t = g.get("time").asInt();
        int[] in = new int[b * t], tg = new int[b * t];
        for (int i = 0; i < in.length; i++) {
            in[i] = g.get("inputs").get(i).asInt();
            tg[i] = g.get("targets").get(i).asInt();
        }
        JsonNode o = g.get("optimizer");
        AdamW opt = new AdamW(model.namedParameters(), new AdamW.Options(o.get("beta1").asDouble(), o.get("beta2").asDouble(),
                o.get("eps").asDouble(), o.get("weight_decay").asDouble(), AdamW.Decay.ALL));
        Batch batch = new Batch(in, tg, b, t);
        for (int step = 0; step < o.get("steps").asInt(); step++) {
            float loss;
            try (Arena a = Arena.open()) {
                opt.zeroGrad();
                Tensor l = Losses.batchLoss(LanguageModel.of(model), batch);
                loss = l.item();
                l.backward();
                opt.step(o.get("lr").asDouble());
            }
            assertThat((double) loss).as("loss at step %d", step).isCloseTo(g.get("losses").get(step).asDouble(), within(1e-5));
        }
    }
}
