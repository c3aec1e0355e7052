package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The instruction loss on the trained positions only gives the book's number and gradients. */
class InstructionLossTest {
    static final GPTConfig TINY = new GPTConfig(37, 16, 16, 2, 2, 0f, true, true, 1e-5f);

    static Map<String, float[]> grads(GPTModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, v.grad() == null ? null : v.grad().data().clone()));
        return out;
    }

    @Test
    void equalsTheFullCrossEntropyWithItsGradients() {
        GPTModel m = RandomModels.uniform(TINY, 11);
        // two rows of 7 collated by the book's rule: prompt targets masked, one EOS target, then -100 padding
        List<int[]> items = List.of(new int[]{3, 4, 5, 6, 7, 8, 9, 10}, new int[]{11, 12, 13, 14, 15});
        Batch b = InstructionCollate.collate(items, new int[]{4, 2}, 36, 0);
        int counted = 0;
        for (int t : b.targets()) if (t != Ops.IGNORE_INDEX) counted++;
        assertThat(counted).isBetween(1, b.targets().length - 1);

        Tensor full = Ops.crossEntropy(m.forward(b.inputs(), b.rows(), b.cols()), b.targets());
        full.backward();
        Map<String, float[]> want = grads(m);
        m.zeroGrad();
        Tensor got = new InstructionLoss(m).loss(b);
        got.backward();
        Map<String, float[]> have = grads(m);

        assertThat((double) got.item()).isCloseTo(full.item(), offset(1e-5));
        for (String k : want.keySet()) {
            float[] w = want.get(k), h = have.get(k);
            for (int i = 0; i < w.length; i++) assertThat((double) h[i]).as("%s[%d]", k, i).isCloseTo(w[i], offset(2e-5));
        }
    }

    @Test
    void rowsPicksAndScattersBack() {
        Tensor x = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true);
        Tensor r = InstructionLoss.rows(x, new int[]{2, 0});
        assertThat(r.data()).containsExactly(5, 6, 1, 2);
        r.scale(2f).sum().backward();
        assertThat(x.grad().data()).containsExactly(2, 2, 0, 0, 2, 2);
    }
}
