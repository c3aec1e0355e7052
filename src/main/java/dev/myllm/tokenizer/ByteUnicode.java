package dev.myllm.tokenizer;

import java.io.ByteArrayOutputStream;

/** GPT-2's reversible byte ↔ printable-character mapping used in {@code encoder.json} and {@code vocab.json}. */
public final class ByteUnicode {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteUnicode() {
    }

    /** The mapped text of some bytes (space becomes Ġ, newline Ċ). */
    public static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** The bytes behind mapped text. */
    public static byte[] decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int b = c < 512 ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) throw new IllegalArgumentException("not a byte-level BPE token: '" + s + "'");
            out.write(b);
        }
        return out.toByteArray();
    }
}
