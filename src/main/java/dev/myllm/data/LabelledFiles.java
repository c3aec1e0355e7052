package dev.myllm.data;

import dev.myllm.util.IoErrors;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.TextFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads and writes labelled files: CSV/TSV ({@code label,text} or {@code text,label}, a header row detected by
 * its column names) and JSONL ({@code {"text": ..., "label": ...}} per line). Cached datasets are JSONL.
 */
public final class LabelledFiles {
    /** The default column (or JSON key) names. */
    public static final String LABEL = "label";
    public static final String TEXT = "text";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LabelledFiles() {
    }

    /** Reads a labelled file with the default column names {@code label} and {@code text}. */
    public static List<LabelledExample> read(Path file) {
        return read(file, LABEL, TEXT);
    }

    /** Reads a labelled file; the format comes from the extension ({@code .jsonl .json .csv .tsv}), else from the content. */
    public static List<LabelledExample> read(Path file, String labelColumn, String textColumn) {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, not a labelled file");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such labelled file: " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        String text = TextFiles.decodeUtf8Strictly(bytes, file.toString());
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        if (text.isBlank()) throw new IllegalArgumentException(file + ": empty file (no labelled examples)");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String source = file.toString();
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")
                || (!name.endsWith(".csv") && !name.endsWith(".tsv") && text.stripLeading().startsWith("{"))) {
            return readJsonl(text, source, labelColumn, textColumn);
        }
        char delimiter = name.endsWith(".tsv") || name.endsWith(".tab") ? '\t'
                : name.endsWith(".csv") ? ',' : firstLine(text).indexOf('\t') >= 0 ? '\t' : ',';
        return readDelimited(text, delimiter, source, labelColumn, textColumn);
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    /** JSONL: one object per non-blank line with a string {@code textKey} and a {@code labelKey} (string, number or boolean). */
    static List<LabelledExample> readJsonl(String text, String source, String labelKey, String textKey) {
        List<LabelledExample> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            String where = source + " line " + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(lines[i]);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where + ": not valid JSON (" + dev.myllm.util.JsonFiles.reason(e) + ")");
            }
            if (!(node instanceof ObjectNode o)) throw new IllegalArgumentException(where + ": expected a JSON object {\"text\": ..., \"label\": ...}");
            JsonNode label = o.get(labelKey);
            JsonNode t = o.get(textKey);
            if (label == null || label.isNull()) throw new IllegalArgumentException(where + ": no \"" + labelKey + "\" field (unknown label column; keys: "
                    + String.join(", ", iterable(o)) + ")");
            if (!label.isValueNode()) throw new IllegalArgumentException(where + ": \"" + labelKey + "\" must be a string or number");
            if (t == null || !t.isTextual()) throw new IllegalArgumentException(where + ": no string \"" + textKey + "\" field");
            out.add(example(label.asText(), t.asText(), where));
        }
        return out;
    }

    private static List<String> iterable(ObjectNode o) {
        List<String> keys = new ArrayList<>();
        o.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    /**
     * CSV/TSV with quote rules of {@link DelimitedText}. A first row holding {@code labelColumn} or {@code textColumn}
     * (any case) is a header and picks the columns; without one each row has two fields and the label is the
     * column with fewer distinct values (the first on a tie).
     */
    static List<LabelledExample> readDelimited(String text, char delimiter, String source, String labelColumn, String textColumn) {
        List<DelimitedText.Row> rows = DelimitedText.parse(text, delimiter, source);
        if (rows.isEmpty()) throw new IllegalArgumentException(source + ": empty file (no labelled examples)");
        List<String> first = rows.getFirst().fields();
        int li = indexOf(first, labelColumn);
        int ti = indexOf(first, textColumn);
        int width;
        List<DelimitedText.Row> data;
        if (li >= 0 || ti >= 0) {
            String cols = String.join(", ", first);
            if (li < 0) throw new IllegalArgumentException(source + ": unknown label column \"" + labelColumn + "\" (header has: " + cols + ")");
            if (ti < 0) throw new IllegalArgumentException(source + ": unknown text column \"" + textColumn + "\" (header has: " + cols + ")");
            width = first.size();
            data = rows.subList(1, rows.size());
            if (data.isEmpty()) throw new IllegalArgumentException(source + ": empty file (a header and no labelled examples)");
        } else {
            if (!labelColumn.equals(LABEL) || !textColumn.equals(TEXT)) {
                throw new IllegalArgumentException(source + ": unknown label column \"" + labelColumn + "\" (the file has no header row naming its columns)");
            }
            width = 2;
            data = rows;
        }
        for (DelimitedText.Row r : data) {
            if (r.fields().size() != width) {
                throw new IllegalArgumentException(source + " line " + r.line() + ": expected " + width + " fields separated by "
                        + (delimiter == '\t' ? "tabs" : "'" + delimiter + "'") + ", found " + r.fields().size()
                        + (width == 2 ? " (quote a text that holds the delimiter)" : ""));
            }
        }
        if (li < 0) {
            li = distinct(data, 1) < distinct(data, 0) ? 1 : 0;
            ti = 1 - li;
        }
        List<LabelledExample> out = new ArrayList<>(data.size());
        for (DelimitedText.Row r : data) out.add(example(r.fields().get(li), r.fields().get(ti), source + " line " + r.line()));
        return out;
    }

    private static int indexOf(List<String> header, String name) {
        for (int i = 0; i < header.size(); i++) if (header.get(i).strip().equalsIgnoreCase(name)) return i;
        return -1;
    }

    private static int distinct(List<DelimitedText.Row> rows, int column) {
        Set<String> seen = new HashSet<>();
        for (DelimitedText.Row r : rows) seen.add(r.fields().get(column));
        return seen.size();
    }

    private static LabelledExample example(String label, String text, String where) {
        if (label.isBlank()) throw new IllegalArgumentException(where + ": empty label");
        return new LabelledExample(text, label);
    }

    /** Writes examples as JSONL ({@code {"text": ..., "label": ...}} per line), atomically. */
    public static void writeJsonl(Path file, List<LabelledExample> examples) {
        AtomicFiles.write(file, out -> {
            for (LabelledExample e : examples) {
                ObjectNode o = JSON.createObjectNode();
                o.put(TEXT, e.text());
                o.put(LABEL, e.label());
                out.write(JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
                out.write('\n');
            }
        });
    }
}
