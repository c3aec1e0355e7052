package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.myllm.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleAndClipTest {
    @Test
    void appendixDWarmupCosineValues() {
        LrSchedule s = new LrSchedule.WarmupCosine(1e-3, 1e-5, 1e-5, 27, 135);
        assertThat(s.lr(0)).isCloseTo(1e-5, within(1e-12));
        assertThat(s.lr(1)).isCloseTo(4.6667e-5, within(1e-9));
        assertThat(s.lr(26)).isCloseTo(9.6333e-4, within(1e-8));
        assertThat(s.lr(27)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.lr(81)).isCloseTo(5.05e-4, within(1e-9));
        assertThat(s.lr(134)).isCloseTo(1.0209e-5, within(1e-9));
    }

    @Test
    void constantAndBadArguments() {
        assertThat(new LrSchedule.Constant(4e-4).lr(1000)).isEqualTo(4e-4);
        assertThatThrownBy(() -> new LrSchedule.WarmupCosine(1e-3, 0, 0, 10, 10)).hasMessageContaining("must exceed");
    }

    @Test
    void aRunsScheduleFollowsWhatWasGiven() {
        // neither warmup nor floor given (negative): the constant rate
        assertThat(LrSchedule.forRun(1e-3, -1, -1, 6)).isEqualTo(new LrSchedule.Constant(1e-3));
        // a warmup alone: from lr/10 up to lr over 2 steps, then half a cosine down towards lr/10 over the 4 left
        LrSchedule w = LrSchedule.forRun(1e-3, -1, 2, 6);
        assertThat(w.lr(0)).isCloseTo(1e-4, within(1e-15));
        assertThat(w.lr(1)).isCloseTo(5.5e-4, within(1e-15));
        assertThat(w.lr(2)).isCloseTo(1e-3, within(1e-15));
        assertThat(w.lr(4)).isCloseTo(5.5e-4, within(1e-15));
        // a floor alone: no warmup, the cosine from lr down to the floor
        LrSchedule f = LrSchedule.forRun(1e-3, 2e-4, -1, 5);
        assertThat(f.lr(0)).isCloseTo(1e-3, within(1e-15));
        assertThat(f.lr(2)).isCloseTo(2e-4 + 8e-4 * 0.5 * (1 + Math.cos(Math.PI * 0.4)), within(1e-15));
        // a warmup longer than the run stops a step before its end
        assertThat(LrSchedule.forRun(1e-3, -1, 10, 4)).isEqualTo(new LrSchedule.WarmupCosine(1e-3, 1e-4, 1e-4, 3, 4));
    }

    @Test
    void fineTuningKeepsOneStepRunsConstantAndReadsNullAsNotGiven() {
        assertThat(dev.myllm.finetune.FineTuning.schedule(5e-5, null, null, 10)).isEqualTo(new LrSchedule.Constant(5e-5));
        assertThat(dev.myllm.finetune.FineTuning.schedule(5e-5, 3L, null, 1)).isEqualTo(new LrSchedule.Constant(5e-5));
        assertThat(dev.myllm.finetune.FineTuning.schedule(5e-5, 3L, null, 10)).isEqualTo(new LrSchedule.WarmupCosine(5e-5, 5e-6, 5e-6, 3, 10));
        assertThat(dev.myllm.finetune.FineTuning.schedule(5e-5, null, 0.0, 10)).isEqualTo(new LrSchedule.WarmupCosine(5e-5, 0, 0, 0, 10));
    }

    @Test
    void clipScalesToMaxNormAndReportsNorm() {
        Tensor a = Tensor.vector(0f, 0f).requiresGrad(true), b = Tensor.vector(0f).requiresGrad(true);
        a.gradBuffer()[0] = 3f;
        a.gradBuffer()[1] = 0f;
        b.gradBuffer()[0] = 4f;
        double norm = GradClip.clip(List.of(a, b), 1.0);
        assertThat(norm).isEqualTo(5.0);
        assertThat(a.gradBuffer()[0]).isCloseTo(0.6f, within(1e-6f));
        assertThat(b.gradBuffer()[0]).isCloseTo(0.8f, within(1e-6f));
        assertThat(GradClip.globalNorm(List.of(a, b))).isCloseTo(1.0, within(1e-6));
        // under the limit nothing changes
        GradClip.clip(List.of(a, b), 2.0);
        assertThat(b.gradBuffer()[0]).isCloseTo(0.8f, within(1e-6f));
    }
}
