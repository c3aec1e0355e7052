package dev.myllm.generate;

import dev.myllm.tokenizer.Utf8Stream;
import java.util.List;
import java.util.function.Consumer;

/**
 * The text side of generation: reassembles UTF-8 from token bytes, finds stop strings, and holds
 * back the end of the text while it might be the start of one, so the text handed on is never cut
 * inside a character and never contains (a part of) a stop string.
 */
public final class TextStream {
    private final List<String> stops;
    private final Consumer<String> sink;
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StringBuilder text = new StringBuilder();
    private final int longestStop;
    private int emitted;
    private int stopAt = -1;

    /** {@code sink} (may be null) receives each piece of text as soon as it is safe to show. */
    public TextStream(List<String> stops, Consumer<String> sink) {
        this.stops = List.copyOf(stops);
        this.sink = sink;
        this.longestStop = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Adds a token's bytes; true when the text now contains a stop string. */
    public boolean add(byte[] bytes) {
        String piece = utf8.push(bytes);
        if (piece.isEmpty()) return false;
        int searchFrom = Math.max(0, text.length() - longestStop + 1);
        text.append(piece);
        for (String s : stops) {
            int i = text.indexOf(s, searchFrom);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
        }
        if (stopAt >= 0) return true;
        emit(text.length() - heldBack());
        return false;
    }

    /** Length of the longest end of the text that is the start of some stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > best; n--) {
                if (endsWithPrefix(s, n)) {
                    best = n;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWithPrefix(String s, int n) {
        int off = text.length() - n;
        for (int i = 0; i < n; i++) if (text.charAt(off + i) != s.charAt(i)) return false;
        return true;
    }

    private void emit(int upTo) {
        if (upTo > emitted) {
            if (sink != null) sink.accept(text.substring(emitted, upTo));
            emitted = upTo;
        }
    }

    /** Ends the text: flushes what was held back (up to a stop string when {@code stopped}); returns all of it. */
    public String finish(boolean stopped) {
        if (!stopped) text.append(utf8.flush());
        int end = stopped ? stopAt : text.length();
        emit(end);
        return text.substring(0, end);
    }
}
