package dev.myllm.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads text files as strict UTF-8, naming the file and byte offset of the first bad byte. */
public final class TextFiles {
    /**
     * Bytes that are not UTF-8: the message names their source and the offset of the first bad byte and says to save
     * them as UTF-8; {@link #where()} is the message without that advice, for a caller that offers another remedy.
     */
    public static final class InvalidUtf8Exception extends IllegalArgumentException {
        private final String where;

        InvalidUtf8Exception(String where) {
            super(where + " (save it as UTF-8)");
            this.where = where;
        }

        /**
         * The source and the offset of the first bad byte.
         *
         * @return for example {@code notes.txt: invalid UTF-8 at byte offset 3}
         */
        public String where() {
            return where;
        }
    }

    private TextFiles() {
    }

    /** Reads {@code file} as UTF-8; with {@code replace} bad bytes become U+FFFD, otherwise they are an {@link InvalidUtf8Exception}. */
    public static String readUtf8(Path file, boolean replace) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return decodeUtf8(bytes, file.toString(), replace);
    }

    /** Decodes {@code bytes} as UTF-8; with {@code replace} bad bytes become U+FFFD, otherwise an {@link InvalidUtf8Exception} names {@code source}. */
    public static String decodeUtf8(byte[] bytes, String source, boolean replace) {
        return decode(bytes, source, replace);
    }

    /** Decodes {@code bytes} as UTF-8, bad bytes an {@link InvalidUtf8Exception} naming {@code source} (labelled data). */
    public static String decodeUtf8Strictly(byte[] bytes, String source) {
        return decode(bytes, source, false);
    }

    private static String decode(byte[] bytes, String source, boolean replace) {
        if (replace) return new String(bytes, StandardCharsets.UTF_8);
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new InvalidUtf8Exception(source + ": invalid UTF-8 at byte offset " + in.position());
        }
        dec.flush(out);
        out.flip();
        return out.toString();
    }
}
