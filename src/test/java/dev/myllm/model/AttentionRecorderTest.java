package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class AttentionRecorderTest {
    // 3 layers, 4 heads of 6 (an awkward head width), 13 tokens
    private static final GPTConfig CFG = new GPTConfig(40, 16, 24, 4, 3, 0f, true, true, 1e-5f);
    private static final int[] IDS = {3, 17, 0, 39, 8, 8, 21, 5, 33, 12, 1, 30, 7};

    @Test
    void weightsAreTheBooksSoftmaxOfScaledScoresOfTheSamePass() {
        GPTModel m = RandomModels.uniform(CFG, 7);
        int t = IDS.length, c = CFG.embDim(), nh = CFG.nHeads(), d = c / nh;
        try (GradMode g = GradMode.noGrad()) {
            Tensor plain = m.forward(IDS, 1, t).copy();
            AttentionRecorder.Recording<Tensor> r = AttentionRecorder.record(CFG.nLayers(), new int[]{0, 2}, () -> m.forward(IDS, 1, t));
            // recording leaves the forward pass's result bit for bit as it was
            assertThat(r.result().data()).containsExactly(plain.data());
            AttentionRecorder w = r.weights();
            assertThat(w.has(0)).isTrue();
            assertThat(w.has(1)).isFalse();
            assertThat(w.has(2)).isTrue();
            assertThat(w.seqLen()).isEqualTo(t);
            assertThat(w.heads(2)).isEqualTo(nh);

            // the book's way (section 3.5): each layer's input by hand, then scores, mask, softmax in double
            Tensor x = m.tokenEmbedding().forward(IDS, 1, t).add(m.positionEmbedding().forward(positions(t), 1, t));
            for (int l = 0; l < CFG.nLayers(); l++) {
                TransformerBlock b = m.block(l);
                float[] qkv = b.attn().cAttn().forward(b.ln1().forward(x)).data();   // (T, 3C)
                if (w.has(l)) {
                    for (int h = 0; h < nh; h++) {
                        for (int i = 0; i < t; i++) {
                            double[] s = new double[i + 1];
                            double max = Double.NEGATIVE_INFINITY, z = 0;
                            for (int j = 0; j <= i; j++) {
                                double dot = 0;
                                for (int e = 0; e < d; e++) dot += (double) qkv[i * 3 * c + h * d + e] * qkv[j * 3 * c + c + h * d + e];
                                s[j] = dot / Math.sqrt(d);
                                max = Math.max(max, s[j]);
                            }
                            for (int j = 0; j <= i; j++) z += s[j] = Math.exp(s[j] - max);
                            double sum = 0;
                            for (int j = 0; j < t; j++) {
                                float got = w.weight(l, h, i, j);
                                if (j > i) {
                                    assertThat(got).as("masked weight l%d h%d (%d, %d)", l, h, i, j).isEqualTo(0f);
                                } else {
                                    assertThat((double) got).as("weight l%d h%d (%d, %d)", l, h, i, j).isCloseTo(s[j] / z, org.assertj.core.data.Offset.offset(2e-6));
                                }
                                sum += got;
                            }
                            assertThat(sum).as("row sum l%d h%d row %d", l, h, i).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
                        }
                    }
                }
                x = b.forward(x);
            }
        }
    }

    @Test
    void weightsRecordedInsideAnArenaScopeAreTheirOwn() {
        // an inference pass inside a scope runs each block in a nested one, whose buffers the next
        // block takes again: what the recorder kept must not be among them
        GPTModel m = RandomModels.uniform(CFG, 11);
        int t = IDS.length;
        try (GradMode g = GradMode.noGrad()) {
            AttentionRecorder outside = AttentionRecorder.record(CFG.nLayers(), new int[]{0, 1, 2}, () -> m.forward(IDS, 1, t)).weights();
            AttentionRecorder inside;
            try (dev.myllm.tensor.Arena a = dev.myllm.tensor.Arena.open()) {
                inside = AttentionRecorder.record(CFG.nLayers(), new int[]{0, 1, 2}, () -> m.forward(IDS, 1, t)).weights();
                m.forward(IDS, 1, t); // another pass in the same scope takes the pool's buffers again
            }
            m.forward(IDS, 1, t);
            for (int l = 0; l < CFG.nLayers(); l++) {
                for (int h = 0; h < CFG.nHeads(); h++) {
                    for (int i = 0; i < t; i++) {
                        for (int j = 0; j < t; j++) {
                            assertThat(inside.weight(l, h, i, j)).as("l%d h%d (%d, %d)", l, h, i, j).isEqualTo(outside.weight(l, h, i, j));
                        }
                    }
                }
            }
        }
    }

    @Test
    void nothingIsRecordedOutsideARecordingAndBadLayersAreRefused() {
        GPTModel m = RandomModels.uniform(CFG, 3);
        assertThat(AttentionRecorder.current()).isNull();
        try (GradMode g = GradMode.noGrad()) {
            AttentionRecorder.record(CFG.nLayers(), new int[]{1}, () -> m.forward(new int[]{1, 2, 3, 4}, 1, 4));
        }
        assertThat(AttentionRecorder.current()).isNull();
        assertThatThrownBy(() -> AttentionRecorder.record(3, new int[]{3}, () -> null)).hasMessageContaining("layer 3 outside [0, 3)");
    }

    private static int[] positions(int t) {
        int[] p = new int[t];
        for (int i = 0; i < t; i++) p[i] = i;
        return p;
    }
}
