package dev.myllm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link TokenizerJson} writes is what Hugging Face's {@code tokenizers} writes for the same vocabulary (the
 * fixture was saved by it, tools/hf_tokenizer_fixture.py): every field its reader requires is there, so
 * {@code Tokenizer.from_file} and {@code transformers} load it (before: "missing field `single_word`").
 */
class TokenizerJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aVocabularyIsWrittenAsTokenizersWritesIt() throws Exception {
        Path file = Path.of(TokenizerJsonTest.class.getResource("/hftok/bytelevel/tokenizer.json").toURI());
        JsonNode theirs = JSON.readTree(file.toFile());
        BpeTokenizer read = Vocabularies.fromTokenizerJson(file);
        JsonNode ours = JSON.readTree(TokenizerJson.of(BpeVocab.of(read, read.vocabSize())));

        // every part but the model as tokenizers has it, field for field (the special token is not normalized there either)
        for (String part : new String[]{"version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
            assertThat(ours.get(part)).as(part).isEqualTo(theirs.get(part));
        }
        assertThat(names(ours)).containsExactlyElementsOf(names(theirs));
        // the model: the same fields and options, the same vocabulary, the same merges in the same order
        ObjectNode model = (ObjectNode) ours.get("model");
        assertThat(names(model)).containsExactlyElementsOf(names(theirs.get("model")));
        for (String option : names(model)) {
            if (!option.equals("vocab") && !option.equals("merges")) assertThat(model.get(option)).as(option).isEqualTo(theirs.get("model").get(option));
        }
        assertThat(model.get("vocab")).isEqualTo(theirs.get("model").get("vocab"));
        // as "a b" lines, which every version of tokenizers reads (pairs came with 0.20; a byte-level token has no space)
        assertThat(merges(model.get("merges"))).isEqualTo(merges(theirs.get("model").get("merges")));
        assertThat(model.get("merges").get(0).isTextual()).isTrue();
        // and it reads back into the same tokenizer
        assertThat(Vocabularies.fromTokenizerJson(java.nio.file.Files.writeString(java.nio.file.Files.createTempFile("tokenizer", ".json"),
                JSON.writeValueAsString(ours))).encode(Tokenizers.verdictText(), Specials.ALLOW)).containsExactly(read.encode(Tokenizers.verdictText(), Specials.ALLOW));
    }

    private static List<String> merges(JsonNode merges) {
        List<String> lines = new ArrayList<>();
        for (JsonNode m : merges) lines.add(m.isArray() ? m.get(0).textValue() + " " + m.get(1).textValue() : m.textValue());
        return lines;
    }

    private static List<String> names(JsonNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
