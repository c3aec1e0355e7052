package dev.myllm.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Our files are laid out as a writer that follows the GGUF spec with its default alignment (32)
 * lays them out: no {@code general.alignment} key, offsets the running sum of 32-padded sizes, data
 * from the header's end padded to 32. llama.cpp's {@code llama-quantize} copies a file's keys,
 * {@code general.alignment} too, but lays its output out at 32, so a file that set 64 came out
 * unreadable.
 */
class GgufLayoutTest {
    @TempDir
    Path dir;

    @Test
    void tensorsAreWhereADefaultAlignmentReaderLooks() throws IOException {
        // sizes 12, 32, 96, 34 and 4 bytes: not one a multiple of 64, two not of 32
        float[][] data = {values(3, 1), values(8, 10), values(48, 100), values(32, 0.5f), values(1, 7)};
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "gpt2");
        w.addTensor("a", new long[]{3}, GgufType.F32, data[0], 0);
        w.addTensor("b", new long[]{8}, GgufType.F32, data[1], 0);
        w.addTensor("c", new long[]{16, 3}, GgufType.F16, data[2], 0);
        w.addTensor("d", new long[]{32}, GgufType.Q8_0, data[3], 0);
        w.addTensor("e", new long[]{1}, GgufType.F32, data[4], 0);
        Path f = dir.resolve("layout.gguf");
        w.write(f);
        byte[] b = Files.readAllBytes(f);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        // the header's end, counted by hand: magic, version, counts, one key, five infos
        long headerEnd = 4 + 4 + 8 + 8 + (8 + "general.architecture".length() + 4 + 8 + "gpt2".length());
        for (long[] ne : new long[][]{{3}, {8}, {16, 3}, {32}, {1}}) headerEnd += 8 + 1 + 4 + 8L * ne.length + 4 + 8;
        assertThat(buf.getLong(16)).as("keys").isEqualTo(1);
        assertThat(new String(b, 24 + 8, "general.architecture".length(), StandardCharsets.UTF_8)).isEqualTo("general.architecture");
        long dataStart = pad32(headerEnd);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.metadata()).doesNotContainKey("general.alignment");
            long expect = 0;
            for (GgufFile.Info t : g.tensors().values()) {
                assertThat(t.offset()).as("offset of %s", t.name()).isEqualTo(expect);
                expect += pad32(t.bytes());
            }
            assertThat((long) b.length).isEqualTo(dataStart + expect);
            // the bytes at the spec's places are the tensors': F32 as written, F16's first half, Q8_0's scale
            for (int i : new int[]{0, 1, 4}) {
                GgufFile.Info t = g.tensors().get(String.valueOf((char) ('a' + i)));
                for (int k = 0; k < data[i].length; k++) {
                    assertThat(buf.getFloat((int) (dataStart + t.offset() + 4L * k))).as("%s[%d]", t.name(), k).isEqualTo(data[i][k]);
                }
            }
            assertThat(Float.float16ToFloat(buf.getShort((int) (dataStart + g.tensors().get("c").offset())))).isEqualTo(100f);
            assertThat(Float.float16ToFloat(buf.getShort((int) (dataStart + g.tensors().get("d").offset())))).isCloseTo(16f / 127, within(1e-4f));
        }
    }

    private static long pad32(long n) {
        return (n + 31) / 32 * 32;
    }

    private static float[] values(int n, float first) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = first + i * 0.5f;
        return v;
    }
}
