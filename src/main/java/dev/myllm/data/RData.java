package dev.myllm.data;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads the character vectors of an R lazy-load database ({@code Rdata.rdb}): records of a 4-byte
 * big-endian length and a zlib stream, each an R XDR serialization of a string vector.
 */
public final class RData {
    private static final int STRSXP = 16;

    private RData() {
    }

    /** Every record of {@code rdb} as its list of strings (NA becomes an empty string); {@code source} names it in errors. */
    public static List<List<String>> readStringVectors(byte[] rdb, String source) {
        List<List<String>> records = new ArrayList<>();
        int pos = 0;
        while (pos < rdb.length) {
            if (pos + 4 > rdb.length) throw corrupt(source, "truncated record header at byte " + pos);
            Inflater inf = new Inflater();
            inf.setInput(rdb, pos + 4, rdb.length - pos - 4);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            try {
                while (!inf.finished()) {
                    int n = inf.inflate(buf);
                    if (n == 0 && (inf.needsInput() || inf.needsDictionary())) throw corrupt(source, "truncated zlib stream at byte " + pos);
                    out.write(buf, 0, n);
                }
            } catch (DataFormatException e) {
                throw corrupt(source, "bad zlib stream at byte " + pos + ": " + e.getMessage());
            }
            int used = rdb.length - pos - 4 - inf.getRemaining();
            inf.end();
            records.add(parseXdr(out.toByteArray(), source + " record " + (records.size() + 1)));
            pos += 4 + used;
        }
        return records;
    }

    /** One XDR serialization of a string vector: header, encoding, then (flags, length, bytes) per element. */
    static List<String> parseXdr(byte[] data, String source) {
        ByteBuffer b = ByteBuffer.wrap(data); // big-endian, as XDR is
        try {
            if (b.get() != 'X' || b.get() != '\n') throw corrupt(source, "not an XDR serialization");
            int version = b.getInt();
            b.getInt(); // writer's R version
            b.getInt(); // oldest reader version
            if (version == 3) {
                int n = b.getInt();
                b.position(b.position() + n); // native encoding name, e.g. UTF-8
            }
            int flags = b.getInt();
            if ((flags & 0xFF) != STRSXP) throw corrupt(source, "not a string vector (type " + (flags & 0xFF) + ")");
            int count = b.getInt();
            List<String> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                b.getInt(); // CHARSXP flags (encoding bits)
                int len = b.getInt();
                if (len == -1) {
                    out.add("");
                    continue;
                }
                if (len < 0 || len > b.remaining()) throw corrupt(source, "bad string length " + len);
                out.add(new String(data, b.position(), len, StandardCharsets.UTF_8));
                b.position(b.position() + len);
            }
            return out;
        } catch (java.nio.BufferUnderflowException e) {
            throw corrupt(source, "truncated");
        }
    }

    private static IllegalArgumentException corrupt(String source, String what) {
        return new IllegalArgumentException(source + ": not a readable R data file (" + what + ")");
    }
}
