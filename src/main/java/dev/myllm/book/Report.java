package dev.myllm.book;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** What one chapter computed: each result beside the number the book prints, with a verdict. */
public final class Report {
    /** SAME: equal as printed; DIFFERENT: not; NOTE: the book's number came from a GPU or a long run, shown for comparison. */
    public enum Mark { SAME, DIFFERENT, NOTE }

    /** One line of the comparison. */
    public record Row(String what, String ours, String book, Mark mark, String note) {
    }

    private final String chapter, title;
    private final List<Row> rows = new ArrayList<>();

    public Report(String chapter, String title) {
        this.chapter = chapter;
        this.title = title;
    }

    public String chapter() {
        return chapter;
    }

    public String title() {
        return title;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** Compares text as printed. */
    public Report same(String what, String ours, String book) {
        rows.add(new Row(what, ours, book, ours.equals(book) ? Mark.SAME : Mark.DIFFERENT, ""));
        return this;
    }

    /** Compares a number rounded to the book's printed decimals. */
    public Report number(String what, double ours, String book) {
        int decimals = book.contains(".") ? book.length() - book.indexOf('.') - 1 : 0;
        return same(what, String.format(Locale.ROOT, "%." + decimals + "f", ours), book);
    }

    /** Compares numbers rounded to the book's printed decimals, element by element. */
    public Report numbers(String what, float[] ours, String book) {
        String[] parts = book.replaceAll("[\\[\\]]", "").split(",\\s*");
        int decimals = parts[0].contains(".") ? parts[0].length() - parts[0].indexOf('.') - 1 : 0;
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ours.length; i++) {
            double v = ours[i];
            String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
            if (s.startsWith("-") && Double.parseDouble(s) == 0) s = s.substring(1);
            sb.append(i == 0 ? "" : ", ").append(s);
        }
        return same(what, sb.append(']').toString(), book);
    }

    /** Compares integer lists. */
    public Report ints(String what, int[] ours, String book) {
        return same(what, Arrays.toString(ours), book);
    }

    /** A result the book printed from a GPU or a long run: shown beside it, not marked. */
    public Report note(String what, String ours, String book, String note) {
        rows.add(new Row(what, ours, book, Mark.NOTE, note));
        return this;
    }

    /** True when no row is DIFFERENT. */
    public boolean allSame() {
        return rows.stream().noneMatch(r -> r.mark() == Mark.DIFFERENT);
    }
}
