package dev.myllm.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.io.GgufFile;
import dev.myllm.train.ModelStore;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.IoErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The prompt format an instruction-tuned model was trained with, kept beside its weights in
 * {@code myllm-prompt-format.json} (in a GGUF file: the same JSON as its key
 * {@code myllm.prompt_format}) so that {@code generate}, {@code chat} and the server use it.
 */
public final class SavedFormat {
    /** The side file's name inside a model directory. */
    public static final String FILE = "myllm-prompt-format.json";
    /** The GGUF metadata key holding the side file's JSON (llama.cpp ignores keys it does not know). */
    public static final String GGUF_KEY = "myllm.prompt_format";

    private SavedFormat() {
    }

    /** Writes {@code {"prompt_format": "alpaca"}} into the model directory. */
    public static void write(Path modelDir, PromptFormat format) {
        AtomicFiles.writeString(modelDir.resolve(FILE), json(format) + "\n");
    }

    /** {@code store}, writing {@code format} beside every model it saves (a run's checkpoints and its {@code model/}). */
    public static ModelStore beside(ModelStore store, PromptFormat format) {
        return new ModelStore() {
            @Override
            public void save(Path dir) {
                store.save(dir);
                write(dir, format);
            }

            @Override
            public void load(Path dir) {
                store.load(dir);
            }
        };
    }

    /** The side file's JSON, {@code {"prompt_format": "alpaca"}}. */
    public static String json(PromptFormat format) {
        return "{\"prompt_format\": \"" + format.id() + "\"}";
    }

    /**
     * The format saved with a model: in {@code model}'s side file for a directory, under
     * {@link #GGUF_KEY} for a GGUF file; null when it has none (a model that was not
     * instruction-tuned, another kind of file).
     */
    public static PromptFormat read(Path model) {
        if (model == null) return null;
        if (Files.isRegularFile(model)) {
            if (!GgufFile.isGguf(model)) return null;
            try (GgufFile g = GgufFile.open(model)) {
                GgufFile.Value v = g.get(GGUF_KEY);
                if (v == null) return null;
                if (!(v.value() instanceof String s)) throw new IllegalArgumentException(model + ": key " + GGUF_KEY + " is a " + v.typeName() + ", not a string");
                return parse(model + " (key " + GGUF_KEY + ")", s);
            }
        }
        Path f = model.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            return parse(f.toString(), Files.readString(f));
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot read: " + IoErrors.reason(e), e); // text not UTF-8 said "Input length = 1"
        }
    }

    /**
     * Where the format of {@code model} with a PEFT adapter merged in is kept: the adapter's directory when it has the
     * side file (a LoRA fine-tuning run writes its format into {@code adapter/}, and the adapter made the model an
     * instruction follower), else {@code model}; an adapter from elsewhere has none. {@code adapter} may be null.
     */
    public static Path source(Path model, Path adapter) {
        return adapter != null && Files.isRegularFile(adapter.resolve(FILE)) ? adapter : model;
    }

    /** The format saved with {@code model} loaded with {@code adapter} (null: none), from {@link #source}; null when neither has one. */
    public static PromptFormat read(Path model, Path adapter) {
        return read(source(model, adapter));
    }

    /** The format a run or a chat uses: {@code given} when not null, else the one saved with {@code model}, else the book's Alpaca. */
    public static PromptFormat orBook(Path model, PromptFormat given) {
        if (given != null) return given;
        PromptFormat saved = read(model);
        return saved != null ? saved : PromptFormat.ALPACA;
    }

    private static PromptFormat parse(String where, String json) {
        JsonNode v;
        try {
            v = new ObjectMapper().readTree(json).get("prompt_format");
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage().lines().findFirst().orElse("not JSON"));
        }
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(where + ": no \"prompt_format\" string");
        try {
            return PromptFormat.parse(v.asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }
}
