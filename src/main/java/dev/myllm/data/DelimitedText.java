package dev.myllm.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Quote-aware CSV/TSV records, with the rules of Python's {@code csv} module and pandas' {@code read_csv}
 * (RFC 4180 plus their leniency): a field that begins with {@code "} is quoted until an unpaired {@code "}
 * and may span lines; {@code ""} inside it is one {@code "}; characters after the closing quote up to the
 * delimiter are appended; a {@code "} inside an unquoted field is an ordinary character. Blank lines are
 * skipped, as pandas does. An unclosed quote at the end is an error naming the line where it opened.
 */
public final class DelimitedText {
    /** One record: its fields and the 1-based line where it starts. */
    public record Row(int line, List<String> fields) {
    }

    private DelimitedText() {
    }

    /** Parses {@code text} into records; {@code source} names the input in errors. */
    public static List<Row> parse(String text, char delimiter, String source) {
        List<Row> rows = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int line = 1;
        int rowLine = 1;
        int quoteLine = 0;
        boolean inQuotes = false;
        boolean fieldStart = true;
        boolean rowEmpty = true;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (inQuotes) {
                if (c == '"') {
                    if (i + 1 < n && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        inQuotes = false;
                    }
                } else {
                    if (c == '\n') line++;
                    field.append(c);
                }
                continue;
            }
            if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') i++;
                if (!rowEmpty) {
                    fields.add(field.toString());
                    rows.add(new Row(rowLine, List.copyOf(fields)));
                }
                fields.clear();
                field.setLength(0);
                fieldStart = true;
                rowEmpty = true;
                line++;
                rowLine = line;
            } else if (c == delimiter) {
                fields.add(field.toString());
                field.setLength(0);
                fieldStart = true;
                rowEmpty = false;
            } else if (c == '"' && fieldStart) {
                inQuotes = true;
                quoteLine = line;
                fieldStart = false;
                rowEmpty = false;
            } else {
                field.append(c);
                fieldStart = false;
                rowEmpty = false;
            }
        }
        if (inQuotes) throw new IllegalArgumentException(source + " line " + quoteLine + ": quoted field never closed (a \" without its closing \")");
        if (!rowEmpty) {
            fields.add(field.toString());
            rows.add(new Row(rowLine, List.copyOf(fields)));
        }
        return rows;
    }
}
