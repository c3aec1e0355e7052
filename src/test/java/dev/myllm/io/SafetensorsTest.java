package dev.myllm.io;

import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Round trips and files written by the Python safetensors library (tools/make_io_fixtures.py). */
class SafetensorsTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(SafetensorsTest.class.getResource("/io/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The F32 fixture's tensors, in the order the Python library sorted them. */
    static SequencedMap<String, Tensor> goldenF32() {
        SequencedMap<String, Tensor> m = new LinkedHashMap<>();
        m.put("a.weight", Tensor.of(new float[]{1f, -2.5f, 0f, -0f, 0.5f, 3f}, 2, 3));
        m.put("b.bias", Tensor.of(new float[]{0.1f, -7.25f}, 2));
        m.put("c.scalar", Tensor.of(new float[]{42f}));
        m.put("d.empty", Tensor.of(new float[0], 0, 4));
        return m;
    }

    @Test
    void writerIsByteExactWithThePythonLibraryForF32() throws IOException {
        Path out = dir.resolve("model.safetensors");
        Safetensors.write(out, goldenF32(), Map.of("format", "pt"));
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(fixture("golden_f32.safetensors")));
    }

    @Test
    void writerIsByteExactWithThePythonLibraryForF16AndBF16() throws IOException {
        Path f16 = dir.resolve("h.safetensors");
        float[] h = {1f, -2.5f, 65504f, 0x1p-24f, 0x1p-14f, -0f};
        Safetensors.write(f16, Map.of("h", Tensor.of(h, 6)), Map.of("format", "pt"), DType.F16);
        assertThat(Files.readAllBytes(f16)).isEqualTo(Files.readAllBytes(fixture("golden_f16.safetensors")));

        Path bf16 = dir.resolve("w.safetensors");
        float[] w = {1f, -2.5f, 3.0e38f, 0x1p-130f};
        Safetensors.write(bf16, Map.of("w", Tensor.of(w, 2, 2)), Map.of("format", "pt"), DType.BF16);
        assertThat(Files.readAllBytes(bf16)).isEqualTo(Files.readAllBytes(fixture("golden_bf16.safetensors")));
    }

    @Test
    void goldenHeaderBytesFollowTheSpec() throws IOException {
        // 8-byte little-endian length, then the compact JSON padded with spaces to a multiple of 8.
        byte[] b = Files.readAllBytes(fixture("golden_f16.safetensors"));
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]}}";
        assertThat(json.length()).isEqualTo(86);
        assertThat(b).startsWith(88, 0, 0, 0, 0, 0, 0, 0);
        assertThat(new String(b, 8, 88, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(json + "  ");
        // 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, 2^-24 = 0x0001, 2^-14 = 0x0400, -0 = 0x8000
        assertThat(java.util.Arrays.copyOfRange(b, 96, 108)).containsExactly(
                0x00, 0x3C, 0x00, 0xC1, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x04, 0x00, 0x80);
    }

    @Test
    void readsTheF32FixtureWithMetadataShapesAndValues() {
        try (Safetensors st = Safetensors.open(fixture("golden_f32.safetensors"))) {
            assertThat(st.metadata()).containsExactly(Map.entry("format", "pt"));
            assertThat(st.names()).containsExactly("a.weight", "b.bias", "c.scalar", "d.empty");
            TensorInfo a = st.info("a.weight");
            assertThat(a.dtype()).isEqualTo(DType.F32);
            assertThat(a.shape()).containsExactly(2, 3);
            assertThat(a.begin()).isEqualTo(0);
            assertThat(a.end()).isEqualTo(24);
            assertThat(st.info("c.scalar").shape()).isEmpty();

            Tensor w = st.load("a.weight");
            assertThat(w.shape()).containsExactly(2, 3);
            assertThat(w.data()).containsExactly(1f, -2.5f, 0f, -0f, 0.5f, 3f);
            assertThat(Float.floatToRawIntBits(w.data()[3])).isEqualTo(0x80000000); // -0 keeps its sign
            assertThat(st.load("b.bias").data()).containsExactly(0.1f, -7.25f);
            Tensor s = st.load("c.scalar");
            assertThat(s.shape()).isEmpty();
            assertThat(s.item()).isEqualTo(42f);
            Tensor e = st.load("d.empty");
            assertThat(e.shape()).containsExactly(0, 4);
            assertThat(e.data()).isEmpty();
        }
    }

    @Test
    void readsF16AndBF16FixturesIncludingSubnormalsAndExtremes() {
        Tensor h = Safetensors.read(fixture("golden_f16.safetensors")).get("h");
        assertThat(h.data()).containsExactly(1f, -2.5f, 65504f, 0x1p-24f, 0x1p-14f, -0f);

        Tensor w = Safetensors.read(fixture("golden_bf16.safetensors")).get("w");
        assertThat(w.shape()).containsExactly(2, 2);
        // 3e38 rounds to bfloat16 0x7F62, and 2^-130 is the bfloat16 subnormal 0x0008.
        assertThat(w.data()).containsExactly(1f, -2.5f, Float.intBitsToFloat(0x7F620000), 0x1p-130f);
    }

    @Test
    void readsMixedDtypesInFileOrder() {
        SequencedMap<String, Tensor> m = Safetensors.read(fixture("mixed.safetensors"));
        assertThat(m.keySet()).containsExactly("x64", "y32", "z16"); // sorted by dtype size by the library
        assertThat(m.get("x64").data()).containsExactly(1.5f);
        assertThat(m.get("y32").shape()).containsExactly(3, 2);
        assertThat(m.get("y32").data()).containsExactly(0f, 1f, 2f, 3f, 4f, 5f);
        assertThat(m.get("z16").data()).containsExactly(0.25f, -1f);
        try (Safetensors st = Safetensors.open(fixture("mixed.safetensors"))) {
            assertThat(st.metadata()).isEmpty();
            assertThat(st.entries()).extracting(TensorInfo::dtype).containsExactly(DType.F64, DType.F32, DType.F16);
        }
    }

    @Test
    void roundTripsEveryWrittenDtypeWithScalarsAndZeroSize() {
        float[] values = {1f, -2.5f, 65504f, 0x1p-24f, 0x1p-14f, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (DType dt : List.of(DType.F32, DType.F16, DType.BF16)) {
            SequencedMap<String, Tensor> in = new LinkedHashMap<>();
            in.put("v", Tensor.of(values.clone(), 3, 3));
            in.put("scalar", Tensor.of(new float[]{-2.5f}));
            in.put("empty", Tensor.of(new float[0], 2, 0, 3));
            in.put("nan", Tensor.of(new float[]{Float.NaN}, 1));
            Path f = dir.resolve(dt + ".safetensors");
            Safetensors.write(f, in, Map.of("format", "pt", "note", "ünïcode \"quoted\""), dt);
            try (Safetensors st = Safetensors.open(f)) {
                assertThat(st.metadata()).containsEntry("note", "ünïcode \"quoted\"");
                assertThat(st.names()).containsExactly("v", "scalar", "empty", "nan");
                assertThat(st.info("v").dtype()).isEqualTo(dt);
                float[] got = st.load("v").data();
                if (dt == DType.BF16) {
                    // 65504 and 2^-24 are not bfloat16 values: 65504 rounds to 65536, 2^-24 is exact.
                    assertThat(got).containsExactly(1f, -2.5f, 65536f, 0x1p-24f, 0x1p-14f, 0f, -0f,
                            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
                } else {
                    assertThat(got).containsExactly(values);
                }
                assertThat(st.load("scalar").shape()).isEmpty();
                assertThat(st.load("scalar").item()).isEqualTo(-2.5f);
                assertThat(st.load("empty").shape()).containsExactly(2, 0, 3);
                assertThat(st.load("nan").item()).isNaN();
            }
        }
    }

    @Test
    void roundingToHalfPrecisionIsToNearestEven() {
        // 1 + 2^-11 lies halfway between float16 1 and 1 + 2^-10: ties go to the even one, 1.
        // 1 + 3*2^-11 ties between 1+2^-10 (odd) and 1+2^-9 (even).
        float[] v = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 70000f};
        Path f = dir.resolve("r.safetensors");
        Safetensors.write(f, Map.of("f16", Tensor.of(v.clone(), 5)), null, DType.F16);
        assertThat(Safetensors.read(f).get("f16").data())
                .containsExactly(1f, 1f + 0x1p-9f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, Float.POSITIVE_INFINITY);
        Safetensors.write(f, Map.of("b", Tensor.of(v.clone(), 5)), null, DType.BF16);
        // bfloat16 keeps 7 mantissa bits: 1+2^-8 ties to 1, 1+3*2^-8 ties up to 1+2^-6.
        assertThat(Safetensors.read(f).get("b").data())
                .containsExactly(1f, 1f, 1f, 1f + 0x1p-6f, 70144f);
    }

    @Test
    void loadIntoFillsACallersArray() {
        try (Safetensors st = Safetensors.open(fixture("golden_f32.safetensors"))) {
            float[] dst = new float[10];
            st.loadInto("b.bias", dst, 7);
            assertThat(dst).containsExactly(0, 0, 0, 0, 0, 0, 0, 0.1f, -7.25f, 0);
            assertThatThrownBy(() -> st.loadInto("a.weight", dst, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than the 5 left");
            assertThatThrownBy(() -> st.load("missing"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no tensor named 'missing'");
        }
    }

    @Test
    void writerRefusesSharedStorageAndReservedNames() {
        float[] shared = {1f, 2f};
        SequencedMap<String, Tensor> tied = new LinkedHashMap<>();
        tied.put("wte.weight", Tensor.of(shared, 1, 2));
        tied.put("lm_head.weight", Tensor.of(shared, 2));
        Path f = dir.resolve("tied.safetensors");
        assertThatThrownBy(() -> Safetensors.write(f, tied, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'wte.weight' and 'lm_head.weight' share storage");
        assertThatThrownBy(() -> Safetensors.write(f, Map.of("__metadata__", Tensor.scalar(1f)), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid tensor name");
        assertThat(f).doesNotExist();
    }

    @Test
    void loadingAfterCloseFailsClearly() {
        Safetensors st = Safetensors.open(fixture("golden_f32.safetensors"));
        st.close();
        assertThatThrownBy(() -> st.load("a.weight")).hasMessageContaining("already closed");
    }
}
