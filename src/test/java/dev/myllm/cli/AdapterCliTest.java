package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.Myllm;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.Npy;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code --adapter}: a PEFT adapter made by PEFT merged when loading (against PEFT's merged logits),
 * and our own LoRA run's {@code model/adapter/} on its base model giving the run's merged model in the run's prompt format.
 */
class AdapterCliTest {
    static final Path TINY = Path.of("src/test/resources/golden/gpt2-tiny");
    static final Path PEFT = Path.of("src/test/resources/peft");

    @TempDir
    static Path dir;
    static Path base;
    static Path run;

    /** A small model with its own vocabulary (no prompt format) and a short LoRA instruction-tuning run from it in Phi-3's format. */
    @BeforeAll
    static void loraRun() {
        base = FinetuneInstructCliTest.tinyBase(dir.resolve("base"));
        run = dir.resolve("run");
        CliRun r = CliRun.run("finetune", "instruct", "--model", base.toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "3", "--eval-batches", "1", "--lr", "1e-2", "--trainable", "lora", "--lora-rank", "4", "--lora-alpha", "8",
                "--format", "phi3", "--steps", "3", "--out", run.toString());
        assertThat(r.code()).as(r.err()).isZero();
    }

    @Test
    void exportWithAPeftAdapterWritesPeftsMergedModel() throws Exception {
        Path out = dir.resolve("merged-peft");
        CliRun r = CliRun.run("export", "--model", TINY.toString(), "--adapter", PEFT.resolve("lora").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("+ adapter ");
        JsonNode e = new ObjectMapper().readTree(PEFT.resolve("expected.json").toFile());
        int[] ids = new int[e.get("ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = e.get("ids").get(i).asInt();
        GPTModel m = ModelDirectory.load(out);
        m.eval();
        float[] got;
        try (var g = GradMode.noGrad()) {
            got = m.forward(ids, 1, ids.length).toArray();
        }
        JsonNode want = e.get("adapters").get("lora").get("logits");
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < 67; j++) assertThat(Math.abs(got[t * 67 + j] - want.get(t).get(j).asDouble())).isLessThan(1e-4);
        }
    }

    @Test
    void ourRunsAdapterOnItsBaseIsTheRunsMergedModel() {
        Path adapter = run.resolve("model/adapter");
        Path out = dir.resolve("merged-own");
        CliRun r = CliRun.run("export", "--model", base.toString(), "--adapter", adapter.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Tensor> want = Safetensors.read(run.resolve("model/model.safetensors"));
        Map<String, Tensor> before = Safetensors.read(base.resolve(ModelDirectory.WEIGHTS));
        assertSameWeights(out, run.resolve("model"));
        // the copy chats as the run's model does: in the run's format, which the base model does not have
        assertThat(SavedFormat.read(out)).isEqualTo(PromptFormat.PHI3);
        // the run did move the weights: the comparison is not of two copies of the base
        assertThat(before.get("h.0.attn.c_attn.weight").data()).isNotEqualTo(want.get("h.0.attn.c_attn.weight").data());
        // the library: the same weights
        GPTModel lib = Myllm.loadWithAdapter(base, adapter).model();
        GPTModel merged = ModelDirectory.load(run.resolve("model"));
        assertThat(lib.parameters()).hasSameSizeAs(merged.parameters());
        for (int i = 0; i < merged.parameters().size(); i++) {
            assertThat(java.util.Arrays.mismatch(lib.parameters().get(i).data(), merged.parameters().get(i).data())).as("parameter " + i).isEqualTo(-1);
        }
    }

    /**
     * The merge at load does the run's arithmetic bit for bit under either scale rule, with factors
     * a float cannot hold (7/3, and 0.3 as the printed book's α).
     */
    @ParameterizedTest
    @CsvSource({"alpha/rank, 3, 7", "alpha, 3, 0.3"})
    void ourRunsAdapterMergesBitForBitUnderEitherScaleRule(String rule, String rank, String alpha) {
        Path r = dir.resolve("run-" + rule.replace('/', '-'));
        CliRun t = CliRun.run("finetune", "instruct", "--model", base.toString(), "--data", "synthetic", "--synthetic-size", "40",
                "--eval-every", "2", "--eval-batches", "1", "--lr", "1e-2", "--trainable", "lora", "--lora-rank", rank, "--lora-alpha", alpha,
                "--lora-scale", rule, "--steps", "2", "--out", r.toString());
        assertThat(t.code()).as(t.err()).isZero();
        Path out = dir.resolve("merged-" + rule.replace('/', '-'));
        CliRun e = CliRun.run("export", "--model", base.toString(), "--adapter", r.resolve("model/adapter").toString(), "--out", out.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertSameWeights(out, r.resolve("model"));
    }

    /** Every tensor of {@code got}'s weights file equals {@code want}'s, bit for bit. */
    private static void assertSameWeights(Path got, Path want) {
        Map<String, Tensor> w = Safetensors.read(want.resolve(ModelDirectory.WEIGHTS)), g = Safetensors.read(got.resolve(ModelDirectory.WEIGHTS));
        assertThat(g.keySet()).isEqualTo(w.keySet());
        for (String k : w.keySet()) {
            float[] x = g.get(k).data(), y = w.get(k).data();
            int i = java.util.Arrays.mismatch(x, y); // compares float bits: -0 and 0 differ
            assertThat(i).as("%s first differs at %d: %s, want %s", k, i, i < 0 || i >= x.length ? "-" : x[i], i < 0 || i >= y.length ? "-" : y[i]).isEqualTo(-1);
        }
    }

    @Test
    void ourRunsAdapterBringsItsPromptFormatAndFormatStillWins() throws Exception {
        Path adapter = run.resolve("model/adapter");
        assertThat(SavedFormat.read(adapter)).isEqualTo(PromptFormat.PHI3);
        assertThat(SavedFormat.read(base)).isNull();
        assertThat(chatFormat("--model", base.toString())).isEqualTo("alpaca");
        assertThat(chatFormat("--model", base.toString(), "--adapter", adapter.toString())).isEqualTo("phi3");
        assertThat(chatFormat("--model", base.toString(), "--adapter", adapter.toString(), "--format", "alpaca")).isEqualTo("alpaca");
        // generate formats --prompt as the run's model does (the same prompt tokens); the base alone continues the bare text
        int merged = generatedPromptTokens("--model", run.resolve("model").toString());
        assertThat(generatedPromptTokens("--model", base.toString(), "--adapter", adapter.toString())).isEqualTo(merged);
        assertThat(generatedPromptTokens("--model", base.toString())).isLessThan(merged);
        assertThat(generatedPromptTokens("--model", base.toString(), "--adapter", adapter.toString(), "--raw")).isLessThan(merged);
        CliRun info = CliRun.run("info", "--model", base.toString(), "--adapter", adapter.toString());
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("prompt format     phi3");
        // a GGUF export carries it too
        Path gguf = dir.resolve("adapted.gguf");
        CliRun g = CliRun.run("export", "--model", base.toString(), "--adapter", adapter.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(SavedFormat.read(gguf)).isEqualTo(PromptFormat.PHI3);
        // the library
        assertThat(Myllm.loadWithAdapter(base, adapter).promptFormat()).contains(PromptFormat.PHI3);
        assertThat(Myllm.loadForInference(base, adapter, "f32").promptFormat()).contains(PromptFormat.PHI3);
    }

    @Test
    void anAdapterWithoutAFormatKeepsTheBaseModels() throws Exception {
        // our run's adapter without its format file, as PEFT writes adapters: the base's format, or Alpaca when it has none
        Path bare = Files.createDirectories(dir.resolve("bare-adapter"));
        for (String f : new String[]{"adapter_config.json", "adapter_model.safetensors"}) {
            Files.copy(run.resolve("model/adapter").resolve(f), bare.resolve(f));
        }
        assertThat(chatFormat("--model", base.toString(), "--adapter", bare.toString())).isEqualTo("alpaca");
        Path phi3Base = Files.createDirectories(dir.resolve("phi3-base"));
        for (String f : new String[]{ModelDirectory.CONFIG, ModelDirectory.WEIGHTS, dev.myllm.train.GptModelStore.TOKENIZER_FILE}) {
            Files.copy(base.resolve(f), phi3Base.resolve(f));
        }
        SavedFormat.write(phi3Base, PromptFormat.PHI3);
        assertThat(chatFormat("--model", phi3Base.toString(), "--adapter", bare.toString())).isEqualTo("phi3");
        assertThat(Myllm.loadWithAdapter(phi3Base, bare).promptFormat()).contains(PromptFormat.PHI3);
        assertThat(Myllm.loadWithAdapter(base, bare).promptFormat()).isEmpty();
        Path out = dir.resolve("merged-bare");
        CliRun r = CliRun.run("export", "--model", base.toString(), "--adapter", bare.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out.resolve(SavedFormat.FILE)).doesNotExist();
    }

    /** The format {@code chat} says it uses (it leaves at once). */
    private static String chatFormat(String... model) {
        List<String> args = new java.util.ArrayList<>(List.of("chat"));
        args.addAll(List.of(model));
        java.io.InputStream saved = System.in;
        System.setIn(new java.io.ByteArrayInputStream("/exit\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        CliRun r;
        try {
            r = CliRun.run(args.toArray(String[]::new));
        } finally {
            System.setIn(saved);
        }
        assertThat(r.code()).as(r.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^Chatting with .* \\((\\w+) format\\)").matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return m.group(1);
    }

    /** How many tokens {@code generate --stats} says its formatted prompt has. */
    private static int generatedPromptTokens(String... model) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--prompt", "List three colours", "--max-new-tokens", "1", "--stats"));
        args.addAll(List.of(model));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("prompt (\\d+) tokens").matcher(r.err());
        assertThat(m.find()).as(r.err()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void scoreWithAnAdapterAndPackedWeightsScoresAsTheMergedModel() throws Exception {
        Path ids = dir.resolve("ids.txt");
        Files.writeString(ids, "5 17 3 42 66 0 23 9 31 12 58 7 200 301\n");
        for (String dtype : new String[]{"f32", "bf16"}) {
            Path a = dir.resolve("a-" + dtype + ".npy"), b = dir.resolve("b-" + dtype + ".npy");
            CliRun ra = CliRun.run("score", "--model", base.toString(), "--adapter", run.resolve("model/adapter").toString(), "--dtype", dtype,
                    "--ids-file", ids.toString(), "--logits-out", a.toString());
            assertThat(ra.code()).as(ra.err()).isZero();
            CliRun rb = CliRun.run("score", "--model", run.resolve("model").toString(), "--dtype", dtype, "--ids-file", ids.toString(), "--logits-out", b.toString());
            assertThat(rb.code()).as(rb.err()).isZero();
            float[] x = Npy.read(a).data(), y = Npy.read(b).data();
            assertThat(x).hasSameSizeAs(y);
            // bf16 rounds weights that differ in the last float32 bits apart now and then: a looser bound there
            for (int i = 0; i < x.length; i++) assertThat(Math.abs(x[i] - y[i])).as(dtype).isLessThan(dtype.equals("f32") ? 1e-4f : 0.05f);
        }
        // the library, packed
        Myllm packed = Myllm.loadForInference(base, run.resolve("model/adapter"), "f32");
        assertThat(packed.score("List three colours").crossEntropy())
                .isCloseTo(Myllm.load(run.resolve("model")).score("List three colours").crossEntropy(), org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void refusalsAreOneLineWithExitCode2() throws Exception {
        oneLine(CliRun.run("generate", "--preset", "gpt2-tiny", "--adapter", PEFT.resolve("lora").toString(), "--prompt", "Hi"),
                "--adapter applies to a --model (a --preset has random weights to adapt)");
        oneLine(CliRun.run("export", "--model", TINY.toString(), "--adapter", dir.resolve("none").toString(), "--out", dir.resolve("x").toString()),
                "--adapter " + dir.resolve("none") + ": no such adapter directory");
        Path dora = Files.createDirectories(dir.resolve("dora"));
        Files.copy(PEFT.resolve("lora/adapter_model.safetensors"), dora.resolve("adapter_model.safetensors"));
        Files.writeString(dora.resolve("adapter_config.json"),
                Files.readString(PEFT.resolve("lora/adapter_config.json")).replace("\"use_dora\": false", "\"use_dora\": true"));
        oneLine(CliRun.run("score", "--model", base.toString(), "--adapter", dora.toString(), "--text", "List three colours"),
                "--adapter " + dora.resolve("adapter_config.json") + ": 'use_dora' is true; DoRA adapters are not supported");
        oneLine(CliRun.run("serve", "--model", base.toString(), "--adapter", dora.toString()), "'use_dora' is true");
        // "--adapter A/adapter_config.json: cannot read: Invalid UTF-8 start byte 0xff"
        Files.write(dora.resolve("adapter_config.json"), new byte[]{'{', (byte) 0xff, '}'});
        oneLine(CliRun.run("generate", "--model", base.toString(), "--adapter", dora.toString(), "--prompt", "Hi"),
                "myllm: --adapter " + dora.resolve("adapter_config.json") + ": cannot read: not UTF-8 text\n");
        assertThat(dir.resolve("x")).doesNotExist();
        CliRun info = CliRun.run("info", "--model", TINY.toString(), "--adapter", PEFT.resolve("rslora").toString());
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("adapter           " + PEFT.resolve("rslora") + " (PEFT LoRA on 8 modules, merged when loading)");
    }

    private static void oneLine(CliRun r, String message) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(message);
        assertThat(r.err().strip()).doesNotContain("\n");
    }
}
