package dev.myllm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Turns token bytes into text as they stream in, holding back the bytes of a UTF-8 character not yet complete. */
public final class Utf8StreamDecoder {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    public Utf8StreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one token; returns the text that is now complete (possibly empty). */
    public String accept(int id) {
        return acceptBytes(tokenizer.decodeBytes(new int[]{id}));
    }

    /** Adds raw bytes; returns the text that is now complete (possibly empty). */
    public String acceptBytes(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int cut = completePrefix(all);
        pending.reset();
        pending.write(all, cut, all.length - cut);
        return new String(all, 0, cut, StandardCharsets.UTF_8);
    }

    /** Ends the stream: held bytes that never completed become U+FFFD. */
    public String flush() {
        byte[] all = pending.toByteArray();
        pending.reset();
        return new String(all, StandardCharsets.UTF_8);
    }

    /** Length of the longest prefix that does not end inside a possibly valid multi-byte character. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // Look back at most 3 bytes for the lead byte of a trailing incomplete sequence.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) continue; // continuation byte: keep looking for its lead
            int need = c < 0xC2 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 1;
            if (need == 1) return n;
            return back < need ? n - back : n;
        }
        return n;
    }
}
