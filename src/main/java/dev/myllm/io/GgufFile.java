package dev.myllm.io;

import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * A GGUF file (versions 2 and 3), memory-mapped: its metadata (key → typed value) and tensor
 * infos (name, ggml dims with {@code ne[0]} the contiguous axis, type, offset), checked on open so
 * that any malformed or hostile file fails with one {@link IllegalArgumentException} naming the
 * file and the problem. Tensor bytes stay in the mapping until {@link #dequantize} or {@link #bytes}.
 */
public final class GgufFile implements AutoCloseable {
    /** The file's first four bytes, "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    /** Value types of the metadata. */
    static final int U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12;
    static final int DEFAULT_ALIGNMENT = 32;
    private static final String[] TYPE_NAMES = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    private static final ValueLayout.OfInt LI = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LL = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_DIMS = 4;
    private static final int MAX_NAME = 64;

    /** One metadata value: its GGUF type and a Java value (Long, Double, Boolean, String, or {@link Array}). */
    public record Value(int type, Object value) {
        public String typeName() {
            return GgufFile.typeName(type) + (value instanceof Array a ? "[" + GgufFile.typeName(a.elemType) + "]" : "");
        }
    }

    /** An array value: element type and elements (Long, Double, Boolean or String each). */
    public record Array(int elemType, List<Object> items) {
    }

    /** One tensor: name, ggml dims ({@code ne[0]} fastest), type, and its byte offset into the data section. */
    public record Info(String name, long[] ne, GgufType type, long offset) {
        public long count() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }

        public long bytes() {
            return type.bytes(count());
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment map;
    private final int version;
    private final SequencedMap<String, Value> metadata;
    private final SequencedMap<String, Info> tensors;
    private final long dataStart;

    private GgufFile(Path file, Arena arena, MemorySegment map, int version, SequencedMap<String, Value> metadata,
                     SequencedMap<String, Info> tensors, long dataStart) {
        this.file = file;
        this.arena = arena;
        this.map = map;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
    }

    /** Whether {@code file} starts with the GGUF magic (false for a directory or unreadable file). */
    public static boolean isGguf(Path file) {
        return hasMagic(file, MAGIC);
    }

    static boolean hasMagic(Path file, int magic) {
        if (!Files.isRegularFile(file)) return false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // keep reading: a channel may return fewer bytes than asked
            }
            return !b.hasRemaining() && b.getInt(0) == magic;
        } catch (IOException e) {
            return false;
        }
    }

    /** What {@link #parse} read from a file's header, kept for the next open of the same file. */
    private record Header(Object fileKey, long size, FileTime modified, int version, SequencedMap<String, Value> metadata,
                          SequencedMap<String, Info> tensors, long dataStart) {
    }

    /**
     * The last header parsed. A command opens its model file several times (its configuration, stored
     * type, tokenizer, weights, prompt format), and a GPT-2 header is 100,000 strings: parsing it
     * each time cost about 0.1 s and tens of megabytes of garbage. Soft: the collector may drop it.
     */
    private static volatile SoftReference<Header> lastHeader = new SoftReference<>(null);

    /** Opens and checks a GGUF file; close it to release the mapping. */
    public static GgufFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 24) throw bad(file, "file of " + size + " bytes is too short for a GGUF header");
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
            Object key = attrs.fileKey() != null ? attrs.fileKey() : file.toAbsolutePath().normalize();
            FileTime modified = attrs.lastModifiedTime(); // as precise as the file system keeps it
            Arena arena = Arena.ofShared();
            try {
                MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                Header h = lastHeader.get();
                if (h != null && h.fileKey.equals(key) && h.size == size && h.modified.equals(modified)) {
                    return new GgufFile(file, arena, map, h.version, h.metadata, h.tensors, h.dataStart);
                }
                GgufFile g = parse(file, arena, map);
                lastHeader = new SoftReference<>(new Header(key, size, modified, g.version, g.metadata, g.tensors, g.dataStart));
                return g;
            } catch (RuntimeException | IOException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    private static GgufFile parse(Path file, Arena arena, MemorySegment map) {
        Cursor c = new Cursor(file, map);
        if (c.i32() != MAGIC) throw bad(file, "not a GGUF file (no GGUF magic)");
        int version = c.i32();
        if (version != 2 && version != 3) throw bad(file, "GGUF version " + Integer.toUnsignedString(version) + " is not supported (2 or 3)");
        long nTensors = c.i64(), nKv = c.i64();
        // every tensor info takes at least 8+4+8+4+8 bytes and every key-value 8+4+1
        if (nTensors < 0 || nTensors > c.remaining() / 32) throw bad(file, "tensor count " + Long.toUnsignedString(nTensors) + " does not fit in the file");
        if (nKv < 0 || nKv > c.remaining() / 13) throw bad(file, "metadata count " + Long.toUnsignedString(nKv) + " does not fit in the file");
        SequencedMap<String, Value> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = c.string("metadata key");
            int type = c.i32();
            Value v = c.value(type, key, true);
            if (meta.putIfAbsent(key, v) != null) throw bad(file, "metadata key '" + clip(key) + "' appears twice");
        }
        long alignment = DEFAULT_ALIGNMENT;
        Value a = meta.get("general.alignment");
        if (a != null) {
            if (a.type != U32 || (long) a.value == 0 || Long.bitCount((long) a.value) != 1) {
                throw bad(file, "general.alignment must be a u32 power of two, got " + a.typeName() + " " + a.value);
            }
            alignment = (long) a.value;
        }
        List<Info> infos = new ArrayList<>();
        SequencedMap<String, Info> tensors = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            String name = c.string("tensor name");
            if (name.getBytes(StandardCharsets.UTF_8).length >= MAX_NAME) throw bad(file, "tensor name '" + clip(name) + "' is longer than 63 bytes");
            int nDims = c.i32();
            if (nDims < 1 || nDims > MAX_DIMS) throw bad(file, "tensor '" + clip(name) + "' has " + Integer.toUnsignedString(nDims) + " dimensions (1 to 4)");
            long[] ne = new long[nDims];
            long count = 1;
            for (int d = 0; d < nDims; d++) {
                ne[d] = c.i64();
                if (ne[d] <= 0) throw bad(file, "tensor '" + clip(name) + "' has dimension " + Long.toUnsignedString(ne[d]));
                if (count > Long.MAX_VALUE / ne[d] / 64) throw bad(file, "tensor '" + clip(name) + "' is too large");
                count *= ne[d];
            }
            int typeId = c.i32();
            GgufType type = GgufType.of(Integer.toUnsignedLong(typeId));
            if (type == null) throw bad(file, "tensor '" + clip(name) + "' has ggml type " + Integer.toUnsignedString(typeId) + ", which is not supported (" + GgufType.names() + ")");
            if (ne[0] % type.blockSize != 0) throw bad(file, "tensor '" + clip(name) + "' has rows of " + ne[0] + ", not a multiple of " + type + "'s block of " + type.blockSize);
            long offset = c.i64();
            if (offset < 0 || offset % alignment != 0) throw bad(file, "tensor '" + clip(name) + "' has offset " + Long.toUnsignedString(offset) + ", not a multiple of the alignment " + alignment);
            Info info = new Info(name, ne, type, offset);
            if (tensors.putIfAbsent(name, info) != null) throw bad(file, "tensor '" + clip(name) + "' appears twice");
            infos.add(info);
        }
        long dataStart = (c.pos + alignment - 1) / alignment * alignment;
        long dataBytes = map.byteSize() - dataStart;
        for (Info t : infos) {
            if (dataBytes < 0 || t.offset > dataBytes || t.bytes() > dataBytes - t.offset) {
                throw bad(file, "tensor '" + clip(t.name) + "' (" + t.bytes() + " bytes at " + t.offset + ") runs past the end of the file");
            }
        }
        return new GgufFile(file, arena, map, version, meta, tensors, dataStart);
    }

    public Path file() {
        return file;
    }

    public int version() {
        return version;
    }

    /** Every key, in file order. */
    public Map<String, Value> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** Every tensor, in file order. */
    public Map<String, Info> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The value of a key, or null. */
    public Value get(String key) {
        return metadata.get(key);
    }

    /** A required string. */
    public String string(String key) {
        return (String) typed(key, STRING).value;
    }

    /** A required unsigned integer key of exactly {@code type} (U32 or U64). */
    public long unsigned(String key, int type) {
        return (long) typed(key, type).value;
    }

    /** A required f32 key. */
    public float f32(String key) {
        return ((Double) typed(key, F32).value).floatValue();
    }

    /** A required array whose elements are of {@code elemType}. */
    public List<Object> array(String key, int elemType) {
        Value v = metadata.get(key);
        if (v == null) throw bad(file, "missing key " + key);
        if (!(v.value instanceof Array a) || a.elemType != elemType) {
            throw bad(file, "key " + key + " has type " + v.typeName() + ", expected array[" + typeName(elemType) + "]");
        }
        return a.items;
    }

    private Value typed(String key, int type) {
        Value v = metadata.get(key);
        if (v == null) throw bad(file, "missing key " + key);
        if (v.type != type) throw bad(file, "key " + key + " has type " + v.typeName() + ", expected " + typeName(type));
        return v;
    }

    /** The raw bytes of a tensor (a slice of the mapping, valid until close). */
    public MemorySegment bytes(Info t) {
        return map.asSlice(dataStart + t.offset, t.bytes());
    }

    /** Converts a tensor to float32 into {@code dst[off ..]}. */
    public void dequantize(Info t, float[] dst, int off) {
        long n = t.count();
        if (n > dst.length - off) throw bad(file, "tensor '" + clip(t.name) + "' is larger than its destination");
        t.type.dequantize(map, dataStart + t.offset, dst, off, (int) n);
    }

    /**
     * Converts rows {@code [firstRow, firstRow + rows)} of a matrix (rows of {@code ne[0]} values, a whole number
     * of the type's blocks) to float32 into {@code dst[off ..]}.
     */
    public void dequantizeRows(Info t, long firstRow, int rows, float[] dst, int off) {
        long cols = t.ne[0], n = (long) rows * cols;
        if (firstRow < 0 || rows < 0 || (firstRow + rows) * cols > t.count()) throw bad(file, "rows " + firstRow + "+" + rows + " are outside tensor '" + clip(t.name) + "'");
        if (n > dst.length - off) throw bad(file, "rows of tensor '" + clip(t.name) + "' are larger than their destination");
        t.type.dequantize(map, dataStart + t.offset + t.type.bytes(firstRow * cols), dst, off, (int) n);
    }

    @Override
    public void close() {
        arena.close();
    }

    static String typeName(int type) {
        return type >= 0 && type < TYPE_NAMES.length ? TYPE_NAMES[type] : "type " + Integer.toUnsignedString(type);
    }

    static String clip(String s) {
        return oneLine(s.length() > 80 ? s.substring(0, 80) + "…" : s);
    }

    /** Control characters (a newline in a token or name) as '?', so that an error stays one line. */
    static String oneLine(String t) {
        StringBuilder b = new StringBuilder(t.length());
        t.codePoints().forEach(cp -> b.appendCodePoint(Character.isISOControl(cp) ? '?' : cp));
        return b.toString();
    }

    static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }

    /** Reads little-endian values with bounds checks that name what was being read. */
    private static final class Cursor {
        private final Path file;
        private final MemorySegment m;
        private long pos;

        Cursor(Path file, MemorySegment m) {
            this.file = file;
            this.m = m;
        }

        long remaining() {
            return m.byteSize() - pos;
        }

        private void need(long n, String what) {
            if (n < 0 || n > remaining()) throw bad(file, "file ends inside " + what + " at byte " + pos);
        }

        int i32() {
            need(4, "the header");
            int v = m.get(LI, pos);
            pos += 4;
            return v;
        }

        long i64() {
            need(8, "the header");
            long v = m.get(LL, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            need(8, what);
            long n = m.get(LL, pos);
            pos += 8;
            if (n < 0 || n > remaining()) throw bad(file, what + " of " + Long.toUnsignedString(n) + " bytes runs past the end of the file");
            if (n > Integer.MAX_VALUE - 8) throw bad(file, what + " is too long");
            byte[] b = m.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
            pos += n;
            // String's own decoding (fast, no buffers: a vocabulary is 100,000 strings, read on every
            // open) replaces a malformed sequence with U+FFFD; only then does the strict decoder decide
            String s = new String(b, StandardCharsets.UTF_8);
            if (s.indexOf('\uFFFD') < 0) return s;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, what + " at byte " + (pos - n) + " is not UTF-8");
            }
        }

        Value value(int type, String key, boolean allowArray) {
            return value(type, key, allowArray, "the value of " + clip(key));
        }

        /** {@link #value(int, String, boolean)}, {@code what} naming it in errors (made once for an array's elements). */
        private Value value(int type, String key, boolean allowArray, String what) {
            Object v = switch (type) {
                case U8 -> { need(1, what); yield (long) (m.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF); }
                case I8 -> { need(1, what); yield (long) m.get(ValueLayout.JAVA_BYTE, pos++); }
                case BOOL -> {
                    need(1, what);
                    byte b = m.get(ValueLayout.JAVA_BYTE, pos++);
                    if (b != 0 && b != 1) throw bad(file, "key " + clip(key) + " has bool value " + b);
                    yield b == 1;
                }
                case U16, I16 -> {
                    need(2, what);
                    short s = m.get(LS, pos);
                    pos += 2;
                    yield type == U16 ? (long) (s & 0xFFFF) : (long) s;
                }
                case U32, I32 -> {
                    need(4, what);
                    int i = m.get(LI, pos);
                    pos += 4;
                    yield type == U32 ? Integer.toUnsignedLong(i) : (long) i;
                }
                case F32 -> {
                    need(4, what);
                    float f = Float.intBitsToFloat(m.get(LI, pos));
                    pos += 4;
                    yield (double) f;
                }
                case U64, I64 -> {
                    need(8, what);
                    long l = m.get(LL, pos);
                    pos += 8;
                    yield l;
                }
                case F64 -> {
                    need(8, what);
                    double d = Double.longBitsToDouble(m.get(LL, pos));
                    pos += 8;
                    yield d;
                }
                case STRING -> string(what);
                case ARRAY -> {
                    if (!allowArray) throw bad(file, "key " + clip(key) + " holds an array of arrays, which is not supported");
                    need(12, what);
                    int elem = m.get(LI, pos);
                    long n = m.get(LL, pos + 4);
                    pos += 12;
                    long min = switch (elem) {
                        case U8, I8, BOOL -> 1;
                        case U16, I16 -> 2;
                        case U32, I32, F32 -> 4;
                        case STRING, U64, I64, F64 -> 8;
                        case ARRAY -> 12;
                        default -> throw bad(file, "key " + clip(key) + " has an array of unknown value type " + Integer.toUnsignedString(elem));
                    };
                    if (n < 0 || n > remaining() / min) throw bad(file, "array " + clip(key) + " of " + Long.toUnsignedString(n) + " elements runs past the end of the file");
                    List<Object> items = new ArrayList<>((int) n);
                    for (long i = 0; i < n; i++) items.add(value(elem, key, false, what).value);
                    yield new Array(elem, Collections.unmodifiableList(items)); // shared by later opens of the file
                }
                default -> throw bad(file, "key " + clip(key) + " has unknown value type " + Integer.toUnsignedString(type));
            };
            return new Value(type, v);
        }
    }

    @Override
    public String toString() {
        return file + " (GGUF v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors: "
                + Arrays.toString(tensors.keySet().stream().limit(3).toArray()) + "…)";
    }
}
