package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Autograd behaviour: the book's appendix A example, accumulation, reuse, no-grad, detach, freezing. */
class AutogradTest {

    @Test
    void appendixAExample() {
        // y = 1, x1 = 1.1, w1 = 2.2, b = 0; z = x1·w1 + b; a = σ(z); loss = BCE(a, y) = -log(a)
        Tensor y = Tensor.scalar(1f);
        Tensor x1 = Tensor.scalar(1.1f);
        Tensor w1 = Tensor.scalar(2.2f).requiresGrad(true);
        Tensor b = Tensor.scalar(0f).requiresGrad(true);
        Tensor a = x1.mul(w1).add(b).sigmoid();
        // binary cross-entropy: -(y·log a + (1-y)·log(1-a))
        Tensor one = Tensor.scalar(1f);
        Tensor loss = y.mul(a.log()).add(one.sub(y).mul(one.sub(a).log())).neg();
        loss.backward();
        assertThat(loss.item()).isCloseTo(0.0852f, within(5e-5f));
        assertThat(w1.grad().item()).isCloseTo(-0.0898f, within(5e-5f));
        assertThat(b.grad().item()).isCloseTo(-0.0817f, within(5e-5f));
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        Tensor w = Tensor.vector(1f, 2f).requiresGrad(true);
        w.mul(w).sum().backward();
        w.mul(w).sum().backward();
        assertThat(w.grad().toArray()).containsExactly(4f, 8f);
        w.zeroGrad();
        assertThat(w.grad().toArray()).containsExactly(0f, 0f);
    }

    @Test
    void aTensorUsedTwiceReceivesBothContributions() {
        Tensor x = Tensor.vector(3f).requiresGrad(true);
        Tensor h = x.scale(2f);       // h = 2x, used twice below
        h.mul(h).add(h).sum().backward(); // d/dx (4x² + 2x) = 8x + 2
        assertThat(x.grad().item()).isEqualTo(26f);
    }

    @Test
    void noGradRecordsNothingAndDetachCutsTheGraph() {
        Tensor w = Tensor.vector(1f, 2f).requiresGrad(true);
        try (GradMode g = GradMode.noGrad()) {
            assertThat(w.mul(w).requiresGrad()).isFalse();
        }
        Tensor d = w.mul(w).detach();
        assertThat(d.requiresGrad()).isFalse();
        assertThat(d.toArray()).containsExactly(1f, 4f);
        w.mul(d).sum().backward(); // d treated as a constant
        assertThat(w.grad().toArray()).containsExactly(1f, 4f);
    }

    @Test
    void frozenLeavesGetNoGradient() {
        Tensor frozen = Tensor.vector(1f, 2f).requiresGrad(true).requiresGrad(false);
        Tensor live = Tensor.vector(3f, 4f).requiresGrad(true);
        frozen.mul(live).sum().backward();
        assertThat(frozen.grad()).isNull();
        assertThat(live.grad().toArray()).containsExactly(1f, 2f);
    }

    @Test
    void shapeMismatchMessagesShowBothShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(4, 5);
        assertThatThrownBy(() -> a.add(b)).hasMessageContaining("(2, 3)").hasMessageContaining("(4, 5)");
        assertThatThrownBy(() -> a.matmul(b)).hasMessageContaining("(2, 3)").hasMessageContaining("(4, 5)");
        assertThatThrownBy(() -> Ops.linear(a, b, null)).hasMessageContaining("(2, 3)").hasMessageContaining("(4, 5)");
        assertThatThrownBy(() -> a.reshape(4, 2)).hasMessageContaining("(2, 3)").hasMessageContaining("(4, 2)");
    }

    @Test
    void arenaRecyclesBuffersBetweenSteps() {
        Arena.releasePool();
        Tensor w = Tensor.ones(64, 64).requiresGrad(true);
        try (Arena a = Arena.open()) {
            w.matmul(w).sum().backward();
        }
        int pooledAfterFirstStep = Arena.pooled(64 * 64);
        assertThat(pooledAfterFirstStep).isGreaterThan(0);
        try (Arena a = Arena.open()) {
            Tensor y = w.matmul(w);
            assertThat(Arena.pooled(64 * 64)).isEqualTo(pooledAfterFirstStep - 1); // taken from the pool, not the heap
            assertThat(y.data()[0]).isEqualTo(64f);
            y.sum().backward();
        }
        assertThat(Arena.pooled(64 * 64)).isEqualTo(pooledAfterFirstStep); // steady state: no growth
        assertThat(w.grad().data()).hasSize(64 * 64); // parameter gradients live outside the arena
    }

    @Test
    void arenaPoolDoesNotGrowWhenShapesChangeEveryStep() {
        Arena.releasePool();
        Tensor w = Tensor.ones(32, 32);
        for (int rows = 1; rows <= 200; rows++) {
            try (Arena a = Arena.open()) {
                Tensor.ones(rows, 32).matmul(w).exp();  // new buffer lengths every step
            }
        }
        // only the last two steps' lengths stay pooled: two buffers of 200 x 32 and two of 199 x 32
        assertThat(Arena.pooledFloats()).isEqualTo(2L * 200 * 32 + 2L * 199 * 32);
    }

    @Test
    void backwardGivesIntermediateGradientsBackToTheArena() {
        Arena.releasePool();
        Tensor w = Tensor.ones(16, 16).requiresGrad(true);
        try (Arena a = Arena.open()) {
            Tensor x = w;
            for (int i = 0; i < 10; i++) x = x.scale(0.5f);      // ten intermediate (16, 16) tensors
            long forward = a.peakFloats();
            assertThat(forward).isEqualTo(10L * 256);
            x.sum().backward();
            // each intermediate gradient is handed back once its backward ran, so the next reuses it
            assertThat(a.peakFloats()).isLessThan(forward + 4L * 256);
            assertThat(w.grad().data()[0]).isEqualTo(1f / 1024);
        }
    }

    @Test
    void releaseIgnoresForeignAndRepeatedBuffers() {
        Arena.releasePool();
        try (Arena a = Arena.open()) {
            float[] b = Arena.uninitialized(7);
            Arena.release(new float[7]);                      // not from this scope: ignored
            Arena.release(b);
            Arena.release(b);                                 // twice: ignored
            assertThat(Arena.pooled(7)).isEqualTo(1);
            assertThat(Arena.uninitialized(7)).isSameAs(b);   // reused within the scope
            assertThat(a.buffersTaken()).isEqualTo(1);
        }
        assertThat(Arena.pooled(7)).isEqualTo(1);             // and pooled once at the end
    }
}
