package dev.myllm.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SimpleTokenizerTest {
    @Test
    void verdictCounts() {
        String v = Tokenizers.verdictText();
        List<String> pieces = SimpleTokenizer.split(v);
        assertThat(pieces).hasSize(4690);
        assertThat(new HashSet<>(pieces)).hasSize(1130);
        assertThat(pieces.subList(0, 5)).containsExactly("I", "HAD", "always", "thought", "Jack");
        assertThat(SimpleTokenizer.v2(v).vocabSize()).isEqualTo(1132);
    }

    @Test
    void booksV1AndV2Examples() {
        String v = Tokenizers.verdictText();
        SimpleTokenizer v1 = SimpleTokenizer.v1(v);
        String text = "\"It's the last he painted, you know,\" Mrs. Gisburn said with pardonable pride.";
        int[] ids = v1.encode(text);
        assertThat(ids).containsExactly(1, 56, 2, 850, 988, 602, 533, 746, 5, 1126, 596, 5, 1, 67, 7, 38, 851, 1108, 754, 793, 7);
        // The book's decode: only spaces before punctuation go, so quotes and contractions stay spaced.
        assertThat(v1.decode(ids)).isEqualTo("\" It' s the last he painted, you know,\" Mrs. Gisburn said with pardonable pride.");
        assertThatThrownBy(() -> v1.encode("Hello, do you like tea?")).hasMessageContaining("'Hello'");

        SimpleTokenizer v2 = SimpleTokenizer.v2(v);
        String joined = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace.";
        int[] ids2 = v2.encode(joined, Specials.ALLOW);
        assertThat(ids2).containsExactly(1131, 5, 355, 1126, 628, 975, 10, 1130, 55, 988, 956, 984, 722, 988, 1131, 7);
        assertThat(v2.decode(ids2)).isEqualTo("<|unk|>, do you like tea? <|endoftext|> In the sunlit terraces of the <|unk|>.");
        assertThat(v2.eotId()).isEqualTo(1130);
    }

    @Test
    void loadsSpecsAndRejectsUnknownOnes(@TempDir Path dir) throws Exception {
        assertThat(Tokenizers.load("gpt2").vocabSize()).isEqualTo(50257);
        assertThat(Tokenizers.load("simple").vocabSize()).isEqualTo(1132);
        assertThatThrownBy(() -> Tokenizers.load(dir.resolve("nope.json").toString())).hasMessageContaining("nope.json");
        // A Hugging Face style vocab.json + merges.txt folder encodes by merge rank.
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(ByteUnicode.encode(new byte[]{(byte) b}), b);
        vocab.put("Ġt", 256);
        vocab.put("he", 257);
        vocab.put("Ġthe", 258);
        vocab.put("<|endoftext|>", 259);
        StringBuilder json = new StringBuilder("{");
        vocab.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"')
                .append(k.replace("\\", "\\\\").replace("\"", "\\\"")).append("\":").append(v));
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c < 0x20) json.replace(i, i + 1, String.format("\\u%04x", (int) c));
        }
        json.append('}');
        Files.writeString(dir.resolve("vocab.json"), json, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nĠ t\nh e\nĠt he\n", StandardCharsets.UTF_8);
        Tokenizer t = Tokenizers.load(dir.toString());
        assertThat(t.encode("a the<|endoftext|>", Specials.ALLOW)).containsExactly('a', 258, 259);
        assertThat(t.decode(new int[]{'a', 258})).isEqualTo("a the");
    }

    @Test
    void streamingDecoderHoldsHalfCharacters() {
        BpeTokenizer g = BpeTokenizer.gpt2();
        int[] ids = g.encode("naïve 😀 日本");
        Utf8StreamDecoder d = new Utf8StreamDecoder(g);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String part = d.accept(id);
            assertThat(part).doesNotContain("\uFFFD");
            sb.append(part);
        }
        sb.append(d.flush());
        assertThat(sb.toString()).isEqualTo("naïve 😀 日本");
        assertThat(d.acceptBytes(new byte[]{(byte) 0xF0, (byte) 0x9F})).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
    }
}
