package dev.myllm.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tokens' bytes made readable, one piece per token: whole UTF-8 characters as text, and each byte
 * of a character that a token boundary cuts in two (or of an invalid sequence) as {@code <E2>},
 * with the token marked split.
 */
final class Pieces {
    /** A token's readable text, and whether it holds bytes of a cut character. */
    record Piece(String text, boolean split) {
    }

    private Pieces() {
    }

    static List<Piece> of(byte[][] tokens) {
        int total = 0;
        for (byte[] t : tokens) total += t.length;
        byte[] all = new byte[total];
        int[] owner = new int[total];
        for (int i = 0, p = 0; i < tokens.length; i++) {
            for (byte b : tokens[i]) {
                owner[p] = i;
                all[p++] = b;
            }
        }
        StringBuilder[] text = new StringBuilder[tokens.length];
        boolean[] split = new boolean[tokens.length];
        for (int i = 0; i < tokens.length; i++) text[i] = new StringBuilder();
        int p = 0;
        while (p < total) {
            int n = length(all, p, total);
            boolean whole = n > 0 && owner[p + n - 1] == owner[p];
            if (whole) {
                text[owner[p]].append(new String(all, p, n, StandardCharsets.UTF_8));
                p += n;
            } else {
                // the character (or the invalid byte) runs across tokens: show each byte where it lies
                int m = Math.max(n, 1);
                for (int q = p; q < p + m; q++) {
                    text[owner[q]].append(String.format(Locale.ROOT, "<%02X>", all[q] & 0xff));
                    split[owner[q]] = true;
                }
                p += m;
            }
        }
        List<Piece> out = new ArrayList<>(tokens.length);
        for (int i = 0; i < tokens.length; i++) out.add(new Piece(text[i].toString(), split[i]));
        return out;
    }

    /** The length of the valid UTF-8 character at {@code p}, or 0 when the bytes there are not one. */
    private static int length(byte[] b, int p, int end) {
        int lead = b[p] & 0xff;
        int n = lead < 0x80 ? 1 : lead >= 0xC2 && lead < 0xE0 ? 2 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xF0 && lead < 0xF5 ? 4 : 0;
        if (n == 0 || p + n > end) return 0;
        for (int i = 1; i < n; i++) if ((b[p + i] & 0xC0) != 0x80) return 0;
        // overlong and surrogate forms Java would decode to U+FFFD: treat as bytes
        String s = new String(b, p, n, StandardCharsets.UTF_8);
        return s.indexOf('\uFFFD') >= 0 ? 0 : n;
    }
}
