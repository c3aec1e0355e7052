package dev.myllm.train;

import dev.myllm.util.IoErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tokenizer file a run keeps beside every model it saves, held in memory from the start: it is
 * written only into the directories the run saves (each made whole before it is renamed into place),
 * so a run that fails before its first save leaves no tokenizer behind.
 */
public final class TokenizerCopy {
    private final byte[] bytes;

    private TokenizerCopy(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A tokenizer written out in memory (a GGUF file's embedded vocabulary, a .tiktoken file's ranks) as this JSON. */
    public static TokenizerCopy of(String json) {
        return new TokenizerCopy(json.getBytes(StandardCharsets.UTF_8));
    }

    /** The same from bytes (copied). */
    public static TokenizerCopy of(byte[] content) {
        return new TokenizerCopy(content.clone());
    }

    /**
     * {@code file} read once, now (null for null): a resumed run's vocabulary is its checkpoint's copy, and that
     * checkpoint is pruned while the run goes on.
     */
    public static TokenizerCopy read(Path file) {
        if (file == null) return null;
        try {
            return new TokenizerCopy(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer " + file + ": " + IoErrors.reason(e), e);
        }
    }

    /** Writes it into the model directory {@code dir} as {@value GptModelStore#TOKENIZER_FILE}. */
    public void writeInto(Path dir) {
        try {
            Files.write(dir.resolve(GptModelStore.TOKENIZER_FILE), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer into " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    /** The content, as a tokenizer file would hold it. */
    public byte[] bytes() {
        return bytes.clone();
    }
}
