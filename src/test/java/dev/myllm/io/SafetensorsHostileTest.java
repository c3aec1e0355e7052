package dev.myllm.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Malformed and hostile safetensors files: each is one clear one-line error naming the file. */
class SafetensorsHostileTest {
    @TempDir
    Path dir;
    private int count;

    /** A file with an explicit length field, header text and data section. */
    private Path file(long lengthField, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthField).put(h);
        Path f = dir.resolve("hostile" + (count++) + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    private Path file(String header, int dataBytes) throws IOException {
        return file(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    /** Opens (and loads everything from) a file, expecting one IllegalArgumentException. */
    private static void rejects(Path f, String fragment) {
        Throwable t = catchThrowable(() -> {
            try (Safetensors st = Safetensors.open(f)) {
                st.loadAll();
            }
        });
        assertThat(t).as("file %s", f).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.getMessage()).startsWith(f.toString() + ": ").contains(fragment).doesNotContain("\n");
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void aFileThatCannotBeReadIsNamedOnceWithTheReason() throws IOException {
        // it said "D/loop.safetensors: cannot read: D/loop.safetensors: Too many levels of symbolic links ..."
        Path loop = dir.resolve("loop.safetensors");
        Files.createSymbolicLink(loop, loop);
        Throwable t = catchThrowable(() -> Safetensors.open(loop));
        assertThat(t).isInstanceOf(UncheckedIOException.class).hasMessageStartingWith(loop + ": cannot read: ")
                .hasMessageContaining("symbolic links");
        assertThat(t.getMessage().indexOf(loop.toString(), 1)).as(t.getMessage()).isEqualTo(-1);
        Path folder = Files.createDirectory(dir.resolve("folder.safetensors"));
        assertThat(catchThrowable(() -> Safetensors.open(folder))).isInstanceOf(UncheckedIOException.class)
                .hasMessage(folder + ": cannot read: Is a directory");
    }

    @Test
    void rejectsBadHeaderLengths() throws IOException {
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        rejects(empty, "too short for a safetensors header");
        Path five = dir.resolve("five.safetensors");
        Files.write(five, new byte[5]);
        rejects(five, "too short");
        rejects(file(-1L, "{}", 0), "header length 18446744073709551615 is over the limit");
        rejects(file(200_000_000L, "{}", 0), "header length 200000000 is over the limit");
        rejects(file(1000, "{}", 0), "header length 1000 runs past the end of the file (10 bytes)");
        rejects(file(0, "", 0), "too small");
    }

    @Test
    void rejectsBadJson() throws IOException {
        rejects(file("{\"a\":", 0), "not valid JSON");
        rejects(file("[1,2]", 0), "does not start with '{'");
        rejects(file("{}xx", 0), "not valid JSON");
        rejects(file("{\"a\":1}", 0), "tensor 'a' is not a JSON object");
        rejects(file("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("a", "F32", "[1]", "[4,8]") + "}", 8),
                "not valid JSON: Duplicate field 'a'");
        Path bin = file("{\"\u00ff", 0);
        byte[] raw = Files.readAllBytes(bin);
        raw[raw.length - 1] = (byte) 0xC3; // a lone UTF-8 lead byte
        Files.write(bin, raw);
        rejects(bin, "not valid JSON");
        rejects(file("{\"__metadata__\":[1]}", 0), "__metadata__ is not a JSON object");
        rejects(file("{\"__metadata__\":{\"format\":1}}", 0), "__metadata__ value of 'format' is not a string");
        rejects(file("[".repeat(5000) + "]".repeat(5000), 0), "does not start with '{'");
        rejects(file("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0), "not valid JSON");
    }

    @Test
    void rejectsBadDtypesAndShapes() throws IOException {
        rejects(file("{" + entry("w", "F17", "[1]", "[0,4]") + "}", 4), "tensor 'w' has unknown dtype 'F17'");
        rejects(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w' has no dtype string");
        rejects(file("{" + entry("w", "F32", "3", "[0,12]") + "}", 12), "tensor 'w' has no shape array");
        rejects(file("{" + entry("w", "F32", "[-1]", "[0,4]") + "}", 4), "shape dimension 0 is not a non-negative integer: -1");
        rejects(file("{" + entry("w", "F32", "[1.5]", "[0,4]") + "}", 4), "shape dimension 0 is not a non-negative integer: 1.5");
        rejects(file("{" + entry("w", "F32", "[\"2\"]", "[0,8]") + "}", 8), "not a non-negative integer");
        rejects(file("{" + entry("w", "F32", "[99999999999999999999999]", "[0,4]") + "}", 4), "not a non-negative integer");
        rejects(file("{" + entry("w", "F32", "[4294967296,4294967296]", "[0,4]") + "}", 4), "overflows 64 bits");
        rejects(file("{" + entry("w", "F32", "[1152921504606846976,8]", "[0,4]") + "}", 4), "overflows 64 bits");
        // A huge shape with honest offsets still has to fit in the file.
        rejects(file("{" + entry("w", "F32", "[1000000000000]", "[0,4000000000000]") + "}", 4), "run past the data section of 4 bytes");
    }

    @Test
    void rejectsLyingOffsets() throws IOException {
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w' has no data_offsets");
        rejects(file("{" + entry("w", "F32", "[1]", "[0]") + "}", 4), "has no data_offsets");
        rejects(file("{" + entry("w", "F32", "[1]", "[0,4,8]") + "}", 4), "has no data_offsets");
        rejects(file("{" + entry("w", "F32", "[1]", "[-4,0]") + "}", 4), "data_offsets entry 0 is not a non-negative integer");
        rejects(file("{" + entry("w", "F32", "[1]", "[0,1e30]") + "}", 4), "data_offsets entry 1 is not a non-negative integer");
        rejects(file("{" + entry("w", "F32", "[1]", "[8,4]") + "}", 8), "end before begin");
        rejects(file("{" + entry("w", "F32", "[2]", "[0,8]") + "}", 4), "data_offsets [0, 8] run past the data section of 4 bytes");
        rejects(file("{" + entry("w", "F32", "[2]", "[0,4]") + "}", 8), "hold 4 bytes but shape [2] of F32 needs 8");
        rejects(file("{" + entry("w", "F16", "[3]", "[0,8]") + "}", 8), "hold 8 bytes but shape [3] of F16 needs 6");
        rejects(file("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}", 12),
                "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
        rejects(file("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}", 8), "overlap");
        rejects(file("{" + entry("a", "F32", "[4]", "[0,16]") + "," + entry("e", "F32", "[0]", "[8,8]") + "}", 16), "overlap");
    }

    @Test
    void truncatedDataIsNamed() throws IOException {
        rejects(file("{" + entry("w", "F32", "[3]", "[0,12]") + "}", 11), "run past the data section of 11 bytes");
    }

    @Test
    void acceptsHolesBetweenTensors() throws IOException {
        Path f = file("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", 12);
        byte[] raw = Files.readAllBytes(f);
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putFloat(raw.length - 4, 2.5f);
        Files.write(f, raw);
        try (Safetensors st = Safetensors.open(f)) {
            assertThat(st.load("a").item()).isEqualTo(0f);
            assertThat(st.load("b").item()).isEqualTo(2.5f);
        }
        try (Safetensors st = Safetensors.open(file("{}", 0))) {
            assertThat(st.names()).isEmpty();
            assertThat(st.metadata()).isEmpty();
        }
    }

    @Test
    void nonFloatTypesAndMissingFiles() throws IOException {
        Path f = file("{" + entry("ids", "I64", "[2]", "[0,16]") + "," + entry("f8", "F8_E4M3", "[1]", "[16,17]") + "}", 17);
        try (Safetensors st = Safetensors.open(f)) {
            assertThat(st.info("ids").dtype()).isEqualTo(DType.I64);
            assertThat(st.load("ids").data()).containsExactly(0f, 0f);
            Throwable t = catchThrowable(() -> st.load("f8"));
            assertThat(t).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dtype F8_E4M3, which is not converted");
        }
        Path missing = dir.resolve("nope.safetensors");
        assertThat(catchThrowable(() -> Safetensors.open(missing)))
                .isInstanceOf(UncheckedIOException.class).hasMessage(missing + ": no such file");
    }

    @Test
    void filesOver2GBMapAndOversizedTensorsAreRefusedBeforeAllocating() throws IOException {
        // A sparse 3 GB file: a U8 tensor too big for a Java array, then a float tensor past 2^31.
        long big = 3_000_000_000L;
        String header = "{" + entry("big", "U8", "[" + big + "]", "[0," + big + "]") + ","
                + entry("tail", "F32", "[2]", "[" + big + "," + (big + 8) + "]") + "}";
        Path f = file(header, 0);
        long dataStart = Files.size(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(dataStart + big + 8);
            raf.seek(dataStart + big);
            raf.write(new byte[]{0, 0, (byte) 0x80, 0x3F, 0, 0, 0x20, (byte) 0xC0}); // 1.0f, -2.5f
        }
        try (Safetensors st = Safetensors.open(f)) {
            assertThat(st.load("tail").data()).containsExactly(1f, -2.5f);
            Throwable t = catchThrowable(() -> st.load("big"));
            assertThat(t).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'big' has 3000000000 elements, more than a Java array holds");
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void fuzzedAndTruncatedGoldenFilesFailOnlyWithClearErrors() throws IOException {
        byte[] golden = Files.readAllBytes(SafetensorsTest.fixture("golden_f32.safetensors"));
        Path f = dir.resolve("fuzz.safetensors");
        for (int n = 0; n < golden.length; n++) {
            Files.write(f, java.util.Arrays.copyOf(golden, n));
            tryLoad(f);
        }
        Random rnd = new Random(42);
        for (int i = 0; i < 1500; i++) {
            byte[] b = golden.clone();
            for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                int at = rnd.nextInt(i % 2 == 0 ? 8 + 280 : b.length); // mostly the header
                b[at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : "0123456789[]{},:\"-".charAt(rnd.nextInt(18)));
            }
            Files.write(f, b);
            tryLoad(f);
        }
    }

    private static void tryLoad(Path f) {
        try (Safetensors st = Safetensors.open(f)) {
            st.loadAll();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith(f + ": ").doesNotContain("\n");
        }
    }
}
