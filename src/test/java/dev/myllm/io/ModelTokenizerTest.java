package dev.myllm.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TokenizerJson;
import dev.myllm.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizer a model directory goes with: its myllm-tokenizer.json, else a Hugging Face tokenizer.json myllm can
 * represent (fixtures written by the real {@code tokenizers}, tools/hf_tokenizer_fixture.py), else none (GPT-2's).
 */
class ModelTokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path fixture(String name) throws Exception {
        return Path.of(ModelTokenizerTest.class.getResource("/hftok/" + name).toURI());
    }

    /** A model directory's config.json (only vocab_size is read here) and the fixture's tokenizer.json beside it. */
    static Path hfDirectory(Path dir, String fixture, int vocabSize) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\", \"vocab_size\": " + vocabSize + "}");
        Files.copy(fixture(fixture + "/tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }

    @Test
    void aHuggingFaceDirectorysTokenizerJsonGivesTheIdsTokenizersGives() throws Exception {
        Tokenizer t = ModelTokenizer.of(hfDirectory(dir, "bytelevel", 50257));
        assertThat(t).isNotNull();
        JsonNode expected = JSON.readTree(fixture("bytelevel/expected.json").toFile());
        assertThat(t.vocabSize()).isEqualTo(expected.get("vocab_size").asInt());
        for (JsonNode c : expected.get("cases")) {
            int[] ids = JSON.convertValue(c.get("ids"), int[].class);
            assertThat(t.encode(c.get("text").asText(), Specials.ALLOW)).as(c.get("text").asText()).containsExactly(ids);
            assertThat(t.decode(ids)).isEqualTo(c.get("text").asText());
        }
        assertThat(t.eotId()).isZero(); // <|endoftext|> is the trainer's first token, not GPT-2's 50256
        assertThat(ModelTokenizer.file(dir)).isEqualTo(dir.resolve("tokenizer.json"));
    }

    @Test
    void withoutATokenizerFileADirectoryHasNoneOfItsOwnAndMyllmsOwnFileWins() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 50257}");
        assertThat(ModelTokenizer.file(dir)).isNull();
        assertThat(ModelTokenizer.of(dir)).isNull();
        hfDirectory(Files.createDirectories(dir.resolve("both")), "bytelevel", 50257);
        Files.copy(dir.resolve("both/tokenizer.json"), dir.resolve("both/myllm-tokenizer.json"));
        // the file a myllm run saved is the one it trained with, whatever else lies beside it
        Files.writeString(dir.resolve("both/tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertThat(ModelTokenizer.file(dir.resolve("both"))).isEqualTo(dir.resolve("both/myllm-tokenizer.json"));
        assertThat(ModelTokenizer.of(dir.resolve("both")).vocabSize()).isEqualTo(300);
    }

    @Test
    void gpt2sOwnTokenizerJsonGivesGpt2sIds() throws Exception {
        BpeTokenizer g = BpeTokenizer.gpt2();
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 50257}");
        Files.writeString(dir.resolve("tokenizer.json"), TokenizerJson.of(BpeVocab.of(g, 50257)));
        Tokenizer t = ModelTokenizer.of(dir);
        String v = Tokenizers.verdictText() + " naïve café — 日本語 🙂<|endoftext|>";
        assertThat(t.encode(v, Specials.ALLOW)).containsExactly(g.encode(v, Specials.ALLOW));
        assertThat(t.vocabSize()).isEqualTo(50257);
        assertThat(t.eotId()).isEqualTo(50256);
    }

    @Test
    void aTokenizerMyllmCannotRepresentIsRefusedInOneLineNamingTheFile() throws Exception {
        hfDirectory(dir, "metaspace", 50257);
        Path file = dir.resolve("tokenizer.json");
        assertThatThrownBy(() -> ModelTokenizer.of(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + ": ").hasMessageContaining("Metaspace").hasMessageNotContaining("\n");
    }

    @Test
    void everyPartThatWouldSplitOrNumberOtherwiseIsRefused() throws Exception {
        String[][] changes = {
                {"pre_tokenizer", "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true}", "prefix space"},
                {"pre_tokenizer", "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}", "regex"},
                {"pre_tokenizer", "null", "pre-tokenizer"},
                {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d\"},"
                        + " \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                        + "\"use_regex\": false}]}", "Split"},
                {"normalizer", "{\"type\": \"Lowercase\"}", "Lowercase"},
                {"post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [], \"pair\": [], \"special_tokens\": {}}", "TemplateProcessing"},
                {"decoder", "{\"type\": \"Metaspace\", \"replacement\": \"x\"}", "Metaspace"},
                {"model.ignore_merges", "true", "ignore_merges"},
                {"model.byte_fallback", "true", "byte_fallback"},
                {"model.continuing_subword_prefix", "\"##\"", "##"},
                {"model.end_of_word_suffix", "\"</w>\"", "</w>"},
                {"model.dropout", "0.1", "dropout"},
                {"model.type", "\"Unigram\"", "Unigram"},
        };
        ObjectNode base = (ObjectNode) JSON.readTree(fixture("bytelevel/tokenizer.json").toFile());
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 50257}");
        for (String[] c : changes) {
            ObjectNode root = base.deepCopy();
            ObjectNode where = c[0].startsWith("model.") ? (ObjectNode) root.get("model") : root;
            where.set(c[0].replaceFirst("^model\\.", ""), JSON.readTree(c[1]));
            Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
            assertThatThrownBy(() -> ModelTokenizer.of(dir)).as(c[0] + " = " + c[1]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": ").hasMessageContaining(c[2]).hasMessageNotContaining("\n");
        }
        // what does not change the ids is no reason to refuse: GPT-2's own file has no model type, ByteLevel's trim_offsets,
        // a unk_token, the null dropout and empty affixes tokenizers writes
        ObjectNode root = base.deepCopy();
        ((ObjectNode) root.get("model")).remove("type");
        ((ObjectNode) root.get("model")).put("unk_token", "<|endoftext|>").putNull("dropout").put("continuing_subword_prefix", "");
        ((ObjectNode) root.get("pre_tokenizer")).remove("use_regex");
        root.set("pre_tokenizer", JSON.createObjectNode().put("type", "Sequence").set("pretokenizers", JSON.createArrayNode().add(root.get("pre_tokenizer"))));
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertThat(ModelTokenizer.of(dir).vocabSize()).isEqualTo(300);
    }

    @Test
    void aVocabularyLargerThanTheModelsIsRefusedNamingBoth() throws Exception {
        hfDirectory(dir, "bytelevel", 260);
        assertThatThrownBy(() -> ModelTokenizer.of(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(dir.resolve("tokenizer.json") + " has 300 tokens but " + dir.resolve("config.json") + " has vocab_size 260");
    }
}
