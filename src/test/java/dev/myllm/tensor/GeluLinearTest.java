package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code geluLinear} gives the bits of {@code linear(gelu(h))} while holding less. */
class GeluLinearTest {
    /** Output, then the gradients of h, W and b (null when frozen), and the arena's peak. */
    private static List<float[]> run(boolean fused, Tensor h, Tensor w, Tensor b, Tensor g) {
        for (Tensor p : new Tensor[]{h, w, b}) if (p != null) p.clearGrad();
        List<float[]> out = new ArrayList<>();
        try (Arena a = Arena.open()) {
            Tensor y = fused ? Ops.geluLinear(h, w, b) : Ops.linear(Ops.gelu(h), w, b);
            out.add(y.toArray());
            y.mul(g).sum().backward();
            out.add(new float[]{a.peakFloats()});
        }
        for (Tensor p : new Tensor[]{h, w, b}) out.add(p == null || p.grad() == null ? null : p.grad().toArray());
        return out;
    }

    @Test
    void sameBitsAsLinearOfGeluOnAwkwardSizes() {
        Rng r = new Rng(3);
        for (int[] s : new int[][]{{1, 1, 1}, {3, 17, 5}, {70, 64, 33}, {300, 40, 20}}) {
            int rows = s[0], in = s[1], out = s[2];
            Tensor h = Tensor.normal(r, 0, 2, rows, in).requiresGrad(true);
            Tensor w = Tensor.normal(r, 0, 0.3f, out, in).requiresGrad(true);
            Tensor b = Tensor.normal(r, 0, 0.3f, out).requiresGrad(true);
            Tensor g = Tensor.normal(r, 0, 1, rows, out);
            for (boolean frozen : new boolean[]{false, true}) {
                w.requiresGrad(!frozen);
                List<float[]> ref = run(false, h, w, frozen ? null : b, g), fused = run(true, h, w, frozen ? null : b, g);
                for (int i : new int[]{0, 2, 3, 4}) {
                    assertThat(fused.get(i)).as("rows=%d in=%d out=%d frozen=%s tensor %d", rows, in, out, frozen, i).isEqualTo(ref.get(i));
                }
                // the GELU output (rows·in floats) is not held through the step
                if (rows * in > 1) assertThat(fused.get(1)[0]).isLessThan(ref.get(1)[0]);
            }
        }
    }

    @Test
    void gradientCheck() {
        GradCheck.check("geluLinear", t -> Ops.geluLinear(t[0], t[1], t[2]), GradCheck.param(70, 2, 3, 5), GradCheck.param(71, 4, 5),
                GradCheck.param(72, 4));
        GradCheck.check("geluLinear no bias", t -> Ops.geluLinear(t[0], t[1], null), GradCheck.param(73, 3, 7), GradCheck.param(74, 2, 7));
    }
}
