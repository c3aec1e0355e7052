package dev.myllm.finetune;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Instruction records from a file: a JSON array or JSON lines of Alpaca records
 * ({@code instruction}, {@code input}, {@code output}, optionally {@code chosen}/{@code rejected})
 * or chat records ({@code messages: [{role, content}]}), and the book's split.
 */
public final class InstructionData {
    /** The three parts of a split, in the book's names. */
    public record Split(List<InstructionExample> train, List<InstructionExample> val, List<InstructionExample> test) {
        public Split {
            train = List.copyOf(train);
            val = List.copyOf(val);
            test = List.copyOf(test);
        }

        /** The part called {@code name} (train, val, test). */
        /** The names {@link #part} takes. */
        public static final List<String> PART_NAMES = List.of("train", "val", "validation", "test");

        public List<InstructionExample> part(String name) {
            return switch (name) {
                case "train" -> train;
                case "val", "validation" -> val;
                case "test" -> test;
                default -> throw new IllegalArgumentException("unknown split '" + name + "' (known: train, val, test)");
            };
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private InstructionData() {
    }

    /** Reads every record of {@code file}; a bad record is a one-line error naming the file and the record. */
    public static List<InstructionExample> read(Path file) {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, not a file of records");
        String text;
        try {
            text = dev.myllm.util.TextFiles.decodeUtf8Strictly(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + dev.myllm.util.IoErrors.reason(e), e);
        }
        return parse(text, file.toString());
    }

    /** Parses a JSON array or JSON lines; {@code source} names the input in messages. */
    public static List<InstructionExample> parse(String text, String source) {
        List<JsonNode> nodes = new ArrayList<>();
        String t = text.strip();
        if (t.startsWith("\uFEFF")) t = t.substring(1);
        try {
            if (t.startsWith("[")) {
                JSON.readTree(t).forEach(nodes::add);
            } else {
                String[] lines = t.split("\r?\n");
                for (int i = 0; i < lines.length; i++) {
                    if (lines[i].isBlank()) continue;
                    try {
                        nodes.add(JSON.readTree(lines[i]));
                    } catch (JsonProcessingException e) {
                        throw new IllegalArgumentException(source + ": line " + (i + 1) + " is not JSON: " + dev.myllm.util.JsonFiles.reason(e));
                    }
                }
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not a JSON array: " + dev.myllm.util.JsonFiles.reason(e));
        }
        List<InstructionExample> out = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) out.add(record(nodes.get(i), source + ": record " + i));
        if (out.isEmpty()) throw new IllegalArgumentException(source + ": no records");
        return out;
    }

    private static InstructionExample record(JsonNode n, String where) {
        if (!n.isObject()) throw new IllegalArgumentException(where + " is not a JSON object");
        if (n.has("messages")) return chat(n.get("messages"), where);
        String instruction = text(n, "instruction", where);
        if (instruction == null) throw new IllegalArgumentException(where + " has no \"instruction\"");
        String output = text(n, "output", where), chosen = text(n, "chosen", where), rejected = text(n, "rejected", where);
        // the response instruction tuning learns and eval instruct compares with; a preference record
        // (chosen and rejected, what finetune dpo reads) may go without
        if (output == null && (chosen == null || rejected == null)) throw new IllegalArgumentException(where + " has no \"output\"");
        return new InstructionExample(instruction, text(n, "input", where), output, chosen, rejected, List.of());
    }

    /** A chat record: the last assistant message is the output, the user message before it the instruction. */
    private static InstructionExample chat(JsonNode messages, String where) {
        if (!messages.isArray() || messages.isEmpty()) throw new IllegalArgumentException(where + ": \"messages\" must be a non-empty array");
        List<String> users = new ArrayList<>(), assistants = new ArrayList<>();
        for (JsonNode m : messages) {
            String role = text(m, "role", where), content = text(m, "content", where);
            if (role == null || content == null) throw new IllegalArgumentException(where + ": every message needs \"role\" and \"content\"");
            boolean expectUser = users.size() == assistants.size();
            if (role.equals("user") && expectUser) users.add(content);
            else if (role.equals("assistant") && !expectUser) assistants.add(content);
            else throw new IllegalArgumentException(where + ": messages must alternate user, assistant (found '" + role + "')");
        }
        if (assistants.size() != users.size()) throw new IllegalArgumentException(where + ": the last message must be the assistant's");
        List<InstructionExample.Exchange> history = new ArrayList<>();
        for (int i = 0; i < users.size() - 1; i++) history.add(new InstructionExample.Exchange(users.get(i), assistants.get(i)));
        return new InstructionExample(users.getLast(), "", assistants.getLast(), null, null, history);
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new IllegalArgumentException(where + ": \"" + field + "\" must be a string");
        return v.asText();
    }

    /** Checks every record has {@code chosen} and {@code rejected}, for preference tuning. */
    public static void requirePreferences(List<InstructionExample> data, String source) {
        for (int i = 0; i < data.size(); i++) {
            InstructionExample e = data.get(i);
            if (e.chosen() == null) throw new IllegalArgumentException(source + ": record " + i + " has no \"chosen\"");
            if (e.rejected() == null) throw new IllegalArgumentException(source + ": record " + i + " has no \"rejected\"");
        }
    }

    /**
     * The book's split (section 7.2): no shuffling, the first {@code int(0.85 n)} records train,
     * the next {@code int(0.1 n)} test, the rest validation (1,100 → 935 / 110 / 55).
     */
    public static Split bookSplit(List<InstructionExample> data) {
        int n = data.size();
        int train = (int) (n * 0.85), test = (int) (n * 0.1);
        return new Split(data.subList(0, train), data.subList(train + test, n), data.subList(train, train + test));
    }
}
