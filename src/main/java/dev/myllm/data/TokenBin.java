package dev.myllm.data;

import dev.myllm.util.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Pre-tokenized corpora: llm.c's {@code .bin} (256 little-endian int32 header: magic 20240520, version 1,
 * token count; then uint16 tokens) and nanoGPT's raw little-endian uint16 {@code .bin}.
 */
public final class TokenBin {
    public static final int MAGIC = 20240520;
    public static final int HEADER_BYTES = 256 * 4;

    private TokenBin() {
    }

    /** Whether {@code file} looks pre-tokenized (a {@code .bin} name). */
    public static boolean isBin(Path file) {
        return file.getFileName().toString().endsWith(".bin");
    }

    /** Reads either format: a file starting with llm.c's magic must have a consistent header. */
    public static int[] read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer all = ByteBuffer.allocate((int) Math.min(size, Integer.MAX_VALUE - 16)).order(ByteOrder.LITTLE_ENDIAN);
            if (size > all.capacity()) throw new IllegalArgumentException(file + ": too large (" + size + " bytes)");
            while (all.hasRemaining() && ch.read(all) > 0) {
                // read fully
            }
            all.flip();
            if (size >= 4 && all.getInt(0) == MAGIC) {
                if (size < HEADER_BYTES) throw new IllegalArgumentException(file + ": corrupt .bin header (file shorter than the 1024-byte header)");
                int version = all.getInt(4);
                long count = all.getInt(8) & 0xFFFFFFFFL;
                if (version != 1) throw new IllegalArgumentException(file + ": corrupt .bin header (version " + version + ", expected 1)");
                long expect = HEADER_BYTES + 2 * count;
                if (expect != size) {
                    throw new IllegalArgumentException(file + ": corrupt .bin header (says " + count + " tokens, file holds "
                            + (size - HEADER_BYTES) / 2.0 + ")");
                }
                return uint16(all, HEADER_BYTES, (int) count);
            }
            if (size % 2 != 0) throw new IllegalArgumentException(file + ": not a token file (no llm.c header and an odd size for uint16 tokens)");
            return uint16(all, 0, (int) (size / 2));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] uint16(ByteBuffer b, int offset, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) out[i] = b.getShort(offset + 2 * i) & 0xFFFF;
        return out;
    }

    /** Writes an llm.c {@code .bin} atomically; every token must fit in uint16. */
    public static void writeLlmc(Path file, int[] tokens, int length) {
        for (int i = 0; i < length; i++) {
            if (tokens[i] < 0 || tokens[i] > 0xFFFF) {
                throw new IllegalArgumentException(file + ": token id " + tokens[i] + " does not fit the uint16 .bin format");
            }
        }
        AtomicFiles.write(file, out -> {
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0, MAGIC).putInt(4, 1).putInt(8, length);
            out.write(h.array());
            ByteBuffer body = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < length; i++) {
                if (!body.hasRemaining()) {
                    out.write(body.array(), 0, body.position());
                    body.clear();
                }
                body.putShort((short) tokens[i]);
            }
            out.write(body.array(), 0, body.position());
        });
    }

    /** Writes nanoGPT's raw uint16 format atomically. */
    public static void writeRaw(Path file, int[] tokens) {
        AtomicFiles.write(file, out -> {
            ByteBuffer b = ByteBuffer.allocate(tokens.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int t : tokens) b.putShort((short) t);
            out.write(b.array());
        });
    }

    /** Size in bytes of a file, for messages. */
    static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }
}
