package dev.myllm.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The prompt format an instruction-tuned model was trained with, kept beside its weights in
 * {@code myllm-prompt-format.json} so that {@code generate}, {@code chat} and the server use it.
 */
public final class SavedFormat {
    /** The side file's name inside a model directory. */
    public static final String FILE = "myllm-prompt-format.json";

    private SavedFormat() {
    }

    /** Writes {@code {"prompt_format": "alpaca"}} into the model directory. */
    public static void write(Path modelDir, PromptFormat format) {
        AtomicFiles.writeString(modelDir.resolve(FILE), "{\"prompt_format\": \"" + format.id() + "\"}\n");
    }

    /** The format saved in {@code modelDir}, or null when it has none (a model that was not instruction-tuned). */
    public static PromptFormat read(Path modelDir) {
        if (modelDir == null) return null;
        Path f = modelDir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            JsonNode n = new ObjectMapper().readTree(f.toFile());
            JsonNode v = n.get("prompt_format");
            if (v == null || !v.isTextual()) throw new IllegalArgumentException(f + ": no \"prompt_format\" string");
            return PromptFormat.parse(v.asText());
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": " + e.getMessage(), e);
        }
    }
}
