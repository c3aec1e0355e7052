package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.AdamW;
import dev.myllm.train.BatchSource;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.Trainer;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few classification fine-tuning steps through the Trainer against the torch reference of
 * {@code tools/classify_reference.py}: last-block training with the book's head bias and token
 * rule, and LoRA on every linear map (three pairs on the fused QKV) with the flexible rule.
 */
class ClassifyReferenceTest {
    static JsonNode doc() throws Exception {
        try (InputStream in = ClassifyReferenceTest.class.getResourceAsStream("/finetune/classify_reference.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static Map<String, Tensor> tensors(JsonNode n) {
        Map<String, Tensor> out = new HashMap<>();
        n.properties().forEach(e -> {
            JsonNode shape = e.getValue().get("shape"), data = e.getValue().get("data");
            int[] s = new int[shape.size()];
            for (int i = 0; i < s.length; i++) s[i] = shape.get(i).asInt();
            float[] d = new float[data.size()];
            for (int i = 0; i < d.length; i++) d[i] = (float) data.get(i).asDouble();
            out.put(e.getKey(), Tensor.of(d, s));
        });
        return out;
    }

    static List<Double> train(JsonNode doc, String name, Path dir) {
        JsonNode cfg = doc.get("config"), c = doc.get("cases").get(name);
        GPTConfig config = new GPTConfig(cfg.get("vocab_size").asInt(), cfg.get("n_positions").asInt(), cfg.get("n_embd").asInt(),
                cfg.get("n_head").asInt(), cfg.get("n_layer").asInt(), 0f, true, true, 1e-5f);
        int pad = cfg.get("pad").asInt();
        Map<String, Tensor> w = tensors(c.get("weights"));
        Tensor scoreW = w.remove("score.weight"), scoreB = w.remove("score.bias");
        GPTModel body = new GPTModel(config, 0);
        body.loadStateDict(w);
        GPTClassifier m = GPTClassifier.of(body, scoreW, scoreB, List.of("a", "b"), TokenRule.parse(c.get("rule").asText()), pad);
        Trainable what = Trainable.LAST_BLOCK;
        if (c.has("lora")) {
            m.addLoRA(new LoRA.Settings(c.get("rank").asInt(), c.get("alpha").asDouble(), LoRA.Scale.ALPHA_OVER_RANK), new Rng(1));
            Map<String, Tensor> mine = m.namedParameters();
            tensors(c.get("lora")).forEach((k, v) -> System.arraycopy(v.data(), 0, mine.get(k).data(), 0, v.size()));
            what = Trainable.LORA;
        }
        what.apply(m);
        List<Batch> batches = new ArrayList<>();
        for (JsonNode b : doc.get("batches")) {
            int rows = b.get("ids").size(), cols = b.get("ids").get(0).size();
            int[] ids = new int[rows * cols], labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < cols; t++) ids[r * cols + t] = b.get("ids").get(r).get(t).asInt();
                labels[r] = b.get("labels").get(r).asInt();
            }
            batches.add(new Batch(ids, labels, rows, cols));
        }
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return batches.size();
            }

            @Override
            public Batch batch(int epoch, int index) {
                return batches.get(index);
            }
        };
        List<Double> losses = new ArrayList<>();
        AdamW opt = new AdamW(m.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, 0.1, AdamW.Decay.ALL));
        new Trainer(m, new ClassificationObjective(m), new ClassifierStore(m, null), opt, new LrSchedule.Constant(c.get("lr").asDouble()),
                source, new Trainer.Options(c.get("steps").asInt(), 1, 0, 0, 0, -1, 0, 1), dir)
                .listener(new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        losses.add(r.loss());
                    }
                }).run();
        Map<String, Tensor> mine = m.namedParameters();
        c.get("final").properties().forEach(e -> {
            String key = e.getKey().startsWith("lora.") || e.getKey().startsWith("score.") ? e.getKey() : "transformer." + e.getKey();
            float[] got = mine.get(key).data();
            int emb = config.embDim();
            for (int i = 0; i < got.length; i++) {
                // the key bias has an exactly zero gradient (it shifts every score of a query equally);
                // Adam turns float rounding noise there into lr-sized steps, so it is not comparable
                if (key.endsWith("c_attn.bias") && i >= emb && i < 2 * emb) continue;
                assertThat((double) got[i]).as("%s [%d]", key, i).isCloseTo(e.getValue().get(i).asDouble(), within(2e-5));
            }
        });
        return losses;
    }

    @Test
    void lastBlockStepsMatchTorch(@TempDir Path dir) throws Exception {
        JsonNode doc = doc();
        List<Double> losses = train(doc, "last_block", dir);
        JsonNode want = doc.get("cases").get("last_block").get("losses");
        assertThat(losses).hasSize(want.size());
        for (int i = 0; i < want.size(); i++) assertThat(losses.get(i)).isCloseTo(want.get(i).asDouble(), within(1e-5));
    }

    @Test
    void loraStepsMatchTorch(@TempDir Path dir) throws Exception {
        JsonNode doc = doc();
        List<Double> losses = train(doc, "lora", dir);
        JsonNode want = doc.get("cases").get("lora").get("losses");
        assertThat(losses).hasSize(want.size());
        for (int i = 0; i < want.size(); i++) assertThat(losses.get(i)).isCloseTo(want.get(i).asDouble(), within(1e-5));
    }
}
