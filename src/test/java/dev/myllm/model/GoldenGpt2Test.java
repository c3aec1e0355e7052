package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.Npy;
import dev.myllm.io.ModelDirectory;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Our GPT-2 forward pass against the independent numpy reference of {@code tools/gpt2_reference.py}
 * (a random GPT-2 with random biases and LayerNorm weights, Hugging Face names, Conv1D weights).
 */
class GoldenGpt2Test {
    static final Path DIR = Path.of("src/test/resources/golden/gpt2-tiny");

    @Test
    void logitsMatchTheNumpyReference() {
        GPTModel model = ModelDirectory.load(DIR); // config.json + model.safetensors with Conv1D [in, out] weights
        assertThat(model.config()).isEqualTo(new GPTConfig(67, 16, 32, 4, 2, 0f, true, true, 1e-5f));
        model.eval();
        int[] ids = Npy.readInts(DIR.resolve("ids.npy"));
        Tensor want = Npy.read(DIR.resolve("logits.npy"));
        assertThat(want.shape()).containsExactly(2, 16, 67);
        float[] got;
        try (var g = GradMode.noGrad()) {
            got = model.forward(ids, 2, 16).toArray();
        }
        float scale = 0;
        for (float x : want.data()) scale = Math.max(scale, Math.abs(x));
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.data()[i]) / scale);
        assertThat(worst).as("largest error relative to the largest logit %s", scale).isLessThan(1e-5);
    }

    @Test
    void cachedDecodingMatchesTheReferenceToo() {
        GPTModel model = ModelDirectory.load(DIR);
        int[] ids = Npy.readInts(DIR.resolve("ids.npy"));
        float[] want = Npy.read(DIR.resolve("logits.npy")).data();
        try (var g = GradMode.noGrad()) {
            KVCache cache = model.newCache(1);
            for (int t = 0; t < 16; t++) {
                float[] got = model.forward(new int[]{ids[t]}, 1, 1, cache, true).toArray(); // first sequence, token by token
                for (int v = 0; v < 67; v++) assertThat(Math.abs(got[v] - want[t * 67 + v])).isLessThan(1e-4f);
            }
        }
    }

    @Test
    void embeddingsMatchTheNumpyReference() {
        // tools/embedding_reference.py: the final LayerNorm's output, averaged over the positions, scaled to length 1
        GPTModel model = ModelDirectory.load(DIR);
        model.eval();
        int[] ids = Npy.readInts(DIR.resolve("ids.npy"));
        Tensor want = Npy.read(DIR.resolve("embeddings.npy"));
        assertThat(want.shape()).containsExactly(3, 32);
        int[][] inputs = {java.util.Arrays.copyOfRange(ids, 0, 16), java.util.Arrays.copyOfRange(ids, 16, 32), java.util.Arrays.copyOfRange(ids, 0, 5)};
        for (int e = 0; e < 3; e++) {
            float[] got = model.embedding(inputs[e]);
            double norm = 0;
            for (int j = 0; j < 32; j++) {
                assertThat(Math.abs(got[j] - want.data()[e * 32 + j])).as("input %d, element %d", e, j).isLessThan(1e-5f);
                norm += (double) got[j] * got[j];
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        }
    }
}
