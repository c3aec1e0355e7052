package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.generate.GenerationConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code Myllm.loadForInference}: the weights packed as {@code myllm generate --dtype} keeps them, the same text. */
class MyllmInferenceTest {
    private static final String PROMPT = "Every effort moves you";

    @Test
    void decodesAsGenerateDoesInEachType(@TempDir Path dir) {
        Path model = dir.resolve("model"), gguf = dir.resolve("model.gguf");
        MyllmTest.tiny().save(model);
        MyllmTest.cli("export", "--model", model.toString(), "--format", "gguf", "--out", gguf.toString());
        for (Path source : List.of(model, gguf)) {
            for (String type : List.of("f32", "q8_0")) {
                Myllm llm = Myllm.loadForInference(source, type);
                String text = llm.generate(PROMPT, GenerationConfig.greedy(10)).text();
                List<String> cmd = new ArrayList<>(List.of("generate", "--model", source.toString(), "--prompt", PROMPT, "--max-new-tokens", "10"));
                if (!type.equals("f32") || source == gguf) cmd.addAll(List.of("--dtype", type));
                assertThat(PROMPT + text + System.lineSeparator()).as("%s %s", source.getFileName(), type).isEqualTo(MyllmTest.cli(cmd.toArray(String[]::new)));
                assertThat(llm.score(PROMPT).perplexity()).isFinite();
                // the text so far and more: this call goes on from the last one's prefill, and says what a new model would
                String more = PROMPT + text + " and then";
                assertThat(llm.generate(more, GenerationConfig.greedy(10)).text()).as("%s %s, continued", source.getFileName(), type)
                        .isEqualTo(Myllm.loadForInference(source, type).generate(more, GenerationConfig.greedy(10)).text());
            }
        }
        // the prompt format saved with the model comes along (myllm generate would wrap the prompt in it)
        SavedFormat.write(model, PromptFormat.PHI3);
        assertThat(Myllm.loadForInference(model, "q8_0").promptFormat()).contains(PromptFormat.PHI3);
        // float32 panels against float32 rows: the same weights summed in another order
        float[] rows = Myllm.load(model).embed(PROMPT), panels = Myllm.loadForInference(model, "f32").embed(PROMPT);
        for (int i = 0; i < rows.length; i++) assertThat(panels[i]).isCloseTo(rows[i], org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void whatItCannotDoIsOneLine(@TempDir Path dir) {
        Path model = dir.resolve("model");
        MyllmTest.tiny().save(model);
        Myllm llm = Myllm.loadForInference(model, "q8_0");
        assertThatThrownBy(() -> llm.save(dir.resolve("again"))).isInstanceOf(IllegalStateException.class)
                .hasMessage("this model was loaded for inference: its float32 weights are gone, so it cannot be saved (load it with load)");
        assertThatThrownBy(() -> Myllm.loadForInference(model, "int3")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dtype: unknown type 'int3'; choose f32, f16, bf16, q8_0, q4_0 or q4_1");
        assertThatThrownBy(() -> Myllm.loadForInference(dir.resolve("nope"), "f32")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no such model directory or file: " + dir.resolve("nope"));
        assertThatThrownBy(() -> Myllm.loadForInference(model.resolve("config.json"), "f32")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("config.json: not a model directory or GGUF file (an llm.c checkpoint loads with load)");
    }
}
