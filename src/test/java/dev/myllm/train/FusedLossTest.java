package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A GPT's loss with the head fused into the cross-entropy equals the loss of its full logits, bit for bit. */
class FusedLossTest {
    /** The loss and every parameter's gradient. */
    private static List<float[]> lossAndGrads(GPTModel m, boolean fused, int[] ids, int[] targets, int b, int t) {
        List<float[]> out = new ArrayList<>();
        m.zeroGrad();
        try (Arena a = Arena.open()) {
            Tensor loss = fused ? LanguageModel.of(m).loss(ids, b, t, targets)
                    : Ops.crossEntropy(m.forward(ids, b, t), targets);
            out.add(new float[]{loss.item()});
            loss.backward();
        }
        for (Tensor p : m.parameters()) out.add(p.grad().toArray());
        return out;
    }

    @Test
    void tiedAndUntiedHeadsSmallAndLargeBatches() {
        for (boolean tied : new boolean[]{true, false}) {
            GPTConfig cfg = new GPTConfig(600, 150, 16, 2, 1, 0f, true, tied, 1e-5f);
            GPTModel m = RandomModels.uniform(cfg, 3);
            // 2 × 20 tokens keep the probabilities; 2 × 150 fold chunks of 256 rows into the gradients
            for (int t : new int[]{20, 150}) {
                Rng r = new Rng(t);
                int[] ids = new int[2 * t], targets = new int[2 * t];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = r.nextInt(600);
                    targets[i] = i % 7 == 3 ? Ops.IGNORE_INDEX : r.nextInt(600);
                }
                List<float[]> ref = lossAndGrads(m, false, ids, targets, 2, t), fused = lossAndGrads(m, true, ids, targets, 2, t);
                for (int i = 0; i < ref.size(); i++) {
                    assertThat(fused.get(i)).as("tied=%s T=%d tensor %d", tied, t, i).isEqualTo(ref.get(i));
                }
            }
        }
    }
}
