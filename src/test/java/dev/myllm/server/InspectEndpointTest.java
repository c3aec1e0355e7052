package dev.myllm.server;

import static dev.myllm.server.TestServers.get;
import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.model.AttentionRecorder;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InspectEndpointTest {
    private static ServedModel model;
    private static OpenAiServer server, keyed;
    private static String base, keyedBase;

    private static int chunkRows;

    @BeforeAll
    static void start() throws Exception {
        // chunks of 3 positions, so a short text crosses chunk boundaries (the last one partial)
        chunkRows = Inspector.chunkRows;
        Inspector.chunkRows = 3;
        model = PlaygroundServers.model(11);
        server = PlaygroundServers.start(model, ServerConfig.defaults()).inspectMaxTokens(24);
        keyed = PlaygroundServers.start(model, ServerConfig.defaults().withApiKey("sk-pg"));
        base = "http://127.0.0.1:" + server.port();
        keyedBase = "http://127.0.0.1:" + keyed.port();
    }

    @AfterAll
    static void stop() {
        Inspector.chunkRows = chunkRows;
        server.close();
        keyed.close();
    }

    @Test
    void tokensPredictionsAndLossAreThoseOfTheModel() throws Exception {
        String text = "Hello world, the cat sat.";
        int[] ids = model.tokenizer().encode(text);
        HttpResponse<String> r = post(base + "/v1/inspect", "{\"text\": \"" + text + "\", \"top_k\": 3}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = json(r);
        assertThat(o.get("object").asText()).isEqualTo("inspection");
        assertThat(o.get("text").asText()).isEqualTo(text);
        JsonNode tokens = o.get("tokens");
        assertThat(tokens.size()).isEqualTo(ids.length);
        for (int i = 0; i < ids.length; i++) assertThat(tokens.get(i).get("id").asInt()).isEqualTo(ids[i]);
        assertThat(tokens.get(1).get("piece").asText()).isEqualTo(" world");
        assertThat(o.get("attention")).isEmpty(); // only what was asked

        // the model's own logits, by an ordinary forward pass
        float[] logits;
        try (GradMode g = GradMode.noGrad()) {
            logits = model.model().forward(ids, 1, ids.length).data().clone();
        }
        int v = PlaygroundServers.CONFIG.vocabSize();
        double sum = 0;
        for (int i = 0; i < ids.length; i++) {
            JsonNode p = o.get("predictions").get(i);
            double max = Double.NEGATIVE_INFINITY, z = 0;
            int best = 0;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[i * v + j]);
                if (logits[i * v + j] > logits[i * v + best]) best = j;
            }
            for (int j = 0; j < v; j++) z += Math.exp(logits[i * v + j] - max);
            double lse = max + Math.log(z);
            assertThat(p.get("top").size()).isEqualTo(3);
            assertThat(p.get("top").get(0).get("id").asInt()).isEqualTo(best);
            assertThat(p.get("top").get(0).get("prob").asDouble()).isCloseTo(Math.exp(logits[i * v + best] - lse), within(1e-6));
            assertThat(p.get("top").get(0).get("prob").asDouble()).isGreaterThanOrEqualTo(p.get("top").get(1).get("prob").asDouble());
            if (i + 1 < ids.length) {
                double loss = lse - logits[i * v + ids[i + 1]];
                sum += loss;
                assertThat(p.get("next_id").asInt()).isEqualTo(ids[i + 1]);
                assertThat(p.get("loss").asDouble()).isCloseTo(loss, within(1e-4));
                assertThat(p.get("next_prob").asDouble()).isCloseTo(Math.exp(-loss), within(1e-6));
                int rank = 1;
                for (int j = 0; j < v; j++) if (logits[i * v + j] > logits[i * v + ids[i + 1]]) rank++;
                assertThat(p.get("next_rank").asInt()).isEqualTo(rank);
            } else {
                assertThat(p.has("next_id")).isFalse();
            }
        }
        assertThat(o.get("loss").asDouble()).isCloseTo(sum / (ids.length - 1), within(1e-4));
        assertThat(o.get("perplexity").asDouble()).isCloseTo(Math.exp(sum / (ids.length - 1)), within(1e-2));
    }

    @Test
    void topKZeroSendsNoAlternatives() throws Exception {
        // the documented range is 0-20 alternatives; 0 answered 500 (the top-k selection indexed best[-1])
        HttpResponse<String> r = post(base + "/v1/inspect", "{\"text\": \"the cat sat\", \"top_k\": 0}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = json(r);
        assertThat(o.get("predictions")).hasSize(3);
        for (JsonNode p : o.get("predictions")) assertThat(p.get("top")).isEmpty();
        assertThat(o.get("predictions").get(0).get("next_rank").asInt()).isPositive();
        assertThat(o.get("loss").asDouble()).isPositive();
        assertThat(Inspector.top(new float[]{1, 3, 2}, 0, 3, 0)).isEmpty();
    }

    @Test
    void attentionWeightsAreTheRecordedOnesRoundedAndRowsSumToOne() throws Exception {
        int[] ids = {464, 3797, 3332, 319, 262, 2603, 13};
        JsonNode o = json(post(base + "/v1/inspect", "{\"ids\": [464, 3797, 3332, 319, 262, 2603, 13], \"layers\": [1], \"heads\": [2, 0], \"decimals\": 4}", null));
        AttentionRecorder rec;
        try (GradMode g = GradMode.noGrad()) {
            rec = AttentionRecorder.record(2, new int[]{1}, () -> (Tensor) model.model().forward(ids, 1, ids.length)).weights();
        }
        JsonNode layers = o.get("attention");
        assertThat(layers.size()).isEqualTo(1);
        assertThat(layers.get(0).get("layer").asInt()).isEqualTo(1);
        JsonNode heads = layers.get(0).get("heads");
        assertThat(heads.size()).isEqualTo(2);
        for (int k = 0; k < 2; k++) {
            int h = heads.get(k).get("head").asInt();
            assertThat(h).isEqualTo(k == 0 ? 2 : 0);
            JsonNode rows = heads.get(k).get("weights");
            assertThat(rows.size()).isEqualTo(ids.length);
            for (int i = 0; i < ids.length; i++) {
                assertThat(rows.get(i).size()).as("row %d holds keys 0..%d", i, i).isEqualTo(i + 1);
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    double w = rows.get(i).get(j).asDouble();
                    assertThat(w).isCloseTo(rec.weight(1, h, i, j), within(0.5e-4 + 1e-7));
                    sum += w;
                }
                assertThat(sum).isCloseTo(1.0, within((i + 1) * 0.5e-4 + 1e-6));
            }
        }
    }

    @Test
    void splitCharactersAreMarkedByteByByte() throws Exception {
        // GPT-2 cuts this emoji's four bytes into two tokens
        JsonNode o = json(post(base + "/v1/inspect", "{\"text\": \"a \\ud83e\\udd84\\nb\"}", null));
        StringBuilder pieces = new StringBuilder();
        boolean split = false;
        for (JsonNode t : o.get("tokens")) {
            pieces.append(t.get("piece").asText()).append('|');
            split |= t.path("split").asBoolean();
        }
        assertThat(split).as(pieces.toString()).isTrue();
        assertThat(pieces.toString()).contains("<F0>").contains("<84>").contains("\n");
    }

    @Test
    void errorsAreOpenAiShapedAndNameTheField() throws Exception {
        HttpResponse<String> r = post(base + "/v1/inspect", "{\"text\": \"a\", \"ids\": [1]}", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("error").get("message").asText()).contains("exactly one of text");
        // both: the 400 had param null; it names the field to drop (ids: text is the usual one)
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("ids");
        assertThat(json(r).get("error").get("message").asText())
                .isEqualTo("send exactly one of text (a string) or ids (a list of token ids), not both");
        // neither: the field to send
        r = post(base + "/v1/inspect", "{\"top_k\": 3}", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("text");
        assertThat(json(r).get("error").get("message").asText())
                .isEqualTo("text is required: send text (a string) or ids (a list of token ids)");
        r = post(base + "/v1/inspect", "{\"text\": \"a b\", \"layers\": [2]}", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("layers");
        r = post(base + "/v1/inspect", "{\"ids\": [1, 50257]}", null);
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("ids");
        r = post(base + "/v1/inspect", "{\"text\": \"" + "word ".repeat(30) + "\"}", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("error").get("message").asText()).contains("at most 24").contains("--inspect-max-tokens");
        r = post(base + "/v1/inspect", "{\"text\": \"a\", \"top_k\": 21}", null);
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("top_k");
        r = get(base + "/v1/inspect", null);
        assertThat(r.statusCode()).isEqualTo(405);
        // the key guards /v1/inspect like the rest of /v1; the page itself is open
        r = post(keyedBase + "/v1/inspect", "{\"text\": \"a\"}", null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(json(r).get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(post(keyedBase + "/v1/inspect", "{\"text\": \"a\"}", "sk-pg").statusCode()).isEqualTo(200);
        assertThat(get(keyedBase + "/", null).statusCode()).isEqualTo(200);
    }

    @Test
    void thePageAndModelInfoAreServed() throws Exception {
        HttpResponse<String> page = get(base + "/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("/playground/playground.js").doesNotContain("http://", "https://");
        HttpResponse<String> js = get(base + "/playground/playground.js", null);
        assertThat(js.headers().firstValue("content-type").orElse("")).startsWith("text/javascript");
        assertThat(js.body()).contains("/v1/inspect").doesNotContain("http://", "https://");
        assertThat(get(base + "/playground/../pom.xml", null).statusCode()).isEqualTo(404);
        assertThat(get(base + "/playground/nothing.js", null).statusCode()).isEqualTo(404);
        JsonNode info = json(get(base + "/v1/inspect/model", null));
        assertThat(info.get("config").get("n_layer").asInt()).isEqualTo(2);
        assertThat(info.get("parameters").get("total").asLong()).isEqualTo(PlaygroundServers.CONFIG.parameterCount());
        assertThat(info.get("inspect_max_tokens").asInt()).isEqualTo(24);
        assertThat(info.get("prompt_format").get("prefix").asText()).isEqualTo("User: ");
        assertThat(info.get("prompt_format").get("suffix").asText()).isEqualTo("\nAssistant:");
    }
}
