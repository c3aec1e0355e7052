package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.tensor.LinearCrossEntropy.Plan;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The output head fused with cross-entropy against the unfused {@code linear} + {@code crossEntropy} pair. */
class LinearCrossEntropyTest {
    private static final int IGN = Ops.IGNORE_INDEX;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private static int[] targets(Rng r, int n, int v, boolean ignoreSome) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = ignoreSome && i % 5 == 2 ? IGN : r.nextInt(v);
        return t;
    }

    /** Loss, then the gradients of x, W and b (null where not required), as floats. */
    private static List<float[]> run(boolean fused, Plan plan, boolean simd, float upstream, Tensor x, Tensor w, Tensor b, int[] t) {
        for (Tensor p : new Tensor[]{x, w, b}) if (p != null) p.clearGrad();
        List<float[]> out = new ArrayList<>();
        try (Arena a = Arena.open()) {
            Tensor loss = fused ? LinearCrossEntropy.apply(x, w, b, t, IGN, plan, simd)
                    : Ops.crossEntropy(Ops.linear(x, w, b), t);
            out.add(new float[]{loss.item()});
            (upstream == 1f ? loss : loss.scale(upstream)).backward();
        }
        for (Tensor p : new Tensor[]{x, w, b}) out.add(p == null || p.grad() == null ? null : p.grad().toArray());
        return out;
    }

    private static void assertSameBits(String what, List<float[]> expected, List<float[]> actual) {
        for (int i = 0; i < expected.size(); i++) assertThat(actual.get(i)).as("%s: tensor %d", what, i).isEqualTo(expected.get(i));
    }

    private static void assertClose(String what, List<float[]> expected, List<float[]> actual, double tol) {
        for (int i = 0; i < expected.size(); i++) {
            if (expected.get(i) == null) {
                assertThat(actual.get(i)).as(what).isNull();
                continue;
            }
            KernelTestSupport.assertClose(what + " tensor " + i, expected.get(i), actual.get(i), tol, tol);
        }
    }

    @Test
    void bothPlansGiveTheUnfusedBitsOnSeveralChunks() {
        // 600 rows: chunks of 256, 256 and 88; V and C not multiples of the vector length
        Rng r = new Rng(5);
        int n = 600, c = 40, v = 301;
        Tensor x = Tensor.normal(r, 0, 1, 2, n / 2, c).requiresGrad(true);
        Tensor w = Tensor.normal(r, 0, 0.3f, v, c).requiresGrad(true);
        Tensor b = Tensor.normal(r, 0, 0.3f, v).requiresGrad(true);
        int[] t = targets(r, n, v, true);
        List<float[]> ref = run(false, null, Simd.ENABLED, 1f, x, w, b, t);
        for (Plan p : new Plan[]{Plan.KEEP_PROBS, Plan.FOLD}) {
            assertSameBits(p.toString(), ref, run(true, p, Simd.ENABLED, 1f, x, w, b, t));
        }
        // no bias, as GPT's head
        List<float[]> refNoBias = run(false, null, Simd.ENABLED, 1f, x, w, null, t);
        assertSameBits("FOLD no bias", refNoBias, run(true, Plan.FOLD, Simd.ENABLED, 1f, x, w, null, t));
    }

    @Test
    void packedHeadsGiveTheUnfusedLossOfTheirOwnLogits() {
        // score and evaluation with packed inference weights: one chunk of logits at a time, the same bits as
        // the whole (N, V) logits of the same packed matrix; float32 packed, the same bits as the float32 array
        Rng r = new Rng(8);
        int n = 600, c = 64, v = 301;
        Tensor x = Tensor.normal(r, 0, 1, 2, n / 2, c);
        float[] w = Tensor.normal(r, 0, 0.3f, v, c).data();
        int[] t = targets(r, n, v, true);
        try (GradMode g = GradMode.noGrad()) {
            for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F32, PackedMatrix.Format.F16, PackedMatrix.Format.Q8_0}) {
                PackedMatrix packed = PackedMatrix.encode(f, w, v, c);
                float fused = Ops.linearCrossEntropy(x, packed, t).item();
                float unfused = Ops.crossEntropy(packed.linear(x, null).reshape(n, v), t).item();
                assertThat(Float.floatToIntBits(fused)).as(f.toString()).isEqualTo(Float.floatToIntBits(unfused));
                assertThat(fused).as(f.toString()).isBetween(1f, 20f);
            }
            float f32 = Ops.linearCrossEntropy(x, PackedMatrix.encode(PackedMatrix.Format.F32, w, v, c), t).item();
            float array = Ops.linearCrossEntropy(x, Tensor.of(w, v, c), null, t).item();
            assertThat(Float.floatToIntBits(f32)).isEqualTo(Float.floatToIntBits(array));
        }
        assertThatThrownBy(() -> Ops.linearCrossEntropy(Tensor.zeros(3, 7), PackedMatrix.encode(PackedMatrix.Format.F32, w, v, c), new int[3]))
                .hasMessageContaining("packed weight");
    }

    @Test
    void upstreamGradientScalesTheResult() {
        // grad accumulation backpropagates loss / accum: both plans scale the gradient made for an upstream 1,
        // KEEP_PROBS before the head's products (exact for a power of two), FOLD after them
        Rng r = new Rng(6);
        int n = 300, c = 24, v = 97;
        Tensor x = Tensor.normal(r, 0, 1, n, c).requiresGrad(true);
        Tensor w = Tensor.normal(r, 0, 0.3f, v, c).requiresGrad(true);
        int[] t = targets(r, n, v, false);
        List<float[]> ref = run(false, null, Simd.ENABLED, 0.25f, x, w, null, t);
        assertSameBits("KEEP_PROBS", ref, run(true, Plan.KEEP_PROBS, Simd.ENABLED, 0.25f, x, w, null, t));
        assertClose("FOLD", ref, run(true, Plan.FOLD, Simd.ENABLED, 0.25f, x, w, null, t), 1e-6);
        for (boolean simd : new boolean[]{true, false}) {
            List<float[]> refTwin = run(false, null, simd, 1f / 3, x, w, null, t);
            assertClose("KEEP_PROBS 1/3 simd=" + simd, refTwin, run(true, Plan.KEEP_PROBS, simd, 1f / 3, x, w, null, t), 1e-6);
        }
    }

    @Test
    void awkwardSizesScalarTwinAndFrozenInputs() {
        Rng r = new Rng(7);
        for (int n : new int[]{1, 3, 5, 257, 260, 261, 513}) {
            for (int[] cv : new int[][]{{1, 1}, {3, 17}, {13, 33}}) {
                int c = cv[0], v = cv[1];
                Tensor x = Tensor.normal(r, 0, 1, n, c).requiresGrad(true);
                Tensor w = Tensor.normal(r, 0, 0.5f, v, c).requiresGrad(true);
                Tensor b = Tensor.normal(r, 0, 0.5f, v).requiresGrad(true);
                int[] t = targets(r, n, v, true);
                if (n == 1) t[0] = 0;
                List<float[]> ref = run(false, null, Simd.ENABLED, 1f, x, w, b, t);
                String what = "n=" + n + " c=" + c + " v=" + v;
                for (Plan p : new Plan[]{Plan.KEEP_PROBS, Plan.FOLD}) {
                    assertClose(what + " " + p + " simd", ref, run(true, p, true, 1f, x, w, b, t), 2e-6);
                    assertClose(what + " " + p + " scalar", ref, run(true, p, false, 1f, x, w, b, t), 2e-6);
                }
                // a frozen weight (LoRA, a frozen head): only x gets a gradient
                w.requiresGrad(false);
                List<float[]> frozen = run(true, Plan.FOLD, Simd.ENABLED, 1f, x, w, null, t);
                assertThat(frozen.get(2)).isNull();
                KernelTestSupport.assertClose(what + " frozen dx", run(false, null, Simd.ENABLED, 1f, x, w, null, t).get(1),
                        frozen.get(1), 2e-6, 2e-6);
            }
        }
    }

    @Test
    void withoutGradientsOnlyTheLossIsComputed() {
        Rng r = new Rng(8);
        int n = 700, c = 16, v = 1000;
        Tensor x = Tensor.normal(r, 0, 1, n, c);
        Tensor w = Tensor.normal(r, 0, 0.5f, v, c);
        int[] t = targets(r, n, v, true);
        float ref;
        try (Arena a = Arena.open()) {
            ref = Ops.crossEntropy(Ops.linear(x, w, null), t).item();
        }
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            Tensor loss = Ops.linearCrossEntropy(x, w, null, t);
            assertThat(loss.item()).isEqualTo(ref);
            // one chunk of logits (256 rows) plus small things; the unfused pair needs all 700 rows
            assertThat(a.buffersTaken()).isEqualTo(1);
        }
        assertThat(Arena.pooled((LinearCrossEntropy.CHUNK + 4) * v)).isEqualTo(1);
    }

    @Test
    void planHoldsTheFewerFloats() {
        // gpt2-small's head: 4×64 tokens keep the probabilities, 8×256 fold into the gradients
        assertThat(LinearCrossEntropy.cheaper(256, 50257, 768, true, true, false)).isEqualTo(Plan.KEEP_PROBS);
        assertThat(LinearCrossEntropy.cheaper(2048, 50257, 768, true, true, false)).isEqualTo(Plan.FOLD);
        // a frozen head folds already at small batches
        assertThat(LinearCrossEntropy.cheaper(512, 50257, 768, true, false, false)).isEqualTo(Plan.FOLD);
    }

    @Test
    void ignoreIndexAndBadTargets() {
        Tensor x = GradCheck.param(1, 3, 4), w = GradCheck.param(2, 5, 4);
        Tensor all = Ops.linearCrossEntropy(x, w, null, new int[]{IGN, IGN, IGN});
        assertThat(all.item()).isNaN();
        all.backward();
        assertThat(x.grad()).isNull();
        assertThatThrownBy(() -> Ops.linearCrossEntropy(x, w, null, new int[]{0, 5, 1}))
                .hasMessageContaining("target 5 outside vocabulary of 5");
        assertThatThrownBy(() -> Ops.linearCrossEntropy(x, w, null, new int[]{0, 1}))
                .hasMessageContaining("3 rows").hasMessageContaining("2 targets");
        assertThatThrownBy(() -> Ops.linearCrossEntropy(x, GradCheck.param(3, 5, 3), null, new int[]{0, 1, 2}))
                .hasMessageContaining("linearCrossEntropy");
    }

    @Test
    void gradientCheckOfBothPlans() {
        int[] t = {3, IGN, 0, 6, 2, 6};
        for (Plan p : new Plan[]{Plan.KEEP_PROBS, Plan.FOLD}) {
            GradCheck.check("linearCrossEntropy " + p, f -> LinearCrossEntropy.apply(f[0], f[1], f[2], t, IGN, p, Simd.ENABLED),
                    GradCheck.param(60, 2, 3, 5), GradCheck.param(61, 7, 5), GradCheck.param(62, 7));
        }
    }

    @Test
    void sameBitsOnOneAndTwoThreads() {
        Rng r = new Rng(9);
        int n = 530, c = 48, v = 211;
        Tensor x = Tensor.normal(r, 0, 1, n, c).requiresGrad(true);
        Tensor w = Tensor.normal(r, 0, 0.3f, v, c).requiresGrad(true);
        int[] t = targets(r, n, v, true);
        for (Plan p : new Plan[]{Plan.KEEP_PROBS, Plan.FOLD}) {
            Parallel.setThreads(1);
            List<float[]> one = run(true, p, Simd.ENABLED, 1f, x, w, null, t);
            Parallel.setThreads(3);
            assertSameBits(p + " 3 threads", one, run(true, p, Simd.ENABLED, 1f, x, w, null, t));
        }
    }
}
