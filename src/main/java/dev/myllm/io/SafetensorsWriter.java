package dev.myllm.io;

import dev.myllm.tensor.Quantize;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.function.Supplier;

/**
 * Writes tensors to a safetensors file the way the reference implementation lays it out: an
 * 8-byte little-endian header length, the compact JSON header ({@code __metadata__} first, then
 * the entries) padded with spaces to a multiple of 8, then the tensors' bytes back to back.
 *
 * <p>Entries are written in the map's iteration order. The Python {@code safetensors} library
 * instead sorts by dtype size (largest first), then by name; a caller that passes its tensors in
 * that order gets byte-identical files. The file is written atomically (temporary file, then
 * rename) and streamed, converting through one small buffer, so no second copy of the weights is
 * built in memory.
 *
 * <p>Tensors that share storage (a tied embedding and output head) must be passed once: like the
 * Python library, this refuses two entries backed by the same {@code float[]}.
 *
 * <p>Tensors stored converted (a Conv1D weight transposed, a LoRA target merged) are given as {@link Entry entries}
 * whose values are made only when the writer reaches them, so that no more than one of them is in memory at a time.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 14; // elements per conversion buffer

    private SafetensorsWriter() {
    }

    /**
     * A tensor to write: its shape, and its values, asked for once, when the writer reaches it (at least as many as
     * the shape holds; only those are written, so a reused buffer may be longer).
     */
    public record Entry(int[] shape, Supplier<float[]> values) {
        /** The entry of a tensor stored as it is. */
        public static Entry of(Tensor t) {
            return new Entry(t.shape(), t::data);
        }

        long size() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    /**
     * Writes {@code tensors} (in iteration order) converted to {@code dtype} (F32, F16 or BF16,
     * rounding to nearest even), with {@code metadata} as {@code __metadata__} (omitted when null
     * or empty; transformers writes {@code {"format": "pt"}}).
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, DType dtype) {
        Map<float[], String> owners = new IdentityHashMap<>();
        SequencedMap<String, Entry> entries = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            float[] data = t.data();
            String other = data.length == 0 ? null : owners.putIfAbsent(data, name);
            if (other != null) {
                throw new IllegalArgumentException(file + ": tensors '" + other + "' and '" + name + "' share storage; write it once");
            }
            entries.put(name, Entry.of(t));
        });
        writeEntries(file, entries, metadata, dtype);
    }

    /** Writes {@code entries} (in order) as {@link #write} does, making each one's values only when it is written. */
    public static void writeEntries(Path file, SequencedMap<String, Entry> entries, Map<String, String> metadata, DType dtype) {
        byte[] header = header(file, entries, metadata, dtype);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            out.write(len.array());
            out.write(header);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (var e : entries.entrySet()) {
                float[] data = e.getValue().values().get();
                long n = e.getValue().size();
                if (data.length < n) throw new IllegalStateException(file + ": tensor '" + e.getKey() + "' has " + data.length + " values, its shape " + n);
                writeData(out, data, (int) n, dtype, buf);
            }
        });
    }

    /** The padded JSON header bytes (without the length prefix), validating names. */
    static byte[] header(Path file, SequencedMap<String, Entry> entries, Map<String, String> metadata, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException(file + ": cannot write dtype " + dtype + " (F32, F16 or BF16)");
        }
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException(file + ": null metadata key or value");
                m.put(k, v);
            });
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException(file + ": invalid tensor name '" + name + "'");
            }
            ObjectNode entry = root.putObject(name);
            entry.put("dtype", dtype.code());
            ArrayNode shape = entry.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long end = offset + e.getValue().size() * dtype.size();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        // Padding the header to 8 bytes keeps the data section 8-byte aligned for mmap readers.
        int padded = (json.length + 7) & ~7;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(OutputStream out, float[] data, int size, DType dtype, ByteBuffer buf) throws IOException {
        for (int from = 0; from < size; from += CHUNK) {
            int n = Math.min(CHUNK, size - from);
            buf.clear();
            switch (dtype) {
                case F32 -> { for (int i = 0; i < n; i++) buf.putFloat(data[from + i]); }
                case F16 -> { for (int i = 0; i < n; i++) buf.putShort(Float.floatToFloat16(data[from + i])); }
                case BF16 -> { for (int i = 0; i < n; i++) buf.putShort(Quantize.bf16(data[from + i])); }
                default -> throw new IllegalStateException("unreachable: " + dtype);
            }
            out.write(buf.array(), 0, buf.position());
        }
    }
}
