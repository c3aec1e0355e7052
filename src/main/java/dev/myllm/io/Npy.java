package dev.myllm.io;

import dev.myllm.tensor.Tensor;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files: writes version 1.0 files byte-identical to {@code numpy.save}
 * ({@code <f4} or {@code <i4}, C order), and reads the simple files tools and tests need.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    /** numpy reserves room for the first axis to grow to 21 digits so it can rewrite the header in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final int CHUNK = 1 << 14;
    private static final long MAX_HEADER = 1 << 20;

    /** The parsed header of a {@code .npy} file: element type code, order and shape. */
    public record Header(String descr, boolean fortranOrder, int[] shape, long dataOffset) {
        /** Number of elements. */
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    private Npy() {
    }

    /** Writes a tensor as a float32 ({@code <f4}) array of its shape. */
    public static void write(Path file, Tensor t) {
        write(file, t.data(), t.shape());
    }

    /** Writes float32 values as a {@code <f4} array of the given shape. */
    public static void write(Path file, float[] data, int... shape) {
        byte[] header = header("<f4", shape, data.length, file);
        AtomicFiles.write(file, out -> {
            out.write(header);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < data.length; from += CHUNK) {
                int n = Math.min(CHUNK, data.length - from);
                buf.clear();
                for (int i = 0; i < n; i++) buf.putFloat(data[from + i]);
                out.write(buf.array(), 0, buf.position());
            }
        });
    }

    /** Writes int32 values (token ids) as a {@code <i4} array of the given shape. */
    public static void writeInts(Path file, int[] data, int... shape) {
        byte[] header = header("<i4", shape, data.length, file);
        AtomicFiles.write(file, out -> {
            out.write(header);
            writeInts(out, data);
        });
    }

    private static void writeInts(OutputStream out, int[] data) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < data.length; from += CHUNK) {
            int n = Math.min(CHUNK, data.length - from);
            buf.clear();
            for (int i = 0; i < n; i++) buf.putInt(data[from + i]);
            out.write(buf.array(), 0, buf.position());
        }
    }

    /** Magic, version 1.0, length and the padded header dict exactly as {@code numpy.save} writes them. */
    static byte[] header(String descr, int[] shape, int length, Path file) {
        long n = 1;
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException(file + ": negative dimension in shape");
            n *= shape[i];
            s.append(i > 0 ? ", " : "").append(shape[i]);
        }
        s.append(shape.length == 1 ? ",)" : ")");
        if (n != length) {
            throw new IllegalArgumentException(file + ": " + length + " values do not fit shape " + s);
        }
        StringBuilder h = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': ").append(s).append(", }");
        if (shape.length > 0) h.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length()));
        int pad = ALIGN - ((MAGIC.length + 2 + 2 + h.length() + 1) % ALIGN); // 1..64, as numpy computes it
        h.append(" ".repeat(pad)).append('\n');
        byte[] dict = h.toString().getBytes(StandardCharsets.US_ASCII);
        if (dict.length > 0xFFFF) throw new IllegalArgumentException(file + ": shape too long for a version 1.0 header");
        ByteBuffer b = ByteBuffer.allocate(10 + dict.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) dict.length).put(dict);
        return b.array();
    }

    /** Reads and checks the header of a {@code .npy} file (versions 1, 2 and 3). */
    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /** Reads a float array ({@code <f4}, {@code <f8}, {@code <f2}, {@code <i4}, {@code <i8}) as float32. */
    public static Tensor read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(file, ch);
            ByteBuffer buf = body(file, ch, h);
            float[] out = new float[(int) h.numel()];
            switch (h.descr()) {
                case "<f4" -> buf.asFloatBuffer().get(out);
                case "<f8" -> { for (int i = 0; i < out.length; i++) out[i] = (float) buf.getDouble(8 * i); }
                case "<f2" -> { for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(buf.getShort(2 * i)); }
                case "<i4" -> { for (int i = 0; i < out.length; i++) out[i] = buf.getInt(4 * i); }
                case "<i8" -> { for (int i = 0; i < out.length; i++) out[i] = buf.getLong(8 * i); }
                default -> throw bad(file, "unsupported dtype '" + h.descr() + "'");
            }
            return Tensor.of(out, h.shape());
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /** Reads an integer array ({@code <i4}, or {@code <i8} with values in int range), flattened. */
    public static int[] readInts(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(file, ch);
            ByteBuffer buf = body(file, ch, h);
            int[] out = new int[(int) h.numel()];
            switch (h.descr()) {
                case "<i4" -> buf.asIntBuffer().get(out);
                case "<i8" -> {
                    for (int i = 0; i < out.length; i++) {
                        long v = buf.getLong(8 * i);
                        if (v != (int) v) throw bad(file, "value " + v + " at index " + i + " does not fit an int");
                        out[i] = (int) v;
                    }
                }
                default -> throw bad(file, "dtype '" + h.descr() + "' is not an integer type (<i4 or <i8)");
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    private static ByteBuffer body(Path file, FileChannel ch, Header h) throws IOException {
        int size = switch (h.descr()) {
            case "<f2" -> 2;
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            default -> throw bad(file, "unsupported dtype '" + h.descr() + "'");
        };
        if (h.fortranOrder()) throw bad(file, "Fortran-order arrays are not supported");
        long bytes = h.numel() * size; // numel < 2^31, so no overflow
        if (bytes > Integer.MAX_VALUE - 8) throw bad(file, "array of " + h.numel() + " elements is too large");
        if (ch.size() - h.dataOffset() < bytes) {
            throw bad(file, "data of " + (ch.size() - h.dataOffset()) + " bytes is shorter than the " + bytes + " the shape needs");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        read(ch, buf, h.dataOffset());
        return buf.flip();
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 10) throw bad(file, "file of " + size + " bytes is too short for a .npy header");
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        read(ch, pre.limit((int) Math.min(12, size)), 0);
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre.get(i) != MAGIC[i]) throw bad(file, "not a .npy file (bad magic)");
        }
        int major = pre.get(6);
        long len;
        int start;
        if (major == 1) {
            len = Short.toUnsignedInt(pre.getShort(8));
            start = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) throw bad(file, "file is too short for a version " + major + " header");
            len = Integer.toUnsignedLong(pre.getInt(8));
            start = 12;
        } else {
            throw bad(file, "unsupported .npy version " + major);
        }
        if (len > MAX_HEADER || start + len > size) throw bad(file, "header length " + len + " runs past the end of the file");
        ByteBuffer hb = ByteBuffer.allocate((int) len);
        read(ch, hb, start);
        String dict = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict), f = FORTRAN.matcher(dict), s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) throw bad(file, "header lacks descr, fortran_order or shape");
        List<Integer> dims = new ArrayList<>();
        long numel = 1;
        for (String part : s.group(1).split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int v;
            try {
                v = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw bad(file, "shape dimension '" + p + "' is not an int");
            }
            if (v < 0) throw bad(file, "negative shape dimension " + v);
            numel *= v;
            if (numel > Integer.MAX_VALUE - 8) throw bad(file, "shape has too many elements");
            dims.add(v);
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        return new Header(d.group(1), f.group(1).equals("True"), shape, start + len);
    }

    private static void read(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        long at = pos;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, at);
            if (r < 0) throw new IOException("unexpected end of file");
            at += r;
        }
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }
}
