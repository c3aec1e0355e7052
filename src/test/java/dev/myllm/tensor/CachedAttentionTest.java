package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CachedAttentionTest {
    @Test
    void matchesTheFusedCausalAttentionStepByStep() {
        int b = 2, h = 3, t = 7, d = 20, c = h * d, cap = 9;
        Tensor qkv = Tensor.normal(new Rng(1), 0, 1, b, t, 3 * c);
        // reference: split into (B, H, T, D) and run the fused op
        Tensor q = qkv.narrow(2, 0, c).reshape(b, t, h, d).transpose(1, 2);
        Tensor k = qkv.narrow(2, c, c).reshape(b, t, h, d).transpose(1, 2);
        Tensor v = qkv.narrow(2, 2 * c, c).reshape(b, t, h, d).transpose(1, 2);
        float[] want = Ops.causalAttention(q, k, v, 0f, 0).transpose(1, 2).reshape(b, t, c).toArray();
        float[] kc = new float[b * h * cap * d], vc = new float[b * h * cap * d];
        try (var g = GradMode.noGrad()) {
            // prefill 4 tokens, then 1, then 2
            int past = 0;
            for (int n : new int[]{4, 1, 2}) {
                Tensor chunk = qkv.narrow(1, past, n);
                float[] got = CachedAttention.attend(chunk, h, kc, vc, cap, past).toArray();
                for (int bi = 0; bi < b; bi++) {
                    for (int i = 0; i < n * c; i++) {
                        assertThat(got[bi * n * c + i]).isCloseTo(want[(bi * t + past) * c + i], org.assertj.core.data.Offset.offset(1e-5f));
                    }
                }
                past += n;
            }
        }
    }
}
