package dev.myllm.io;

import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static dev.myllm.io.ModelDirectoryTest.TINY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Broken model directories: each is one line naming the file and, where there is one, the tensor. */
class ModelDirectoryHostileTest {
    @TempDir
    Path tmp;
    Path good;
    GPTModel model;
    int count;

    @BeforeEach
    void saveOne() {
        model = ModelDirectoryTest.randomModel(TINY, 1);
        good = tmp.resolve("good");
        ModelDirectory.save(model, good);
    }

    static void rejects(Path dir, String... fragments) {
        Throwable t = catchThrowable(() -> ModelDirectory.load(dir));
        assertThat(t).as("%s", dir).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.getMessage()).contains(fragments).doesNotContain("\n");
        Throwable c = catchThrowable(() -> ModelDirectory.check(dir));
        if (!String.join(" ", fragments).contains("differs") && !String.join(" ", fragments).contains("not zero")) {
            assertThat(c).as("check(%s)", dir).isInstanceOf(IllegalArgumentException.class).hasMessage(t.getMessage());
        }
    }

    /** A copy of the good directory with its config text replaced. */
    Path withConfig(String json) throws IOException {
        Path d = Files.createDirectory(tmp.resolve("c" + count++));
        Files.copy(good.resolve(ModelDirectory.WEIGHTS), d.resolve(ModelDirectory.WEIGHTS));
        Files.writeString(d.resolve(ModelDirectory.CONFIG), json);
        return d;
    }

    /** A copy of the good directory whose tensors (hub names, file layout) are edited first. */
    Path withTensors(Consumer<Map<String, Tensor>> edit) throws IOException {
        Path d = Files.createDirectory(tmp.resolve("t" + count++));
        Files.copy(good.resolve(ModelDirectory.CONFIG), d.resolve(ModelDirectory.CONFIG));
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(good.resolve(ModelDirectory.WEIGHTS)));
        edit.accept(t);
        Safetensors.write(d.resolve(ModelDirectory.WEIGHTS), t, Map.of("format", "pt"));
        return d;
    }

    @Test
    void missingDirectoryOrFiles() throws IOException {
        rejects(tmp.resolve("nowhere"), "nowhere: no such file or directory");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        rejects(empty, empty + ": no config.json");
        Files.copy(good.resolve(ModelDirectory.CONFIG), empty.resolve(ModelDirectory.CONFIG));
        rejects(empty, empty + ": no model.safetensors");
        Files.writeString(empty.resolve("pytorch_model.bin"), "");
        rejects(empty, "convert it to safetensors");
        // something else in the weights' place was "no model.safetensors": say what is there
        Path w = empty.resolve(ModelDirectory.WEIGHTS);
        Files.createDirectory(w);
        rejects(empty, w + ": is a directory");
        Files.delete(w);
        Files.createSymbolicLink(w, w.getFileName());
        rejects(empty, w + ": Too many levels of symbolic links");
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        rejects(file, "plain: not a model directory, GGUF file or llm.c checkpoint");
    }

    @Test
    void invalidConfigs() throws IOException {
        String cfg = Files.readString(good.resolve(ModelDirectory.CONFIG));
        Path d = withConfig("{\"n_embd\": 32,");
        rejects(d, d.resolve("config.json") + ": not valid JSON");
        rejects(withConfig("[1, 2]"), "config.json: not a JSON object");
        rejects(withConfig(cfg.replace("\"n_embd\": 32,", "")), "config.json: missing key 'n_embd'");
        rejects(withConfig(cfg.replace("\"n_embd\": 32", "\"n_embd\": \"32\"")), "'n_embd' must be an integer, got \"32\"");
        rejects(withConfig(cfg.replace("\"n_head\": 4", "\"n_head\": 5")), "config.json: embedding width 32 must be a positive multiple of the 5 heads");
        rejects(withConfig(cfg.replace("\"n_layer\": 2", "\"n_layer\": -1")), "config.json: layers must be positive");
        rejects(withConfig(cfg.replace("\"gpt2\"", "\"llama\"")), "model_type 'llama' is not supported");
        rejects(withConfig(cfg.replace("\"gelu_new\"", "\"relu\"")), "activation_function 'relu'");
        rejects(withConfig(cfg.replace("\"n_inner\": null", "\"n_inner\": 64")), "n_inner 64 is not supported");
        rejects(withConfig(cfg.replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": \"yes\"")),
                "'tie_word_embeddings' must be true or false");
    }

    @Test
    void aConfigThatCannotBeReadIsNamedOnce() throws IOException {
        // it said "D/config.json: cannot read: Input length = 1", and for a file the system refused
        // "D/config.json: cannot read: D/config.json: Too many levels of symbolic links"
        Path d = withConfig("{}");
        Files.write(d.resolve(ModelDirectory.CONFIG), new byte[]{'{', (byte) 0xff, '}'});
        rejects(d, d.resolve("config.json") + ": cannot read: not UTF-8 text");
        Path loop = withConfig("{}");
        Files.delete(loop.resolve(ModelDirectory.CONFIG));
        Files.createSymbolicLink(loop.resolve(ModelDirectory.CONFIG), loop.resolve(ModelDirectory.CONFIG));
        String config = loop.resolve("config.json").toString();
        Throwable t = catchThrowable(() -> ModelDirectory.load(loop));
        assertThat(t).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(config + ": cannot read: ");
        assertThat(t.getMessage().indexOf(config, 1)).as(t.getMessage()).isEqualTo(-1);
    }

    @Test
    void configThatDisagreesWithTheWeights() throws IOException {
        String cfg = Files.readString(good.resolve(ModelDirectory.CONFIG));
        rejects(withConfig(cfg.replace("\"vocab_size\": 67", "\"vocab_size\": 68")),
                "model.safetensors: tensor 'wte.weight' has shape [67, 32], expected [68, 32]");
        rejects(withConfig(cfg.replace("\"n_layer\": 2", "\"n_layer\": 3")), "missing tensors h.2.ln_1.weight, h.2.ln_1.bias");
        rejects(withConfig(cfg.replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false")), "missing tensor lm_head.weight");
        rejects(withConfig(cfg.replace("\"myllm_qkv_bias\": true", "\"myllm_qkv_bias\": false")),
                "tensor 'h.0.attn.c_attn.bias' is not zero but config.json says myllm_qkv_bias: false");
    }

    @Test
    void brokenTensors() throws IOException {
        Path d = withTensors(t -> t.remove("h.1.ln_2.bias"));
        rejects(d, d.resolve("model.safetensors") + ": missing tensor h.1.ln_2.bias for n_embd=32");
        rejects(withTensors(t -> t.put("h.0.mlp.c_fc.weight", Tensor.zeros(128, 32))),
                "tensor 'h.0.mlp.c_fc.weight' has shape [128, 32], expected [32, 128]");
        rejects(withTensors(t -> t.put("h.0.attn.c_attn.weight", Tensor.zeros(32, 96, 1))), "has shape [32, 96, 1], expected [32, 96]");
        rejects(withTensors(t -> t.put("h.0.attn.extra", Tensor.zeros(2))), "unexpected tensor 'h.0.attn.extra'");
        rejects(withTensors(t -> t.put("transformer.wte.weight", t.get("wte.weight").copy())),
                "holds both 'wte.weight' and 'transformer.wte.weight'");
        rejects(withTensors(t -> t.put("lm_head.weight", Tensor.zeros(67, 32))),
                "tensor 'lm_head.weight' differs from the token embedding but config.json ties them");
        rejects(withTensors(t -> t.put("h.7.attn.bias", Tensor.zeros(1))), "unexpected tensor 'h.7.attn.bias'");
    }

    @Test
    void integerTensorsAreNotWeights() throws IOException {
        Path d = withTensors(t -> { });
        var raw = new java.util.ArrayList<ModelDirectoryTest.RawTensor>();
        for (var e : Safetensors.read(good.resolve(ModelDirectory.WEIGHTS)).entrySet()) {
            raw.add(e.getKey().equals("ln_f.bias")
                    ? new ModelDirectoryTest.RawTensor("ln_f.bias", "I64", new int[]{32}, new byte[256])
                    : ModelDirectoryTest.RawTensor.f32(e.getKey(), e.getValue()));
        }
        ModelDirectoryTest.RawTensor.write(d.resolve(ModelDirectory.WEIGHTS), raw);
        rejects(d, "tensor 'ln_f.bias' has dtype I64; weights must be floating point");
    }

    @Test
    void savingNeverLeavesAHalfWrittenDirectory() throws IOException {
        Path target = Files.writeString(tmp.resolve("taken"), "x");
        assertThat(catchThrowable(() -> ModelDirectory.save(model, target))).hasMessageContaining("taken: exists and is not a directory");
        assertThat(catchThrowable(() -> ModelDirectory.save(model, tmp.resolve("i8"), DType.I8))).hasMessageContaining("cannot store weights as I8");
        assertThat(tmp.resolve("i8")).doesNotExist();
        assertThat(tmp).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));
    }
}
