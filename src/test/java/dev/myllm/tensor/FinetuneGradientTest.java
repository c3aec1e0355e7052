package dev.myllm.tensor;

import dev.myllm.finetune.LoRALinear;
import dev.myllm.finetune.Pooling;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of the fine-tuning ops: LoRALinear (one and three pairs) and the pooling ops. */
class FinetuneGradientTest {
    @Test
    void loraLinearSinglePair() {
        LoRALinear l = new LoRALinear(5, 4, 1, 3, 0.7, new Rng(1));
        randomize(l.b(0), 2); // B starts at zero; make it non-zero so every path carries gradient
        Tensor x = GradCheck.param(3, 2, 3, 5);
        GradCheck.check("lora delta (x, A, B)", in -> l.delta(in[0]), x, l.a(0), l.b(0));
    }

    @Test
    void loraLinearFusedQkvPairs() {
        LoRALinear l = new LoRALinear(4, 6, 3, 2, 2.0, new Rng(4));
        for (int i = 0; i < 3; i++) randomize(l.b(i), 10 + i);
        Tensor x = GradCheck.param(5, 3, 4);
        GradCheck.check("lora fused (x, A_q, B_v)", in -> l.delta(in[0]), x, l.a(0), l.b(2));
        GradCheck.check("lora fused (A_k, B_k)", in -> l.delta(in[0]), x.detach(), l.a(1), l.b(1));
    }

    @Test
    void loraOnTopOfAFrozenLinear() {
        dev.myllm.nn.Linear base = new dev.myllm.nn.Linear(4, 3, true, new Rng(8));
        base.setTrainable(false);
        LoRALinear l = LoRALinear.attach(base, 1, 2, 0.5, new Rng(9));
        randomize(l.b(0), 11);
        Tensor x = GradCheck.param(12, 2, 4);
        GradCheck.check("linear + lora (x, A, B)", in -> base.forward(in[0]), x, l.a(0), l.b(0));
    }

    @Test
    void poolingSelectAndMean() {
        Tensor x = GradCheck.param(6, 3, 4, 5);
        GradCheck.check("select", in -> Pooling.select(in[0], new int[]{3, 0, 2}), x);
        GradCheck.check("mean", in -> Pooling.mean(in[0]), x);
    }

    private static void randomize(Tensor t, long seed) {
        float[] d = t.data();
        Rng r = new Rng(seed);
        for (int i = 0; i < d.length; i++) d[i] = r.nextFloat() * 2 - 1;
    }
}
