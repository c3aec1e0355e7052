package dev.myllm.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Parses and validates the JSON header of a safetensors file: every field is checked before
 * anything sized by the file is allocated, and every problem is one {@link IllegalArgumentException}
 * whose message names the file, the tensor and the field.
 */
final class SafetensorsHeader {
    /** Largest header accepted; the Rust reference uses the same 100 MB limit. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    // Duplicate keys would let two entries with one name disagree; trailing tokens mean the length lies.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();

    /** The validated content of a header. */
    record Parsed(Map<String, String> metadata, SequencedMap<String, TensorInfo> entries) {
    }

    private SafetensorsHeader() {
    }

    /**
     * Validates the header length field read from the first 8 bytes against the file size;
     * {@code n} is the raw (unsigned) value read as a signed long.
     */
    static void checkLength(Path file, long n, long fileSize) {
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw bad(file, "header length " + Long.toUnsignedString(n) + " is over the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n < 2) throw bad(file, "header length " + n + " is too small for a JSON object");
        if (8 + n > fileSize) {
            throw bad(file, "header length " + n + " runs past the end of the file (" + fileSize + " bytes): truncated?");
        }
    }

    /** Parses the header bytes; {@code dataSize} is the number of bytes after the header. */
    static Parsed parse(Path file, byte[] header, long dataSize) {
        if (header[0] != '{') throw bad(file, "header does not start with '{'");
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (IOException e) {
            String why = e instanceof JacksonException je ? je.getOriginalMessage() : e.getMessage();
            throw bad(file, "header is not valid JSON: " + firstLine(why));
        }
        if (root == null || !root.isObject()) throw bad(file, "header is not a JSON object");

        Map<String, String> metadata = Map.of();
        SequencedMap<String, TensorInfo> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, value);
            } else {
                entries.put(name, entry(file, name, value, dataSize));
            }
        }
        checkOverlaps(file, entries.values());
        return new Parsed(metadata, Collections.unmodifiableSequencedMap(entries));
    }

    private static Map<String, String> metadata(Path file, JsonNode node) {
        if (!node.isObject()) throw bad(file, METADATA_KEY + " is not a JSON object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isTextual()) {
                throw bad(file, METADATA_KEY + " value of '" + clip(f.getKey()) + "' is not a string");
            }
            out.put(f.getKey(), f.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo entry(Path file, String name, JsonNode node, long dataSize) {
        String where = "tensor '" + clip(name) + "'";
        if (!node.isObject()) throw bad(file, where + " is not a JSON object");

        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw bad(file, where + " has no dtype string");
        DType dtype = DType.ofCode(dtypeNode.textValue());
        if (dtype == null) throw bad(file, where + " has unknown dtype '" + clip(dtypeNode.textValue()) + "'");

        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw bad(file, where + " has no shape array");
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw bad(file, where + " shape dimension " + i + " is not a non-negative integer: " + clip(d.toString()));
            }
            shape[i] = d.longValue();
        }
        long bytes;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, (long) dtype.size());
        } catch (ArithmeticException e) {
            throw bad(file, where + " shape " + clip(java.util.Arrays.toString(shape)) + " overflows 64 bits");
        }

        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw bad(file, where + " has no data_offsets [begin, end]");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw bad(file, where + " data_offsets entry " + i + " is not a non-negative integer: " + clip(o.toString()));
            }
            be[i] = o.longValue();
        }
        long begin = be[0], end = be[1];
        if (end < begin) throw bad(file, where + " data_offsets [" + begin + ", " + end + "] end before begin");
        if (end > dataSize) {
            throw bad(file, where + " data_offsets [" + begin + ", " + end + "] run past the data section of " + dataSize + " bytes");
        }
        if (end - begin != bytes) {
            throw bad(file, where + " data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + clip(java.util.Arrays.toString(shape)) + " of " + dtype + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Holes between tensors are allowed (the spec leaves them open); shared bytes are not. */
    private static void checkOverlaps(Path file, java.util.Collection<TensorInfo> entries) {
        List<TensorInfo> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (prev != null && t.begin() < prev.end()) {
                throw bad(file, "tensors '" + clip(prev.name()) + "' [" + prev.begin() + ", " + prev.end() + ") and '"
                        + clip(t.name()) + "' [" + t.begin() + ", " + t.end() + ") overlap");
            }
            prev = t; // sorted and not overlapping, so t ends at or after every earlier tensor
        }
    }

    static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Hostile names and values can be megabytes long; a message quotes at most 60 characters. */
    static String clip(String s) {
        String t = s.length() <= 60 ? s : s.substring(0, 57) + "...";
        return t.replace("\n", "\\n").replace("\r", "\\r");
    }
}
