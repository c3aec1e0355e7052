package dev.myllm.tokenizer;

import dev.myllm.util.IoErrors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/** Turns a tokenizer spec ({@code gpt2}, {@code simple} or a vocabulary file/folder) into a {@link Tokenizer}. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * {@code gpt2}: GPT-2's BPE; {@code simple}: the book's V2 regex tokenizer over the-verdict's words;
     * a path: our trained JSON, a Hugging Face {@code tokenizer.json}, a {@code .tiktoken} file, or a folder
     * holding {@code myllm-tokenizer.json} (a model directory's), {@code tokenizer.json}, {@code encoder.json + vocab.bpe}
     * or {@code vocab.json + merges.txt}.
     */
    public static Tokenizer load(String spec) {
        if (spec == null || spec.isBlank() || spec.equals("gpt2") || spec.equals("r50k_base")) return BpeTokenizer.gpt2();
        if (spec.equals("simple")) return SimpleTokenizer.v2(verdictText());
        Path p = Path.of(spec);
        try {
            if (Files.isDirectory(p)) return loadDir(p);
            if (!Files.exists(p)) throw new NoSuchFileException(spec, null, "tokenizer is not gpt2, simple or an existing file");
            if (p.toString().endsWith(".tiktoken")) {
                try (InputStream in = Files.newInputStream(p)) {
                    BpeTokenizer t = Vocabularies.fromTiktoken(p.getFileName().toString(), in, Map.of());
                    // tiktoken files hold no specials: <|endoftext|> follows the last rank, as in r50k_base.
                    return Vocabularies.fromTiktoken(p.getFileName().toString(), Files.newInputStream(p),
                            Map.of("<|endoftext|>", t.vocabSize()));
                }
            }
            String notTokenizer = spec + ": not a tokenizer file (expected myllm-bpe JSON, tokenizer.json or .tiktoken)";
            // a file that is not a JSON object (a model file, say) is named, not quoted: the parser's message carries its bytes
            if (!startsAsJsonObject(p)) throw new IllegalArgumentException(notTokenizer);
            JsonNode root = new ObjectMapper().readTree(p.toFile());
            if (TrainedBpe.FORMAT.equals(root.path("type").asText())) return TrainedBpe.fromJson(root, p);
            if (root.has("model")) return Vocabularies.fromTokenizerJson(p);
            throw new IllegalArgumentException(notTokenizer);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("tokenizer not found: " + spec + " (use gpt2, simple or a vocabulary file)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(spec + ": not a valid tokenizer file (" + dev.myllm.util.JsonFiles.reason(e) + ")");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + spec + ": " + IoErrors.reason(e), e);
        }
    }

    /** Whether the file's first byte after a UTF-8 byte order mark and white space is '{'. */
    private static boolean startsAsJsonObject(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] head = in.readNBytes(4096);
            int i = head.length >= 3 && (head[0] & 0xff) == 0xef && (head[1] & 0xff) == 0xbb && (head[2] & 0xff) == 0xbf ? 3 : 0;
            while (i < head.length && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r')) i++;
            return i < head.length && head[i] == '{';
        }
    }

    private static Tokenizer loadDir(Path dir) throws IOException {
        // a model directory's own vocabulary first, as the model reads it (ModelTokenizer): what a myllm run saved
        Path own = dir.resolve("myllm-tokenizer.json");
        if (Files.isRegularFile(own)) return load(own.toString());
        if (Files.exists(dir.resolve("tokenizer.json"))) return Vocabularies.fromTokenizerJson(dir.resolve("tokenizer.json"));
        if (Files.exists(dir.resolve("encoder.json")) && Files.exists(dir.resolve("vocab.bpe"))) {
            return Vocabularies.fromEncoderJson(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"));
        }
        if (Files.exists(dir.resolve("vocab.json")) && Files.exists(dir.resolve("merges.txt"))) {
            return Vocabularies.fromVocabJson(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
        }
        throw new IllegalArgumentException(dir + ": no myllm-tokenizer.json, tokenizer.json, encoder.json + vocab.bpe or vocab.json + merges.txt in this folder");
    }

    /** The book's short story, bundled (public domain): the vocabulary of the {@code simple} tokenizer. */
    public static String verdictText() {
        try (InputStream in = Tokenizers.class.getResourceAsStream("/dev/myllm/data/the-verdict.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
