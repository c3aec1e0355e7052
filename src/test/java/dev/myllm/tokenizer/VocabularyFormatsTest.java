package dev.myllm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.tensor.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** GPT-2's vocabulary written out in OpenAI's and Hugging Face's formats loads back into the same tokenizer. */
class VocabularyFormatsTest {
    static final BpeTokenizer G = BpeTokenizer.gpt2();
    static final Map<String, Integer> VOCAB = new HashMap<>();
    static final List<String> MERGES = new ArrayList<>();

    /** Recovers GPT-2's merge list from the ranks: each token is the merge of the two parts BPE reaches below its rank. */
    @BeforeAll
    static void derive() {
        Map<String, Integer> ranks = new HashMap<>();
        for (int id = 0; id < 50256; id++) ranks.put(new String(G.tokenBytes(id), StandardCharsets.ISO_8859_1), id);
        for (int id = 0; id < 50256; id++) VOCAB.put(ByteUnicode.encode(G.tokenBytes(id)), id);
        VOCAB.put("<|endoftext|>", 50256);
        for (int id = 256; id < 50256; id++) {
            List<String> parts = new ArrayList<>();
            for (byte b : G.tokenBytes(id)) parts.add(new String(new byte[]{b}, StandardCharsets.ISO_8859_1));
            while (parts.size() > 2) {
                int best = -1, bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                    if (r != null && r < id && r < bestRank) {
                        bestRank = r;
                        best = i;
                    }
                }
                parts.set(best, parts.get(best) + parts.remove(best + 1));
            }
            MERGES.add(ByteUnicode.encode(parts.get(0).getBytes(StandardCharsets.ISO_8859_1)) + " "
                    + ByteUnicode.encode(parts.get(1).getBytes(StandardCharsets.ISO_8859_1)));
        }
    }

    static void assertSameAsGpt2(Tokenizer t) {
        String v = Tokenizers.verdictText();
        assertThat(t.encode(v, Specials.ALLOW)).containsExactly(G.encode(v, Specials.ALLOW));
        assertThat(t.encode("a<|endoftext|>b", Specials.ALLOW)).containsExactly(64, 50256, 65);
        Rng rng = new Rng(5);
        for (int k = 0; k < 300; k++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 10; i++) sb.appendCodePoint(rng.nextInt(3) == 0 ? 0x20 + rng.nextInt(0x5f) : 0xA0 + rng.nextInt(0x3000));
            assertThat(t.encode(sb.toString(), Specials.TEXT)).containsExactly(G.encode(sb.toString(), Specials.TEXT));
        }
        assertThat(t.vocabSize()).isEqualTo(50257);
        assertThat(t.eotId()).isEqualTo(50256);
    }

    @Test
    void openAiEncoderJsonAndVocabBpe(@TempDir Path dir) throws Exception {
        new ObjectMapper().writeValue(dir.resolve("encoder.json").toFile(), VOCAB);
        Files.writeString(dir.resolve("vocab.bpe"), "#version: 0.2\n" + String.join("\n", MERGES) + "\n");
        assertSameAsGpt2(Tokenizers.load(dir.toString()));
    }

    @Test
    void huggingFaceTokenizerJson(@TempDir Path dir) throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 50256).put("content", "<|endoftext|>").put("special", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        VOCAB.forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        MERGES.forEach(merges::add);
        om.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        assertSameAsGpt2(Tokenizers.load(dir.resolve("tokenizer.json").toString()));
    }

    @Test
    void tiktokenFile(@TempDir Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int id = 0; id < 50256; id++) {
            sb.append(java.util.Base64.getEncoder().encodeToString(G.tokenBytes(id))).append(' ').append(id).append('\n');
        }
        Path f = Files.writeString(dir.resolve("r50k.tiktoken"), sb);
        assertSameAsGpt2(Tokenizers.load(f.toString()));
        // Windows line ends and blank lines (spaces too) read the same; a line without its rank, or a rank that is no number, is one line
        Path crlf = Files.writeString(dir.resolve("crlf.tiktoken"), "\n  \n" + sb.toString().replace("\n", "\r\n"));
        assertSameAsGpt2(Tokenizers.load(crlf.toString()));
        try (var in = new java.io.ByteArrayInputStream("YQ== 0\nYg==\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Vocabularies.fromTiktoken("t", in, java.util.Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("t: line 2 is not 'base64 rank'");
        }
        try (var in = new java.io.ByteArrayInputStream("YQ== 0\nYg== one\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Vocabularies.fromTiktoken("t", in, java.util.Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("t: bad rank in tiktoken file: ");
        }
    }
}
