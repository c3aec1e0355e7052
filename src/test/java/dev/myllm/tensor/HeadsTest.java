package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HeadsTest {
    @Test
    void splitAndMergeEqualNarrowReshapeTranspose() {
        int b = 2, t = 3, h = 2, d = 4, c = h * d;
        Tensor qkv = Tensor.normal(new Rng(1), 0, 1, b, t, 3 * c);
        Tensor[] parts = Heads.splitQkv(qkv, h);
        for (int p = 0; p < 3; p++) {
            Tensor want = qkv.narrow(2, p * c, c).reshape(b, t, h, d).transpose(1, 2);
            assertThat(parts[p].shape()).containsExactly(b, h, t, d);
            assertThat(parts[p].toArray()).containsExactly(want.toArray());
        }
        Tensor merged = Heads.merge(parts[1]);
        assertThat(merged.toArray()).containsExactly(qkv.narrow(2, c, c).toArray());
    }

    @Test
    void gradients() {
        Tensor qkv = Tensor.normal(new Rng(2), 0, 1, 2, 3, 12).requiresGrad(true);
        // mix the three parts differently so each one's gradient path is checked
        GradCheck.check("splitQkv", in -> {
            Tensor[] p = Heads.splitQkv(in[0], 2);
            return p[0].add(p[1].scale(2f)).add(p[2].scale(-3f));
        }, qkv);
        Tensor x = Tensor.normal(new Rng(3), 0, 1, 2, 2, 3, 4).requiresGrad(true);
        GradCheck.check("merge", in -> Heads.merge(in[0]), x);
    }
}
