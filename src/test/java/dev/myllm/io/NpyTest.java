package dev.myllm.io;

import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.myllm.io.SafetensorsTest.fixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** .npy files compared byte for byte with numpy.save's (tools/make_io_fixtures.py), and round trips. */
class NpyTest {
    @TempDir
    Path dir;

    @Test
    void floatFileIsByteExactWithNumpy() throws IOException {
        Path f = dir.resolve("a.npy");
        Npy.write(f, Tensor.of(new float[]{1f, -2.5f, 0f, -0f, 0.5f, 3f}, 2, 3));
        byte[] ours = Files.readAllBytes(f);
        assertThat(ours).isEqualTo(Files.readAllBytes(fixture("f32_2x3.npy")));
        // Magic, version 1.0, a header padded so the data starts at 128, a multiple of 64.
        assertThat(ours).startsWith(0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0);
        assertThat(new String(ours, 10, 118, StandardCharsets.US_ASCII))
                .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  ").endsWith(" \n");
        assertThat(ours).hasSize(128 + 24);
    }

    @Test
    void intAndScalarFilesAreByteExactWithNumpy() throws IOException {
        Path i = dir.resolve("ids.npy");
        Npy.writeInts(i, new int[]{50256, 0, -1, 7, Integer.MAX_VALUE}, 5);
        assertThat(Files.readAllBytes(i)).isEqualTo(Files.readAllBytes(fixture("i32_5.npy")));
        Path s = dir.resolve("s.npy");
        Npy.write(s, Tensor.scalar(1.5f));
        assertThat(Files.readAllBytes(s)).isEqualTo(Files.readAllBytes(fixture("f32_scalar.npy")));
    }

    @Test
    void readsNumpyFixtures() {
        Tensor a = Npy.read(fixture("f32_2x3.npy"));
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.data()).containsExactly(1f, -2.5f, 0f, -0f, 0.5f, 3f);
        assertThat(Npy.readInts(fixture("i32_5.npy"))).containsExactly(50256, 0, -1, 7, Integer.MAX_VALUE);
        Npy.Header h = Npy.readHeader(fixture("i32_5.npy"));
        assertThat(h.descr()).isEqualTo("<i4");
        assertThat(h.shape()).containsExactly(5);
        assertThat(h.dataOffset()).isEqualTo(128);
        Tensor s = Npy.read(fixture("f32_scalar.npy"));
        assertThat(s.shape()).isEmpty();
        assertThat(s.item()).isEqualTo(1.5f);
    }

    @Test
    void roundTripsShapesIncludingZeroSizeAndLongFirstAxis() {
        int[][] shapes = {{0}, {3, 0, 2}, {1, 1, 1, 1}, {70000}, {123456789 / 1000000, 7}};
        for (int[] shape : shapes) {
            int n = 1;
            for (int d : shape) n *= d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = i * 0.25f - 3f;
            Path f = dir.resolve("r.npy");
            Npy.write(f, v, shape);
            Tensor t = Npy.read(f);
            assertThat(t.shape()).containsExactly(shape);
            assertThat(t.data()).containsExactly(v);
            assertThat(Npy.readHeader(f).dataOffset() % 64).isZero();
        }
    }

    @Test
    void badFilesAreClearErrors() throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.write(f, "not numpy".getBytes(StandardCharsets.US_ASCII));
        assertThat(catchThrowable(() -> Npy.read(f))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(f + ": file of 9 bytes is too short for a .npy header");
        byte[] good = Files.readAllBytes(fixture("f32_2x3.npy"));
        Files.write(f, java.util.Arrays.copyOf(good, good.length - 1));
        assertThat(catchThrowable(() -> Npy.read(f))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data of 23 bytes is shorter than the 24 the shape needs");
        assertThat(catchThrowable(() -> Npy.readInts(fixture("f32_2x3.npy"))))
                .hasMessageContaining("dtype '<f4' is not an integer type");
        assertThat(catchThrowable(() -> Npy.write(f, new float[5], 2, 3)))
                .hasMessageContaining("5 values do not fit shape (2, 3)");
    }

    @Test
    void aFileThatCannotBeReadIsNamedOnceWithTheReason() throws IOException {
        // they said "D/loop.npy: cannot read: D/loop.npy: Too many levels of symbolic links ..."
        Path loop = dir.resolve("loop.npy");
        Files.createSymbolicLink(loop, loop);
        for (Throwable t : java.util.List.of(catchThrowable(() -> Npy.readHeader(loop)), catchThrowable(() -> Npy.read(loop)),
                catchThrowable(() -> Npy.readInts(loop)))) {
            assertThat(t).isInstanceOf(java.io.UncheckedIOException.class).hasMessageStartingWith(loop + ": cannot read: ")
                    .hasMessageContaining("symbolic links");
            assertThat(t.getMessage().indexOf(loop.toString(), 1)).as(t.getMessage()).isEqualTo(-1);
        }
    }
}
