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
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT adapters made and merged by PEFT itself ({@code tools/peft_reference.py}: the golden tiny
 * GPT-2, r 4, α 8, a rank and an alpha pattern, a use_rslora variant, an untied copy with an
 * adapter on lm_head, and one saved PEFT's default way with the head's own weight) merged by us: the same logits; and the adapter our writer makes, which the
 * script loaded and merged in PEFT.
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

    /**
     * Our writer's adapter for a fixed recipe: the golden base, {@link LoRAModel} with rank 2 and the
     * printed book's scale rule (α 0.75, so PEFT's lora_alpha is 1.5 and c_attn's fused rank 6 needs
     * both patterns), B drawn from a seed (a run starts it at zero), saved by {@link InstructStore}
     * as a LoRA run saves its {@code model/}. Returns the model with its adapters attached.
     */
    static LoRAModel writeOurs(Path run) {
        LoRAModel m = new LoRAModel(ModelDirectory.load(BASE), new LoRA.Settings(2, 0.75, LoRA.Scale.ALPHA), new Rng(11));
        Rng rng = new Rng(12);
        for (LoRALinear l : m.lora().layers().values()) {
            for (int i = 0; i < l.blocks(); i++) {
                float[] b = l.b(i).data();
                for (int j = 0; j < b.length; j++) b[j] = (float) (0.1 * rng.nextGaussian());
            }
        }
        new InstructStore(m.model(), m, null, PromptFormat.ALPACA, BASE, "--trainable lora").save(run);
        return m;
    }

    @Test
    void ourWriterStillWritesTheAdapterPeftWasCheckedOn() throws Exception {
        // peft/ours is what writeOurs wrote; tools/peft_reference.py loaded it with PeftModel.from_pretrained
        // (no missing or unexpected keys, no warnings) and merged it: keep the two the same file for file
        Path ours = PEFT.resolve("ours"), written = tmp.resolve("run").resolve(InstructStore.ADAPTER);
        writeOurs(tmp.resolve("run"));
        try (var want = Files.list(ours); var got = Files.list(written)) {
            assertThat(got.map(f -> f.getFileName().toString()).sorted().toList())
                    .isEqualTo(want.map(f -> f.getFileName().toString()).sorted().toList());
        }
        try (var files = Files.list(ours)) {
            for (Path f : files.toList()) {
                byte[] got = Files.readAllBytes(written.resolve(f.getFileName())), want = Files.readAllBytes(f);
                // the first differing byte, not two dumps: if the writer changed on purpose, rewrite peft/ours with
                // writeOurs and run tools/peft_reference.py again
                assertThat(Arrays.mismatch(got, want)).as("%s (%d bytes, fixture %d) first differs at byte", f.getFileName(), got.length, want.length)
                        .isEqualTo(-1);
            }
        }
    }

    @Test
    void ourAdapterMergedMatchesPeftAndWhatOurLoRAComputed() throws Exception {
        JsonNode want = expected().get("adapters").get("ours");
        assertThat(worst(merged(PEFT.resolve("ours")), want.get("logits"))).isLessThan(1e-4);
        PeftAdapter a = PeftAdapter.read(PEFT.resolve("ours"));
        assertThat(a.updates()).hasSize(8);
        want.get("scaling").fields().forEachRemaining(s ->
                assertThat(a.updates().get(s.getKey()).scale()).as(s.getKey()).isCloseTo(s.getValue().asDouble(), org.assertj.core.data.Offset.offset(1e-12)));
        // and PEFT's function of the file is the one our adapters computed before they were written
        assertThat(worst(writeOurs(tmp.resolve("run")).model(), want.get("logits"))).isLessThan(1e-4);
    }

    @Test
    void ourSettingsSitBesideThePeftConfigAndOlderAdaptersStillRead() throws Exception {
        Path a = tmp.resolve("run").resolve(InstructStore.ADAPTER);
        writeOurs(tmp.resolve("run"));
        LoRA.Settings want = new LoRA.Settings(2, 0.75, LoRA.Scale.ALPHA);
        assertThat(LoRA.readSettings(a)).isEqualTo(want);
        // an adapter written before myllm-lora.json kept them in adapter_config.json, which PEFT warns about
        ObjectNode c = (ObjectNode) JSON.readTree(a.resolve(LoRA.CONFIG).toFile());
        c.set("myllm_lora", JSON.readTree(a.resolve(LoRA.SETTINGS).toFile()));
        Files.writeString(a.resolve(LoRA.CONFIG), c.toString());
        Files.delete(a.resolve(LoRA.SETTINGS));
        assertThat(LoRA.readSettings(a)).isEqualTo(want);
    }

    @Test
    void aSettingsFileThatCannotBeReadIsNamedOnceWithTheReason() throws Exception {
        Path a = tmp.resolve("run").resolve(InstructStore.ADAPTER);
        writeOurs(tmp.resolve("run"));
        Path own = a.resolve(LoRA.SETTINGS);
        // it said "A/myllm-lora.json: cannot read: Invalid UTF-8 start byte 0xff\n at [Source: REDACTED ...; line: 1, column: 3]"
        Files.write(own, new byte[]{'{', (byte) 0xff, '}'});
        assertThatThrownBy(() -> LoRA.readSettings(a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(own + ": cannot read: not UTF-8 text");
        Files.writeString(own, "{\"rank\": ");
        assertThatThrownBy(() -> LoRA.readSettings(a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(own + ": not valid JSON: ").satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        // a folder or a symlink loop in its place was passed over for adapter_config.json: "no myllm-lora.json and no 'myllm_lora' key"
        Files.delete(own);
        Files.createDirectory(own);
        assertThatThrownBy(() -> LoRA.readSettings(a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(own + ": cannot read: Is a directory");
        Files.delete(own);
        Files.createSymbolicLink(own, own);
        assertThatThrownBy(() -> LoRA.readSettings(a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(own + ": cannot read: ").hasMessageContaining("symbolic links")
                .satisfies(e -> assertThat(e.getMessage().indexOf(own.toString(), 1)).as(e.getMessage()).isEqualTo(-1));
    }

    @Test
    void anAdapterConfigThatCannotBeReadIsNamedOnceWithTheReason() throws Exception {
        Path bad = copyOf(PEFT.resolve("lora"), "unreadable", t -> { });
        Path cf = bad.resolve(LoRA.CONFIG);
        // it said "A/adapter_config.json: cannot read: Invalid UTF-8 start byte 0xff", and "cannot read" of JSON it had read
        Files.write(cf, new byte[]{'{', (byte) 0xff, '}'});
        refused(bad, cf + ": cannot read: not UTF-8 text");
        Files.writeString(cf, "{\"peft_type\": ");
        refused(bad, cf + ": not valid JSON: Unexpected end-of-input");
    }

    @Test
    void anUntiedHeadTakesItsUpdateAsPeftMergesIt() throws Exception {
        // tools/peft_reference.py: the tiny base with its own lm_head, saved by transformers; the adapter targets lm_head too
        JsonNode e = expected(), want = e.get("adapters").get("untied");
        Path base = PEFT.resolve("gpt2-tiny-untied");
        GPTModel m = ModelDirectory.load(base);
        assertThat(m.config().tiedHead()).isFalse();
        assertThat(worst(m, e.get("untied_base_logits"))).isLessThan(1e-4);
        PeftAdapter a = PeftAdapter.read(PEFT.resolve("untied"));
        assertThat(a.updates()).hasSize(9).containsKey("lm_head");
        want.get("scaling").fields().forEachRemaining(s -> assertThat(a.updates().get(s.getKey()).scale()).as(s.getKey()).isEqualTo(s.getValue().asDouble()));
        float[] head = m.outputHead().weight().data().clone();
        a.mergeInto(m);
        assertThat(m.outputHead().weight().data()).as("the head changed").isNotEqualTo(head);
        assertThat(worst(m, want.get("logits"))).isLessThan(1e-4);
    }

    @Test
    void aHeadWeightSavedPeftsDefaultWayReplacesTheBaseHeadBeforeTheUpdate() throws Exception {
        // tools/peft_reference.py: lm_head targeted and its own weight changed (as a retrained head), saved with
        // save_embedding_layers="auto", which writes it as lm_head.base_layer.weight; PEFT loaded that on the base and merged
        JsonNode e = expected(), want = e.get("adapters").get("untied-default");
        Path base = PEFT.resolve("gpt2-tiny-untied"), dir = PEFT.resolve("untied-default");
        Tensor saved = Safetensors.read(dir.resolve(LoRA.WEIGHTS)).get("base_model.model.lm_head.base_layer.weight");
        GPTModel m = ModelDirectory.load(base);
        assertThat(saved.data()).as("the saved head is not the base's").isNotEqualTo(m.outputHead().weight().data());
        PeftAdapter a = PeftAdapter.read(dir);
        assertThat(a.updates()).hasSize(9);
        assertThat(a.updates().get("lm_head").base().data()).containsExactly(saved.data());
        assertThat(a.updates().get("transformer.h.0.attn.c_attn").base()).isNull();
        a.mergeInto(m);
        assertThat(worst(m, want.get("logits"))).isLessThan(1e-4);
        // the update alone on the base's head misses PEFT by far: the saved head made the difference
        GPTModel kept = ModelDirectory.load(base);
        PeftAdapter.read(PEFT.resolve("untied")).mergeInto(kept);
        assertThat(worst(kept, want.get("logits"))).isGreaterThan(0.1);

        // a head weight of the wrong shape, or without the head's LoRA weights, is refused and the model stays as it was
        Path wrong = copyOf(dir, "wronghead", t -> t.put("base_model.model.lm_head.base_layer.weight", Tensor.zeros(66, 32)));
        GPTModel u = ModelDirectory.load(base);
        float[] head = u.outputHead().weight().data().clone(), attn = u.block(0).attn().cAttn().weight().data().clone();
        assertThatThrownBy(() -> PeftAdapter.read(wrong).mergeInto(u)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adapter_model.safetensors: tensor 'base_model.model.lm_head.base_layer.weight' has shape [66, 32], expected [67, 32]")
                .satisfies(x -> assertThat(x.getMessage()).doesNotContain("\n"));
        assertThat(u.outputHead().weight().data()).containsExactly(head);
        assertThat(u.block(0).attn().cAttn().weight().data()).containsExactly(attn);
        refused(copyOf(dir, "headonly", t -> {
            t.remove("base_model.model.lm_head.lora_A.weight");
            t.remove("base_model.model.lm_head.lora_B.weight");
        }), "tensor 'base_model.model.lm_head.base_layer.weight' without 'base_model.model.lm_head.lora_A.weight'");
        // on a tied head the refusal stays the tied head's; other base weights stay unexpected
        refused(copy("tiedbase", t -> {
            t.put("base_model.model.lm_head.lora_A.weight", Tensor.zeros(4, 32));
            t.put("base_model.model.lm_head.lora_B.weight", Tensor.zeros(67, 4));
            t.put("base_model.model.lm_head.base_layer.weight", Tensor.zeros(67, 32));
        }, c -> { }), "module 'lm_head' (the model's head is tied to the token embedding");
        refused(copy("otherbase", t -> t.put("base_model.model.transformer.h.0.attn.c_attn.base_layer.weight", Tensor.zeros(96, 32)), c -> { }),
                "unexpected tensor 'base_model.model.transformer.h.0.attn.c_attn.base_layer.weight'");
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
        // something else in a file's place was "no adapter_config.json (not a PEFT adapter directory)": say what is there
        Path odd = copy("dirs", t -> { }, c -> { });
        Files.delete(odd.resolve(LoRA.CONFIG));
        Files.createDirectory(odd.resolve(LoRA.CONFIG));
        refused(odd, odd.resolve(LoRA.CONFIG) + ": is a directory");
        Files.delete(odd.resolve(LoRA.CONFIG));
        Files.createSymbolicLink(odd.resolve(LoRA.CONFIG), Path.of(LoRA.CONFIG));
        refused(odd, odd.resolve(LoRA.CONFIG) + ": Too many levels of symbolic links");
        Path oddWeights = copy("dirs2", t -> { }, c -> { });
        Files.delete(oddWeights.resolve(LoRA.WEIGHTS));
        Files.createDirectory(oddWeights.resolve(LoRA.WEIGHTS));
        refused(oddWeights, oddWeights.resolve(LoRA.WEIGHTS) + ": is a directory");
    }

    private void refused(Path adapter, String message) {
        GPTModel m = ModelDirectory.load(BASE);
        float[] before = m.block(0).attn().cAttn().weight().data().clone();
        assertThatThrownBy(() -> PeftAdapter.read(adapter).mergeInto(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message).satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(m.block(0).attn().cAttn().weight().data()).as("a refused adapter leaves the model as it was").containsExactly(before);
    }

    /** A copy of the adapter in {@code src} with its tensors edited. */
    private Path copyOf(Path src, String name, Consumer<Map<String, Tensor>> tensors) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(src.resolve(LoRA.WEIGHTS)));
        tensors.accept(t);
        Safetensors.write(d.resolve(LoRA.WEIGHTS), t, Map.of("format", "pt"));
        Files.copy(src.resolve(LoRA.CONFIG), d.resolve(LoRA.CONFIG));
        return d;
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
