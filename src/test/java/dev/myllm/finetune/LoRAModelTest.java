package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LoRA on a language model for instruction tuning and DPO: adapters off is the base model exactly; merging saves the adapted one. */
class LoRAModelTest {
    static final GPTConfig TINY = new GPTConfig(37, 16, 16, 2, 2, 0f, true, true, 1e-5f);
    static final int[] IDS = {1, 5, 9, 2, 30, 7, 3, 3, 8, 1};

    static void randomizeB(LoRA l) {
        Rng r = new Rng(9);
        for (LoRALinear a : l.layers().values()) {
            for (int i = 0; i < a.blocks(); i++) {
                float[] b = a.b(i).data();
                for (int k = 0; k < b.length; k++) b[k] = (float) (r.nextDouble() - 0.5);
            }
        }
    }

    static Map<String, float[]> weights(GPTModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, v.data().clone()));
        return out;
    }

    @Test
    void referenceIsTheBaseModelAndTheAdaptersComeBack() {
        GPTModel base = RandomModels.uniform(TINY, 4);
        GPTModel m = RandomModels.uniform(TINY, 4);
        LoRAModel lm = new LoRAModel(m, new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), new Rng(2));
        // blocks only: the head is the token embedding, which cannot take its own update
        assertThat(lm.lora().layers()).doesNotContainKey("lm_head").hasSize(4 * TINY.nLayers());
        assertThat(lm.lora().parameterCount()).isEqualTo(LoRA.parameterCount(TINY, 0, 4) - 4L * (TINY.embDim() + TINY.vocabSize()));
        assertThat(m.parameters().stream().noneMatch(Tensor::requiresGrad)).isTrue();
        float[] want = base.forward(IDS, 2, 5).data().clone();
        assertThat(m.forward(IDS, 2, 5).data()).isEqualTo(want); // B = 0: the policy starts as the reference, so DPO starts at ln 2

        randomizeB(lm.lora());
        float[] adapted = m.forward(IDS, 2, 5).data().clone();
        assertThat(adapted).isNotEqualTo(want);
        lm.train(true);
        assertThat(lm.reference().logits(IDS, 2, 5).data()).isEqualTo(want);
        assertThat(lm.isTraining()).isTrue();
        assertThat(m.forward(IDS, 2, 5).data()).isEqualTo(adapted);
    }

    @Test
    void mergedValuesAreTheAdaptedModelAndLeaveTheBaseExactly() {
        for (boolean tied : new boolean[]{true, false}) {
            GPTConfig c = TINY.withTiedHead(tied);
            GPTModel m = RandomModels.uniform(c, 6);
            LoRAModel lm = new LoRAModel(m, new LoRA.Settings(2, 2, LoRA.Scale.ALPHA_OVER_RANK), new Rng(3));
            assertThat(lm.lora().layers().containsKey("lm_head")).isEqualTo(!tied);
            randomizeB(lm.lora());
            Map<String, float[]> before = weights(m);
            float[] adapted = m.forward(IDS, 1, 10).data().clone();
            GPTModel plain = RandomModels.uniform(c, 99);
            var values = lm.lora().mergedValues();
            Map<String, Tensor> merged = new LinkedHashMap<>();
            m.namedParameters().forEach((k, t) -> merged.put(k, Tensor.of(java.util.Arrays.copyOf(values.apply(t), t.size()), t.shape())));
            plain.loadStateDict(merged);
            float[] logits = plain.forward(IDS, 1, 10).data();
            for (int i = 0; i < adapted.length; i++) assertThat((double) logits[i]).as("logit %d", i).isCloseTo(adapted[i], offset(1e-4));
            Map<String, float[]> after = weights(m);
            for (String k : before.keySet()) assertThat(after.get(k)).as(k).isEqualTo(before.get(k));
        }
    }

    @Test
    void loadNamesWhatIsInTheWeightsFilesPlace(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        LoRA l = new LoRAModel(RandomModels.uniform(TINY, 4), new LoRA.Settings(2, 2, LoRA.Scale.ALPHA_OVER_RANK), new Rng(3)).lora();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> l.load(dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(dir + ": no " + LoRA.WEIGHTS);
        // a directory there was said to be no adapter_model.safetensors
        java.nio.file.Path f = java.nio.file.Files.createDirectory(dir.resolve(LoRA.WEIGHTS));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> l.load(dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(f + ": is a directory");
    }
}
