package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bandwidth probe reads, in place, exactly the bytes it counts, and gives a rate. */
class ReadBandwidthTest {
    @Test
    void countsTheBytesAProductReadsInEveryFormatAndGivesAPositiveRate() {
        float[] w = KernelTestSupport.randn(new Random(3), 67 * 96, 0.5f);
        for (PackedMatrix.Format f : PackedMatrix.Format.values()) {
            PackedMatrix p = PackedMatrix.encode(f, w, 67, 96);
            ReadBandwidth probe = new ReadBandwidth().add(p);
            assertThat(probe.bytes()).as("%s", f).isEqualTo(p.readBytes());
            assertThat(probe.gbps()).as("%s", f).isPositive().isFinite();
        }
        ReadBandwidth plain = new ReadBandwidth().add(w);
        assertThat(plain.bytes()).isEqualTo(4L * w.length);
    }

    @Test
    void theThreadsTogetherReadEveryValueOnce() {
        float[] ones = new float[100 * 64];
        Arrays.fill(ones, 1f);
        PackedMatrix p = PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, ones, 100, 64); // (the last panel padded with zeros)
        PackedMatrix mapped = PackedMatrix.encode(PackedMatrix.Format.F32, ones, 3, 40); // (off the heap, as from a file)
        float[] twos = new float[1001];
        Arrays.fill(twos, 2f);
        int before = Parallel.threads();
        try {
            for (int t : new int[]{1, 2, 3, 7}) {
                Parallel.setThreads(t);
                ReadBandwidth probe = new ReadBandwidth().add(p).add(twos).add(mapped);
                assertThat(probe.checksum()).as("%d threads", t).isEqualTo(6400 + 2002 + 120);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }
}
