package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.TextClassifier;
import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.TokenRule;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Rng;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /v1/classify} on a saved classifier directory, and chat through a saved prompt format. */
class ClassifyAndFormatsTest {
    @TempDir
    Path dir;

    @Test
    void classifyAnswersTheClassifiersProbabilities() throws Exception {
        GPTClassifier c = GPTClassifier.withNewHead(RandomModels.uniform(TestServers.CONFIG, 9), List.of("ham", "spam"), true,
                TokenRule.LAST, 50256, new Rng(4));
        ClassifierStore.save(c, dir);
        GPTClassifier loaded = ClassifierStore.load(dir, -1f);
        ServedModel m = ServedModel.classifier("spam", loaded, TestServers.gpt2(), dev.myllm.generate.TokenDecoder.of(TestServers.gpt2()), 0L);
        try (TestServers.Running s = TestServers.start(m, ServerConfig.defaults())) {
            var r = TestServers.post(s.base() + "/v1/classify", "{\"input\":[\"Win a prize now!\",\"See you at lunch\"]}", null);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode data = TestServers.json(r).get("data");
            assertThat(data).hasSize(2);
            for (int i = 0; i < 2; i++) {
                String text = i == 0 ? "Win a prize now!" : "See you at lunch";
                int[] ids = TestServers.gpt2().encode(text);
                float[] logits;
                try (GradMode g = GradMode.noGrad()) {
                    c.eval();
                    logits = c.logits(ids, 1, ids.length).toArray();
                }
                double pSpam = 1 / (1 + Math.exp(logits[0] - logits[1]));
                assertThat(data.get(i).get("probabilities").get("spam").asDouble()).isCloseTo(pSpam, org.assertj.core.data.Offset.offset(1e-6));
                assertThat(data.get(i).get("label").asText()).isEqualTo(pSpam > 0.5 ? "spam" : "ham");
            }
            assertEquals(400, TestServers.post(s.base() + "/v1/classify", "{\"input\":7}", null).statusCode());
            // an empty text is named as /v1/embeddings names it: "input[0] is empty" pointed into a list the request did not send
            for (String[] k : new String[][]{{"\"\"", "input is an empty string"}, {"[\"a\",\"\"]", "input[1] is an empty string"}}) {
                var empty = TestServers.post(s.base() + "/v1/classify", "{\"input\":" + k[0] + "}", null);
                assertEquals(400, empty.statusCode());
                assertThat(TestServers.json(empty).get("error").get("message").asText()).isEqualTo(k[1]);
            }
            // a classifier asked to generate: OpenAI's 404 for a model at an endpoint it does not serve
            for (String path : List.of("/v1/completions", "/v1/chat/completions")) {
                var gen = TestServers.post(s.base() + path, "{\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", null);
                assertEquals(404, gen.statusCode(), path);
                JsonNode error = TestServers.json(gen).get("error");
                assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
                assertThat(error.get("param").asText()).isEqualTo("model");
                assertThat(error.get("code").asText()).isEqualTo("model_not_generative");
                assertThat(error.get("message").asText()).isEqualTo("The model 'spam' is a classifier and does not generate text: "
                        + "use POST /v1/classify, not " + path);
            }
            // nor has it next tokens to inspect: /v1/inspect answered 200, the tied token embedding read as a vocabulary head
            var inspect = TestServers.post(s.base() + "/v1/inspect", "{\"text\":\"Win a prize now!\"}", null);
            assertNotGenerative(inspect, "The model 'spam' is a classifier and predicts no next tokens to inspect: use POST /v1/classify");
            // nor a language model's description: it answered 200 with a tied vocabulary head and a prompt format
            var info = TestServers.get(s.base() + "/v1/inspect/model", null);
            assertNotGenerative(info, "The model 'spam' is a classifier, which the playground does not inspect: use POST /v1/classify");
        }
    }

    /** A 404 in OpenAI's error shape with code model_not_generative, naming the model field. */
    private static void assertNotGenerative(java.net.http.HttpResponse<String> r, String message) throws Exception {
        assertEquals(404, r.statusCode(), r.body());
        JsonNode error = TestServers.json(r).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").asText()).isEqualTo("model");
        assertThat(error.get("code").asText()).isEqualTo("model_not_generative");
        assertThat(error.get("message").asText()).isEqualTo(message);
    }

    @Test
    void classifyPadsToTheTrainingLengthAsTheCliAndTheLibraryDo() throws Exception {
        GPTClassifier c = GPTClassifier.withNewHead(RandomModels.uniform(TestServers.CONFIG, 11), List.of("ham", "spam"), true,
                TokenRule.LAST, 50256, new Rng(5));
        c.maxLength(7); // trained on texts padded to 7 tokens: the last position of a short text is a pad
        ClassifierStore.save(c, dir);
        GPTClassifier loaded = ClassifierStore.load(dir, -1f);
        ServedModel m = ServedModel.classifier("spam", loaded, TestServers.gpt2(), dev.myllm.generate.TokenDecoder.of(TestServers.gpt2()), 0L);
        TextClassifier lib = TextClassifier.of(ClassifierStore.load(dir, -1f), TestServers.gpt2());
        String shortText = "Win a prize", longText = "See you at lunch on Friday by the old town hall, then the cinema";
        try (TestServers.Running s = TestServers.start(m, ServerConfig.defaults())) {
            var r = TestServers.post(s.base() + "/v1/classify", "{\"input\":[\"" + shortText + "\",\"" + longText + "\"]}", null);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode json = TestServers.json(r);
            for (int i = 0; i < 2; i++) {
                TextClassifier.Prediction want = lib.classify(i == 0 ? shortText : longText);
                JsonNode got = json.get("data").get(i);
                assertThat(got.get("label").asText()).isEqualTo(want.label());
                assertThat(got.get("probabilities").get("spam").asDouble())
                        .isCloseTo(want.probabilities().get("spam"), org.assertj.core.data.Offset.offset(1e-6));
            }
            // the texts' own tokens, the long one cut to 7
            assertThat(json.get("usage").get("prompt_tokens").asInt()).isEqualTo(TestServers.gpt2().encode(shortText).length + 7);
        }
    }

    @Test
    void aLanguageModelRefusesClassify() throws Exception {
        try (TestServers.Running s = TestServers.start(TestServers.model(1), ServerConfig.defaults())) {
            var r = TestServers.post(s.base() + "/v1/classify", "{\"input\":\"x\"}", null);
            assertEquals(404, r.statusCode());
            JsonNode error = TestServers.json(r).get("error");
            assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
            assertThat(error.get("param").asText()).isEqualTo("model");
            assertThat(error.get("code").asText()).isEqualTo("model_not_classifier");
            assertThat(error.get("message").asText())
                    .isEqualTo("The model 'tiny' is a language model, not a classifier: /v1/classify needs a classifier directory");
        }
    }

    @Test
    void chatRendersThroughTheSavedPromptFormat() {
        List<ChatTemplate.Message> msgs = List.of(new ChatTemplate.Message("user", "Name a colour."),
                new ChatTemplate.Message("assistant", "Red."), new ChatTemplate.Message("user", "Another one."));
        ChatTemplate alpaca = ChatTemplate.of(PromptFormat.ALPACA);
        assertThat(alpaca.render(msgs)).isEqualTo(PromptFormat.ALPACA.prompt(InstructionExample.of("Another one.", "", ""))
                + PromptFormat.ALPACA.responsePrefix());
        ChatTemplate phi3 = ChatTemplate.of(PromptFormat.PHI3);
        InstructionExample withHistory = new InstructionExample("Another one.", "", "", null, null,
                List.of(new InstructionExample.Exchange("Name a colour.", "Red.")));
        assertThat(phi3.render(msgs)).isEqualTo(PromptFormat.PHI3.prompt(withHistory) + PromptFormat.PHI3.responsePrefix());
        assertThat(phi3.name()).isEqualTo("phi3");
    }
}
