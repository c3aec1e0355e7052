package dev.myllm.io;

import dev.myllm.tensor.Tensor;
import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * A safetensors file open for reading: the header is read and validated once, the data section
 * is memory-mapped, and tensors are converted to float32 one at a time on request.
 *
 * <p>The mapping is a {@link MemorySegment} (64-bit offsets), so files over 2 GB such as
 * gpt2-xl in float32 work; loading a tensor copies its bytes straight from the mapping into the
 * tensor's {@code float[]}, the only copy on the heap. Malformed files fail in {@link #open}
 * with one {@link IllegalArgumentException} naming the file and the problem; I/O failures are
 * {@link UncheckedIOException}s. Instances are safe to share between threads until closed.
 */
public final class Safetensors implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The largest Java array the JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, String> metadata;
    private final SequencedMap<String, TensorInfo> entries;

    private Safetensors(Path file, Arena arena, MemorySegment data, SafetensorsHeader.Parsed header) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.metadata = header.metadata();
        this.entries = header.entries();
    }

    /** Opens and validates a safetensors file; close it to release the mapping. */
    public static Safetensors open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw SafetensorsHeader.bad(file, "file of " + size + " bytes is too short for a safetensors header");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.getLong(0);
            SafetensorsHeader.checkLength(file, n, size); // before allocating n bytes
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8);
            long dataStart = 8 + n;
            SafetensorsHeader.Parsed parsed = SafetensorsHeader.parse(file, header.array(), size - dataStart);
            // A shared arena lets several threads load tensors at once; the mapping outlives the channel.
            Arena arena = Arena.ofShared();
            MemorySegment data;
            try {
                data = size > dataStart ? ch.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena)
                        : MemorySegment.ofArray(new byte[0]);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
            return new Safetensors(file, arena, data, parsed);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /** Reads every tensor of a file as float32, in header order. */
    public static SequencedMap<String, Tensor> read(Path file) {
        try (Safetensors st = open(file)) {
            return st.loadAll();
        }
    }

    /** Writes float32 tensors; see {@link SafetensorsWriter#write(Path, Map, Map, DType)}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        SafetensorsWriter.write(file, tensors, metadata, DType.F32);
    }

    /** Writes tensors stored as {@code dtype} (F32, F16 or BF16); see {@link SafetensorsWriter}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, DType dtype) {
        SafetensorsWriter.write(file, tensors, metadata, dtype);
    }

    /** The file this was opened from. */
    public Path file() {
        return file;
    }

    /** The header's {@code __metadata__} (empty when absent), in file order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor names, in header order. */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    /** Every entry (name, dtype, shape, byte range), in header order. */
    public List<TensorInfo> entries() {
        return List.copyOf(entries.values());
    }

    /** Whether the file holds a tensor of this name. */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The entry of one tensor; an {@link IllegalArgumentException} if there is none. */
    public TensorInfo info(String name) {
        TensorInfo t = entries.get(name);
        if (t == null) throw SafetensorsHeader.bad(file, "no tensor named '" + SafetensorsHeader.clip(name) + "'");
        return t;
    }

    /** Loads one tensor converted to float32. */
    public Tensor load(String name) {
        TensorInfo t = info(name);
        int[] shape = intShape(t);
        float[] out = new float[(int) t.numel()];
        convert(t, out, 0);
        return Tensor.of(out, shape);
    }

    /**
     * Converts one tensor into {@code dst[offset ..]}, so a model can fill its own parameter
     * arrays without an intermediate tensor.
     */
    public void loadInto(String name, float[] dst, int offset) {
        TensorInfo t = info(name);
        intShape(t);
        if (offset < 0 || offset > dst.length || dst.length - offset < t.numel()) {
            throw new IllegalArgumentException(file + ": tensor '" + SafetensorsHeader.clip(name) + "' has " + t.numel()
                    + " elements, more than the " + Math.max(0, dst.length - offset) + " left in the destination");
        }
        convert(t, dst, offset);
    }

    /**
     * Converts elements {@code [from, from + n)} of one tensor (in its row-major order) into
     * {@code dst[offset ..]}: a loader streams a large tensor through a small buffer this way.
     */
    public void loadRange(String name, long from, int n, float[] dst, int offset) {
        TensorInfo t = info(name);
        if (!t.dtype().loadable()) intShape(t); // the one-line error; nothing else to check (called often: no garbage)
        if (from < 0 || n < 0 || from + n > t.numel() || offset < 0 || offset + n > dst.length) {
            throw new IllegalArgumentException(file + ": elements [" + from + ", " + (from + n) + ") of tensor '" + SafetensorsHeader.clip(name)
                    + "' (" + t.numel() + " elements) do not fit");
        }
        convert(t, from, n, dst, offset);
    }

    /**
     * The bytes of one tensor where the file is mapped (little-endian, as stored): valid until
     * {@link #close}, so a model may compute from them without a copy.
     */
    public MemorySegment segment(String name) {
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.byteLength());
    }

    /** Loads every tensor as float32, in header order. */
    public SequencedMap<String, Tensor> loadAll() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        for (String name : entries.keySet()) out.put(name, load(name));
        return out;
    }

    /** Releases the mapping; loading afterwards fails. */
    @Override
    public void close() {
        arena.close();
    }

    private int[] intShape(TensorInfo t) {
        if (!t.dtype().loadable()) {
            throw new IllegalArgumentException(file + ": tensor '" + SafetensorsHeader.clip(t.name()) + "' has dtype "
                    + t.dtype() + ", which is not converted to float32");
        }
        if (t.numel() > MAX_ARRAY) {
            throw new IllegalArgumentException(file + ": tensor '" + SafetensorsHeader.clip(t.name()) + "' has "
                    + t.numel() + " elements, more than a Java array holds");
        }
        long[] s = t.shape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            // With numel <= MAX_ARRAY every dimension fits, except next to a zero dimension.
            if (s[i] > MAX_ARRAY) {
                throw new IllegalArgumentException(file + ": tensor '" + SafetensorsHeader.clip(t.name())
                        + "' has dimension " + s[i] + ", larger than a Java int");
            }
            shape[i] = (int) s[i];
        }
        return shape;
    }

    private void convert(TensorInfo t, float[] out, int at) {
        convert(t, 0, (int) t.numel(), out, at);
    }

    private void convert(TensorInfo t, long from, int n, float[] out, int at) {
        long p = t.begin() + from * t.dtype().size();
        MemorySegment d = data;
        try {
            switch (t.dtype()) {
                case F32 -> MemorySegment.copy(d, F32, p, out, at, n);
                case F16 -> { for (int i = 0; i < n; i++) out[at + i] = Float.float16ToFloat(d.get(I16, p + 2L * i)); }
                case BF16 -> { for (int i = 0; i < n; i++) out[at + i] = Float.intBitsToFloat(d.get(I16, p + 2L * i) << 16); }
                case F64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) d.get(F64, p + 8L * i); }
                case I64 -> { for (int i = 0; i < n; i++) out[at + i] = d.get(I64, p + 8L * i); }
                case I32 -> { for (int i = 0; i < n; i++) out[at + i] = d.get(I32, p + 4L * i); }
                case U32 -> { for (int i = 0; i < n; i++) out[at + i] = Integer.toUnsignedLong(d.get(I32, p + 4L * i)); }
                case I16 -> { for (int i = 0; i < n; i++) out[at + i] = d.get(I16, p + 2L * i); }
                case U16 -> { for (int i = 0; i < n; i++) out[at + i] = Short.toUnsignedInt(d.get(I16, p + 2L * i)); }
                case I8 -> { for (int i = 0; i < n; i++) out[at + i] = d.get(ValueLayout.JAVA_BYTE, p + i); }
                case U8, BOOL -> { for (int i = 0; i < n; i++) out[at + i] = Byte.toUnsignedInt(d.get(ValueLayout.JAVA_BYTE, p + i)); }
                default -> throw new IllegalStateException("unreachable: " + t.dtype());
            }
        } catch (IllegalStateException e) {
            if (!arena.scope().isAlive()) throw new IllegalStateException(file + ": already closed", e);
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }
}
