package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A forward and backward pass through every fused op gives bitwise the same numbers on 1 and 2 threads. */
class ThreadDeterminismTest {
    private static final int B = 2, T = 24, C = 96, H = 4, V = 131;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** Loss and every gradient, as raw float bits, of a small transformer-shaped graph. */
    private static List<float[]> run(int threads) {
        Parallel.setThreads(threads);
        Rng rng = new Rng(42);
        Tensor wte = Tensor.normal(rng, 0, 0.05f, V, C).requiresGrad(true);
        Tensor lnW = Tensor.uniform(rng, 0.5f, 1.5f, C).requiresGrad(true);
        Tensor lnB = Tensor.normal(rng, 0, 0.1f, C).requiresGrad(true);
        Tensor wQkv = Tensor.normal(rng, 0, 0.1f, 3 * C, C).requiresGrad(true);
        Tensor bQkv = Tensor.normal(rng, 0, 0.1f, 3 * C).requiresGrad(true);
        Tensor wFc = Tensor.normal(rng, 0, 0.1f, 4 * C, C).requiresGrad(true);
        Tensor wProj = Tensor.normal(rng, 0, 0.1f, C, 4 * C).requiresGrad(true);
        int[] ids = new int[B * T], targets = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(V);
            targets[i] = rng.nextInt(V);
        }
        List<float[]> out = new ArrayList<>();
        try (Arena arena = Arena.open()) {
            Tensor x = Ops.embedding(wte, ids, B, T);                                  // (B, T, C)
            Tensor h = Ops.layerNorm(x, lnW, lnB, 1e-5f);
            Tensor qkv = Ops.linear(h, wQkv, bQkv);                                    // (B, T, 3C)
            List<Tensor> parts = qkv.split(C, -1);
            Tensor q = parts.get(0).reshape(B, T, H, C / H).transpose(1, 2);          // (B, H, T, D)
            Tensor k = parts.get(1).reshape(B, T, H, C / H).transpose(1, 2);
            Tensor v = parts.get(2).reshape(B, T, H, C / H).transpose(1, 2);
            Tensor att = Ops.causalAttention(q, k, v, 0.1f, 7).transpose(1, 2).reshape(B, T, C);
            Tensor y = x.add(Ops.linear(Ops.dropout(Ops.gelu(Ops.linear(att, wFc, null)), 0.1f, 9), wProj, null));
            Tensor logits = Ops.linear(y, wte, null);                                  // (B, T, V)
            Tensor loss = Ops.crossEntropy(logits, targets);
            loss.backward();
            out.add(new float[]{loss.item()});
        }
        for (Tensor p : List.of(wte, lnW, lnB, wQkv, bQkv, wFc, wProj)) out.add(p.grad().toArray());
        return out;
    }

    @Test
    void oneAndTwoThreadsAgreeBitwise() {
        List<float[]> one = run(1), two = run(2), three = run(3);
        for (int i = 0; i < one.size(); i++) {
            assertThat(two.get(i)).as("tensor %d with 2 threads", i).isEqualTo(one.get(i));
            assertThat(three.get(i)).as("tensor %d with 3 threads", i).isEqualTo(one.get(i));
        }
        assertThat(one.get(0)[0]).isBetween(4.5f, 5.5f); // about ln(131) ≈ 4.9 for a random model
    }
}
