package dev.myllm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of byte pieces into text pieces without ever splitting a UTF-8 character: the
 * bytes of an incomplete character at the end are held back until the rest arrives. Bytes that
 * can never form a character decode to U+FFFD, as Python's {@code errors="replace"} would.
 */
public final class Utf8Stream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds bytes; returns the text that is now complete (possibly empty). */
    public String push(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int cut = completePrefix(all);
        pending.reset();
        pending.write(all, cut, all.length - cut);
        return new String(all, 0, cut, StandardCharsets.UTF_8);
    }

    /** The held-back bytes as text (replacement characters if still incomplete); empties the buffer. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /** Bytes held back for an incomplete character. */
    public int pendingBytes() {
        return pending.size();
    }

    /** Length of the longest prefix that does not end inside a character that could still be completed. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // the last lead byte is at most 3 bytes back (a character has at most 4 bytes)
        for (int back = 1; back <= Math.min(4, n); back++) {
            int x = b[n - back] & 0xFF;
            if ((x & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = x >= 0xF0 && x <= 0xF4 ? 4 : x >= 0xE0 ? 3 : x >= 0xC2 && x < 0xE0 ? 2 : 1;
            if (x >= 0xF5) need = 1; // never valid: decode (as U+FFFD) now
            return need > back ? n - back : n;
        }
        return n; // only continuation bytes: no lead can complete them
    }
}
