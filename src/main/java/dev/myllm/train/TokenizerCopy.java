package dev.myllm.train;

import dev.myllm.io.ModelTokenizer;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TokenizerJson;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.util.IoErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tokenizer file a run keeps beside every model it saves, held in memory from the start: it is
 * written only into the directories the run saves (each made whole before it is renamed into place),
 * so a run that fails before its first save leaves no tokenizer behind. It is saved under the name its
 * content gives ({@link ModelTokenizer#keptName}): {@code tokenizer.json} for a Hugging Face vocabulary,
 * where transformers looks for it, {@code myllm-tokenizer.json} for one trained with myllm.
 */
public final class TokenizerCopy {
    private final byte[] bytes;
    private final String fileName;
    private final int endOfText;

    private TokenizerCopy(byte[] bytes) {
        this.bytes = bytes;
        this.fileName = ModelTokenizer.keptName(bytes);
        this.endOfText = ModelTokenizer.endOfText(bytes);
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
     * {@code tok} written out for a model of {@code rows} vocabulary rows to keep: a vocabulary trained with myllm as
     * its own JSON, another as the {@code tokenizer.json} transformers reads; null for GPT-2's, which a model directory
     * without a tokenizer file means.
     *
     * @throws IllegalArgumentException when {@code tok} cannot be written as either
     */
    public static TokenizerCopy of(Tokenizer tok, int rows) {
        if (tok == BpeTokenizer.gpt2()) return null;
        return tok instanceof TrainedBpe t ? of(t.jsonBytes()) : of(TokenizerJson.of(BpeVocab.of(tok, rows)));
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

    /**
     * Writes it into the model directory {@code dir} under {@link #fileName}, removing a tokenizer file of the other
     * name left there (it would be read instead).
     */
    public void writeInto(Path dir) {
        writeInto(this, dir);
    }

    /** The same for {@code copy} (null: GPT-2's, so no tokenizer file is left in {@code dir} at all). */
    public static void writeInto(TokenizerCopy copy, Path dir) {
        try {
            ModelTokenizer.keep(copy == null ? null : copy.fileName, copy == null ? null : copy.bytes, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer into " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    /** The name it is saved under beside a model: {@value ModelTokenizer#HF_FILE} or {@value ModelTokenizer#OWN_FILE}. */
    public String fileName() {
        return fileName;
    }

    /** The id of its {@code <|endoftext|>}, which the model's {@code config.json} names, or -1 when it has none. */
    public int endOfText() {
        return endOfText;
    }

    /** The content, as a tokenizer file would hold it. */
    public byte[] bytes() {
        return bytes.clone();
    }
}
