package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT adapters made and merged by PEFT itself ({@code tools/peft_reference.py}: the golden tiny
 * GPT-2, r 4, α 8, a rank and an alpha pattern, a use_rslora variant) merged by us: the same logits.
 */
class PeftAdapterTest {
    static final Path BASE = Path.of("src/test/resources/golden/gpt2-tiny");
    static final Path PEFT = Path.of("src/test/resources/peft");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static JsonNode expected() throws Exception {
        return JSON.readTree(PEFT.resolve("expected.json").toFile());
    }

    static int[] ids(JsonNode e) {
        int[] ids = new int[e.get("ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = e.get("ids").get(i).asInt();
        return ids;
    }

    /** The largest difference between the model's logits of the reference ids and {@code want}. */
    static double worst(GPTModel m, JsonNode want) throws Exception {
        int[] ids = ids(expected());
        m.eval();
        float[] got;
        try (var g = GradMode.noGrad()) {
            got = m.forward(ids, 1, ids.length).toArray();
        }
        int v = m.config().vocabSize();
        double worst = 0;
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < v; j++) worst = Math.max(worst, Math.abs(got[t * v + j] - want.get(t).get(j).asDouble()));
        }
        return worst;
    }

    static GPTModel merged(Path adapter) {
        GPTModel m = ModelDirectory.load(BASE);
        PeftAdapter.read(adapter).mergeInto(m);
        return m;
    }

    @Test
    void mergedLogitsMatchPeftsMergeAndUnload() throws Exception {
        JsonNode e = expected();
        assertThat(worst(ModelDirectory.load(BASE), e.get("base_logits"))).isLessThan(1e-4);
        for (String name : new String[]{"lora", "rslora"}) {
            JsonNode want = e.get("adapters").get(name);
            assertThat(worst(merged(PEFT.resolve(name)), want.get("logits"))).as(name).isLessThan(1e-4);
            // the scale of every module as PEFT computed it: α/r, α/√r with use_rslora, the patterns' r and α
            PeftAdapter a = PeftAdapter.read(PEFT.resolve(name));
            assertThat(a.updates()).hasSize(8);
            want.get("scaling").fields().forEachRemaining(s ->
                    assertThat(a.updates().get(s.getKey()).scale()).as(name + " " + s.getKey()).isCloseTo(s.getValue().asDouble(), org.assertj.core.data.Offset.offset(1e-12)));
        }
        // the patterns made a difference: mlp.c_proj has r 2 (α/r = 4), block 1's c_attn α 16 (4), the rest 8/4
        PeftAdapter a = PeftAdapter.read(PEFT.resolve("lora"));
        assertThat(a.updates().get("transformer.h.0.mlp.c_proj").a().shape()).containsExactly(2, 128);
        assertThat(a.updates().get("transformer.h.1.attn.c_attn").scale()).isEqualTo(4.0);
        assertThat(a.updates().get("transformer.h.0.attn.c_attn").scale()).isEqualTo(2.0);
        assertThat(PeftAdapter.read(PEFT.resolve("rslora")).updates().get("transformer.h.0.mlp.c_fc").scale()).isEqualTo(8 / Math.sqrt(4));
    }

    @Test
    void adapterNamesInKeysAndFullPathPatternsAreAccepted() throws Exception {
        // PEFT writes ".lora_A.weight"; a state dict saved with the adapter's name has ".lora_A.default.weight"
        Path d = copy("named", (Map<String, Tensor> t) -> {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            t.forEach((k, v) -> renamed.put(k.replace(".weight", ".default.weight"), v));
            t.clear();
            t.putAll(renamed);
        }, c -> c.putObject("rank_pattern").put("transformer.h.0.mlp.c_proj", 2).put("transformer.h.1.mlp.c_proj", 2));
        assertThat(worst(merged(d), expected().get("adapters").get("lora").get("logits"))).isLessThan(1e-4);
    }

    @Test
    void whatCannotBeMergedIsRefusedInOneLineNamingFileAndKey() throws Exception {
        refused(copy("dora", t -> { }, c -> c.put("use_dora", true)), "adapter_config.json: 'use_dora' is true");
        refused(copy("bias", t -> { }, c -> c.put("bias", "all")), "adapter_config.json: 'bias' is 'all'");
        refused(copy("prefix", t -> { }, c -> c.put("peft_type", "PREFIX_TUNING")), "'peft_type' is 'PREFIX_TUNING'");
        refused(copy("save", t -> { }, c -> c.putArray("modules_to_save").add("lm_head")), "'modules_to_save' is [\"lm_head\"]");
        refused(copy("unknown", t -> t.put("base_model.model.transformer.h.7.attn.c_attn.lora_A.weight", Tensor.zeros(4, 32)), c -> { }),
                "adapter_model.safetensors: missing tensor 'base_model.model.transformer.h.7.attn.c_attn.lora_B.weight'");
        refused(copy("unknown2", t -> {
            t.put("base_model.model.transformer.h.7.attn.c_attn.lora_A.weight", Tensor.zeros(4, 32));
            t.put("base_model.model.transformer.h.7.attn.c_attn.lora_B.weight", Tensor.zeros(96, 4));
        }, c -> { }), "tensor 'base_model.model.transformer.h.7.attn.c_attn.lora_A.weight' is for module 'transformer.h.7.attn.c_attn' (not a linear map");
        refused(copy("head", t -> {
            t.put("base_model.model.lm_head.lora_A.weight", Tensor.zeros(4, 32));
            t.put("base_model.model.lm_head.lora_B.weight", Tensor.zeros(67, 4));
        }, c -> { }), "module 'lm_head' (the model's head is tied to the token embedding");
        refused(copy("shape", t -> t.put("base_model.model.transformer.h.0.attn.c_proj.lora_A.weight", Tensor.zeros(4, 31)), c -> { }),
                "tensor 'base_model.model.transformer.h.0.attn.c_proj.lora_A.weight' has shape [4, 31], expected [4, 32]");
        refused(copy("rank", t -> t.put("base_model.model.transformer.h.0.attn.c_proj.lora_A.weight", Tensor.zeros(3, 32)), c -> { }),
                "tensor 'base_model.model.transformer.h.0.attn.c_proj.lora_A.weight' has shape [3, 32], expected [4, in] (r 4)");
        refused(copy("untargeted", t -> { }, c -> c.putArray("target_modules").add("c_attn")),
                "is for module 'transformer.h.0.attn.c_proj', which target_modules [\"c_attn\"] does not select");
        // exclude_modules: an excluded module needs no weights, and may have none
        Path excluded = copy("excluded", t -> {
            t.remove("base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight");
            t.remove("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight");
        }, c -> c.putArray("exclude_modules").add("transformer.h.1.mlp.c_fc"));
        assertThat(PeftAdapter.read(excluded).updates()).hasSize(7);
        PeftAdapter.read(excluded).mergeInto(ModelDirectory.load(BASE));
        refused(copy("excluded2", t -> { }, c -> c.put("exclude_modules", ".*mlp\\.c_fc")),
                "is for module 'transformer.h.0.mlp.c_fc', which target_modules");
        refused(copy("missing", t -> {
            t.remove("base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight");
            t.remove("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight");
        }, c -> { }), "missing tensor 'base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight' (target_modules");
        refused(copy("odd", t -> t.put("base_model.model.transformer.h.0.attn.c_attn.lora_embedding_A", Tensor.zeros(4, 32)), c -> { }),
                "unexpected tensor 'base_model.model.transformer.h.0.attn.c_attn.lora_embedding_A'");
        Path noWeights = copy("noweights", t -> { }, c -> { });
        Files.delete(noWeights.resolve(LoRA.WEIGHTS));
        refused(noWeights, "noweights: no adapter_model.safetensors");
        refused(tmp.resolve("nowhere"), "nowhere: no such adapter directory");
        refused(BASE, "gpt2-tiny: no adapter_config.json (not a PEFT adapter directory)");
    }

    private void refused(Path adapter, String message) {
        GPTModel m = ModelDirectory.load(BASE);
        float[] before = m.block(0).attn().cAttn().weight().data().clone();
        assertThatThrownBy(() -> PeftAdapter.read(adapter).mergeInto(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message).satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(m.block(0).attn().cAttn().weight().data()).as("a refused adapter leaves the model as it was").containsExactly(before);
    }

    /** A copy of the {@code lora} fixture with its tensors and config edited. */
    private Path copy(String name, Consumer<Map<String, Tensor>> tensors, Consumer<ObjectNode> config) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(PEFT.resolve("lora").resolve(LoRA.WEIGHTS)));
        tensors.accept(t);
        Safetensors.write(d.resolve(LoRA.WEIGHTS), t, Map.of("format", "pt"));
        ObjectNode c = (ObjectNode) JSON.readTree(PEFT.resolve("lora").resolve(LoRA.CONFIG).toFile());
        config.accept(c);
        Files.writeString(d.resolve(LoRA.CONFIG), c.toString());
        return d;
    }
}
