package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The profile counts each product once, by kind and shape, on the thread that started it. */
class StepProfileTest {
    @Test
    void countsProductsByShapeOnTheStartingThreadOnly() throws Exception {
        float[] a = new float[40 * 24], b = new float[24 * 33], c = new float[40 * 33];
        Gemm.matmulNT(a, 0, b, 0, c, 0, 40, 33, 24, false); // before start: not counted
        StepProfile.start();
        try {
            for (int i = 0; i < 3; i++) Gemm.matmulNT(a, 0, b, 0, c, 0, 40, 33, 24, false);
            Gemm.matmulTN(a, 0, b, 0, c, 0, 40, 33, 24, true);
            Thread other = new Thread(() -> Gemm.matmulNN(a, 0, b, 0, c, 0, 40, 33, 24, false));
            other.start();
            other.join();
        } finally {
            StepProfile.stop();
        }
        Gemm.matmulNT(a, 0, b, 0, c, 0, 40, 33, 24, false); // after stop: not counted
        List<StepProfile.Entry> entries = StepProfile.entries();
        assertThat(entries).extracting(StepProfile.Entry::label).containsExactlyInAnyOrder("matmul NT 40×33×24", "matmul TN 40×33×24");
        StepProfile.Entry nt = entries.stream().filter(e -> e.label().contains("NT")).findFirst().orElseThrow();
        assertThat(nt.calls()).isEqualTo(3);
        assertThat(nt.flops()).isEqualTo(3 * 2.0 * 40 * 33 * 24);
        assertThat(nt.nanos()).isPositive();
    }
}
