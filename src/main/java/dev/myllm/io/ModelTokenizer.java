package dev.myllm.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one rule for the tokenizer a model keeps, for every command and the library: a GGUF file's embedded one; in a
 * model directory its {@code myllm-tokenizer.json} (what a myllm run saved), else the {@code tokenizer.json} Hugging
 * Face saves beside the weights; else none: GPT-2's is meant. A {@code tokenizer.json} myllm cannot represent, or one
 * larger than the model's vocabulary, is refused rather than replaced by GPT-2's.
 */
public final class ModelTokenizer {
    /** The file a model directory keeps a tokenizer trained or chosen with myllm in. */
    public static final String OWN_FILE = "myllm-tokenizer.json";
    /** The file Hugging Face ({@code save_pretrained}, the hub) keeps a fast tokenizer in. */
    public static final String HF_FILE = "tokenizer.json";

    private ModelTokenizer() {
    }

    /** The tokenizer file a model directory keeps, or null (a model file, a preset, or a directory without one). */
    public static Path file(Path model) {
        if (model == null || !Files.isDirectory(model)) return null;
        for (String name : new String[]{OWN_FILE, HF_FILE}) {
            Path f = model.resolve(name);
            if (Files.isRegularFile(f)) return f;
        }
        return null;
    }

    /**
     * The model's own tokenizer, or null when it has none (GPT-2's is meant); what is wrong with its file is an
     * {@link IllegalArgumentException} of one line naming it.
     */
    public static Tokenizer of(Path model) {
        if (model == null) return null;
        if (ModelFiles.isModelFile(model)) return ModelFiles.tokenizer(model);
        Path f = file(model);
        if (f == null) return null;
        Tokenizer t = Tokenizers.load(f.toString());
        // checked here, before the weights are read, and in the words of the two files that disagree
        Path config = model.resolve(ModelDirectory.CONFIG);
        int rows = vocabSize(config);
        if (rows > 0 && t.vocabSize() > rows) {
            throw new IllegalArgumentException(f + " has " + t.vocabSize() + " tokens but " + config + " has vocab_size " + rows);
        }
        return t;
    }

    /**
     * The name a tokenizer file is kept under beside saved weights: {@code tokenizer.json} for Hugging Face's format,
     * where {@code transformers} looks for it, else {@code myllm-tokenizer.json} (a vocabulary trained here).
     */
    public static String keptName(byte[] content) {
        try {
            return new ObjectMapper().readTree(content).path("model").isObject() ? HF_FILE : OWN_FILE;
        } catch (java.io.IOException e) {
            return OWN_FILE;
        }
    }

    /**
     * The id of {@code <|endoftext|>} in a tokenizer file's {@code content} (as {@link #keptName} sorts it: our
     * {@code specials}, or a {@code tokenizer.json}'s added tokens and then its vocabulary), or -1 when it has none.
     */
    public static int endOfText(byte[] content) {
        String eot = "<|endoftext|>";
        try {
            com.fasterxml.jackson.databind.JsonNode root = new ObjectMapper().readTree(content);
            if (!root.path("model").isObject()) return root.path("specials").path(eot).asInt(-1);
            for (com.fasterxml.jackson.databind.JsonNode a : root.path("added_tokens")) {
                if (eot.equals(a.path("content").asText())) return a.path("id").asInt(-1);
            }
            return root.path("model").path("vocab").path(eot).asInt(-1);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /**
     * Keeps {@code content} (null: none, GPT-2's) as the tokenizer of the model in {@code dir}, under {@code name}
     * ({@link #keptName} of it), and removes a tokenizer file of the other name left there: myllm would read a stale
     * myllm-tokenizer.json first, and transformers a stale tokenizer.json.
     */
    public static void keep(String name, byte[] content, Path dir) throws java.io.IOException {
        for (String other : new String[]{OWN_FILE, HF_FILE}) if (!other.equals(name)) Files.deleteIfExists(dir.resolve(other));
        if (content != null) dev.myllm.util.AtomicFiles.write(dir.resolve(name), out -> out.write(content));
    }

    /** The config's {@code vocab_size}, or 0 when it cannot say (reading the model then says what is wrong). */
    private static int vocabSize(Path config) {
        try {
            return new ObjectMapper().readTree(config.toFile()).path("vocab_size").asInt(0);
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }
}
