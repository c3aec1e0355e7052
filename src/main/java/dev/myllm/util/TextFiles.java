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
    private TextFiles() {
    }

    /** Reads {@code file} as UTF-8; with {@code replace} bad bytes become U+FFFD, otherwise they are an error. */
    public static String readUtf8(Path file, boolean replace) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return decodeUtf8(bytes, file.toString(), replace);
    }

    /** Decodes {@code bytes} as UTF-8; {@code source} names them in the error message, which points to --replace-invalid. */
    public static String decodeUtf8(byte[] bytes, String source, boolean replace) {
        return decode(bytes, source, replace, " (use --replace-invalid to decode with replacement characters)");
    }

    /** Decodes {@code bytes} as UTF-8, bad bytes an error: for a command without --replace-invalid (labelled data). */
    public static String decodeUtf8Strictly(byte[] bytes, String source) {
        return decode(bytes, source, false, " (save it as UTF-8)");
    }

    private static String decode(byte[] bytes, String source, boolean replace, String hint) {
        if (replace) return new String(bytes, StandardCharsets.UTF_8);
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new IllegalArgumentException(source + ": invalid UTF-8 at byte offset " + in.position() + hint);
        }
        dec.flush(out);
        out.flip();
        return out.toString();
    }
}
