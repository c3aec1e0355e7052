package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.Objective;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Instruction-tuning and DPO steps on a tiny GPT agree with tools/instruct_reference.py (PyTorch, float64). */
class InstructGoldenTest {
    static final JsonNode G;

    static {
        try {
            G = new ObjectMapper().readTree(InstructGoldenTest.class.getResourceAsStream("/finetune/instruct_golden.json"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static GPTModel tinyModel() throws Exception {
        GPTModel model = new GPTModel(new GPTConfig(61, 16, 32, 4, 2, 0f, true, true, 1e-5f), 1);
        Path dir = Files.createTempDirectory("instruct-golden");
        try {
            Files.copy(Path.of(InstructGoldenTest.class.getResource("/golden/train_init.safetensors").toURI()), dir.resolve("model.safetensors"));
            new GptModelStore(model).load(dir);
        } finally {
            Files.deleteIfExists(dir.resolve("model.safetensors"));
            Files.deleteIfExists(dir);
        }
        return model;
    }

    static List<int[]> lists(JsonNode n) {
        List<int[]> out = new ArrayList<>();
        for (JsonNode row : n) {
            int[] a = new int[row.size()];
            for (int i = 0; i < a.length; i++) a[i] = row.get(i).asInt();
            out.add(a);
        }
        return out;
    }

    static int[] flat(JsonNode n) {
        return lists(n).stream().flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @Test
    void sftStepsMatchTheReference() throws Exception {
        JsonNode s = G.get("sft");
        int[] lens = new int[s.get("instruction_lengths").size()];
        for (int i = 0; i < lens.length; i++) lens[i] = s.get("instruction_lengths").get(i).asInt();
        Batch b = InstructionCollate.collate(lists(s.get("items")), lens, G.get("eos").asInt(), 0);
        assertThat(b.inputs()).containsExactly(flat(s.get("inputs")));
        assertThat(b.targets()).containsExactly(flat(s.get("targets")));
        GPTModel m = tinyModel();
        AdamW opt = new AdamW(m.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, s.get("weight_decay").asDouble(), AdamW.Decay.ALL));
        Objective obj = Objective.languageModel(m::forward);
        for (int step = 0; step < 3; step++) {
            double loss;
            try (Arena a = Arena.open()) {
                opt.zeroGrad();
                Tensor l = obj.loss(b);
                loss = l.item();
                l.backward();
                opt.step(s.get("lr").asDouble());
            }
            assertThat(loss).as("SFT loss before step %d", step + 1).isCloseTo(s.get("losses").get(step).asDouble(), within(2e-5));
        }
    }

    @Test
    void dpoStepsMatchTheReference() throws Exception {
        JsonNode d = G.get("dpo");
        PreferenceBatch b = PreferenceDataset.collate(lists(d.get("prompts")), lists(d.get("chosen")), lists(d.get("rejected")),
                G.get("eos").asInt(), 0, true);
        assertThat(b.cols()).isEqualTo(d.get("width").asInt());
        GPTModel policy = tinyModel(), reference = tinyModel();
        reference.setTrainable(false);
        AdamW opt = new AdamW(policy.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, d.get("weight_decay").asDouble(), AdamW.Decay.ALL));
        // through the training objective's batch form, as finetune dpo runs it
        DpoObjective obj = new DpoObjective(policy::forward, reference::forward, d.get("beta").asDouble());
        Batch asBatch = PreferenceBatches.encode(b);
        for (int step = 0; step < 3; step++) {
            JsonNode want = d.get("steps").get(step);
            var metrics = obj.metrics(List.of(asBatch), 0);
            assertThat(metrics.get("chosen_reward")).as("chosen reward %d", step).isCloseTo(want.get("chosen_reward").asDouble(), within(1e-4));
            assertThat(metrics.get("rejected_reward")).as("rejected reward %d", step).isCloseTo(want.get("rejected_reward").asDouble(), within(1e-4));
            assertThat(metrics.get("reward_accuracy")).isEqualTo(want.get("accuracy").asDouble());
            double loss = lossThenStep(obj, asBatch, opt, d.get("lr").asDouble());
            assertThat(loss).as("DPO loss before step %d", step + 1).isCloseTo(want.get("loss").asDouble(), within(2e-5));
        }
    }

    @Test
    void rpoStepsMatchTheReference() throws Exception {
        JsonNode d = G.get("dpo"), rp = G.get("rpo");
        PreferenceBatch b = PreferenceDataset.collate(lists(d.get("prompts")), lists(d.get("chosen")), lists(d.get("rejected")),
                G.get("eos").asInt(), 0, true);
        GPTModel policy = tinyModel(), reference = tinyModel();
        reference.setTrainable(false);
        AdamW opt = new AdamW(policy.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, rp.get("weight_decay").asDouble(), AdamW.Decay.ALL));
        DpoObjective obj = new DpoObjective(policy::forward, reference::forward, rp.get("beta").asDouble(), rp.get("alpha").asDouble());
        Batch asBatch = PreferenceBatches.encode(b);
        for (int step = 0; step < 3; step++) {
            JsonNode want = rp.get("steps").get(step);
            var metrics = obj.metrics(List.of(asBatch), 0);
            assertThat(metrics.get("chosen_reward")).as("chosen reward %d", step).isCloseTo(want.get("chosen_reward").asDouble(), within(1e-4));
            assertThat(metrics.get("rejected_reward")).as("rejected reward %d", step).isCloseTo(want.get("rejected_reward").asDouble(), within(1e-4));
            assertThat(metrics.get("chosen_logp")).as("chosen log-prob %d", step).isCloseTo(want.get("chosen_logp").asDouble(), within(1e-4));
            assertThat(metrics.get("reward_accuracy")).isEqualTo(want.get("accuracy").asDouble());
            double evalLoss;
            try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
                evalLoss = obj.loss(asBatch).item(); // the evaluation's loss: the same value, no graph
            }
            double loss = lossThenStep(obj, asBatch, opt, rp.get("lr").asDouble());
            assertThat(loss).as("RPO loss before step %d", step + 1).isCloseTo(want.get("loss").asDouble(), within(2e-5));
            assertThat(evalLoss).isCloseTo(loss, within(1e-6));
        }
    }

    /** The objective's loss on the batch, then one AdamW step on its gradient. */
    private static double lossThenStep(DpoObjective obj, Batch batch, AdamW opt, double lr) {
        try (Arena a = Arena.open()) {
            opt.zeroGrad();
            Tensor l = obj.loss(batch);
            double loss = l.item();
            l.backward();
            opt.step(lr);
            return loss;
        }
    }
}
