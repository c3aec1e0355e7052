package dev.myllm.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a small JSON file (a config, an adapter's settings) whole, every problem one line naming the file once. */
public final class JsonFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {
    }

    /**
     * The tree in {@code file}; an {@link IllegalArgumentException} "FILE: cannot read: REASON" or "FILE: not valid JSON: ...".
     * Read as text first: Jackson reading the file itself names the path again and calls bad UTF-8 a parse error.
     */
    public static JsonNode read(Path file) {
        try {
            return JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + reason(e));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + IoErrors.reason(e));
        }
    }

    /**
     * What Jackson says is wrong, in one line without where an open object or array started ("(start marker at [Source:
     * REDACTED (`StreamReadFeature...` disabled); line: 1, column: 2])"), which names a source we never give it.
     */
    public static String reason(com.fasterxml.jackson.core.JacksonException e) {
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        return m.lines().findFirst().orElse("").replaceFirst(" \\(start marker at .*", "").strip();
    }
}
