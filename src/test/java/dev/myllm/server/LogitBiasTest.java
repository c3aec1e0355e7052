package dev.myllm.server;

import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's {@code logit_bias}: each listed token's logit moves by its value before the pick, greedy
 * or sampled, on both endpoints; the log-probabilities stay the model's own; a bad map is a 400
 * naming the field.
 */
class LogitBiasTest {
    static ServedModel model;
    static TestServers.Running srv;
    static final int[] PROMPT = {464, 3139, 286, 262, 995};

    @BeforeAll
    static void start() throws Exception {
        model = TestServers.model(11);
        srv = TestServers.start(model, ServerConfig.defaults().withBatch(4, 8).withLimits(4096, 48, 3)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    /** The model's two most likely next tokens after {@link #PROMPT}, best first. */
    static int[] bestTwo() {
        float[] logits;
        try (dev.myllm.tensor.GradMode g = dev.myllm.tensor.GradMode.noGrad()) {
            logits = model.model().forward(PROMPT, 1, PROMPT.length).toArray();
        }
        int v = model.vocabSize();
        return Sequence.topIds(logits, (PROMPT.length - 1) * v, v, 2);
    }

    static String text(int id) {
        return new String(model.decoder().bytes(id), java.nio.charset.StandardCharsets.UTF_8);
    }

    static JsonNode complete(String extra) throws Exception {
        HttpResponse<String> r = post(srv.base() + "/v1/completions", "{\"prompt\":" + OpenAiServerTest.ids(PROMPT) + "," + extra + "}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r).get("choices").get(0);
    }

    @Test
    void aBannedTokenGivesWayToTheNextAndItsLogprobsStayTheModels() throws Exception {
        int[] two = bestTwo();
        assertThat(complete("\"max_tokens\":1,\"temperature\":0").get("text").asText()).isEqualTo(text(two[0]));
        JsonNode c = complete("\"max_tokens\":1,\"temperature\":0,\"logprobs\":2,\"logit_bias\":{\"" + two[0] + "\":-100}");
        assertThat(c.get("text").asText()).isEqualTo(text(two[1]));
        // the alternatives are the model's, before the bias: the banned token still heads them
        JsonNode top = c.get("logprobs").get("top_logprobs").get(0);
        assertThat(top.has(text(two[0]))).as("%s", top).isTrue();
        assertThat(c.get("logprobs").get("token_logprobs").get(0).asDouble()).isLessThan(top.get(text(two[0])).asDouble());
    }

    @Test
    void aLargeBiasForcesItsTokenWhenSamplingAndInChat() throws Exception {
        String dot = text(13);
        assertThat(complete("\"max_tokens\":4,\"temperature\":1.0,\"seed\":3,\"logit_bias\":{\"13\":100}").get("text").asText())
                .isEqualTo(dot.repeat(4));
        HttpResponse<String> r = post(srv.base() + "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3,\"temperature\":0,\"logit_bias\":{\"13\":100}}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(json(r).get("choices").get(0).get("message").get("content").asText()).isEqualTo(dot.repeat(3));
        // an empty map changes nothing
        assertThat(complete("\"max_tokens\":3,\"temperature\":0,\"logit_bias\":{}").get("text").asText())
                .isEqualTo(complete("\"max_tokens\":3,\"temperature\":0").get("text").asText());
    }

    @Test
    void aBadMapIsA400NamingTheField() throws Exception {
        String[][] cases = {
                {"[1]", "logit_bias must be an object of token ids to numbers"},
                {"{\"abc\":1}", "logit_bias keys must be token ids in [0, 50257), got 'abc'"},
                {"{\"50257\":1}", "logit_bias keys must be token ids in [0, 50257), got '50257'"},
                {"{\"-1\":1}", "logit_bias keys must be token ids in [0, 50257), got '-1'"},
                {"{\"13\":100.5}", "logit_bias values must be numbers between -100 and 100, got 100.5 for token 13"},
                {"{\"13\":\"5\"}", "logit_bias values must be numbers between -100 and 100, got \"5\" for token 13"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(srv.base() + "/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":1,\"logit_bias\":" + c[0] + "}", null);
            assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
            JsonNode e = json(r).get("error");
            assertThat(e.get("param").asText()).isEqualTo("logit_bias");
            assertThat(e.get("message").asText()).isEqualTo(c[1]);
        }
    }
}
