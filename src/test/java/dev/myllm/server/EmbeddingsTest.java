package dev.myllm.server;

import static dev.myllm.server.TestServers.KEY;
import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/embeddings}: each input's {@code GPTModel.embedding} (checked against numpy in
 * {@code GoldenGpt2Test}), in order, as floats or base64, through raw HTTP and LangChain4j's
 * OpenAI embedding client; a bad request is a 400 naming the field.
 */
class EmbeddingsTest {
    static ServedModel model;
    static TestServers.Running srv;

    @BeforeAll
    static void start() throws Exception {
        model = TestServers.model(13);
        srv = TestServers.start(model, ServerConfig.defaults().withApiKey(KEY)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    @Test
    void eachInputGetsTheModelsEmbeddingInOrder() throws Exception {
        int[] hello = model.tokenizer().encode("Hello there"), ids = {464, 3139, 286};
        HttpResponse<String> r = post(srv.base() + "/v1/embeddings", "{\"model\":\"tiny\",\"input\":[\"Hello there\",\"Hello there\"]}", KEY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = json(r);
        assertThat(o.get("object").asText()).isEqualTo("list");
        assertThat(o.get("model").asText()).isEqualTo("tiny");
        assertThat(o.get("usage").get("prompt_tokens").asInt()).isEqualTo(2 * hello.length);
        assertThat(o.get("usage").get("total_tokens").asInt()).isEqualTo(2 * hello.length);
        assertThat(o.get("data")).hasSize(2);
        float[] want = model.model().embedding(hello);
        assertThat(want).hasSize(32);
        for (int i = 0; i < 2; i++) {
            JsonNode d = o.get("data").get(i);
            assertThat(d.get("object").asText()).isEqualTo("embedding");
            assertThat(d.get("index").asInt()).isEqualTo(i);
            assertThat(floats(d.get("embedding"))).containsExactly(want);
        }
        // token ids, one list or several; base64 is the same floats, little-endian
        JsonNode one = json(post(srv.base() + "/v1/embeddings", "{\"input\":[464,3139,286]}", KEY));
        assertThat(floats(one.get("data").get(0).get("embedding"))).containsExactly(model.model().embedding(ids));
        JsonNode b = json(post(srv.base() + "/v1/embeddings", "{\"input\":[[464,3139,286],\"Hello there\"],\"encoding_format\":\"base64\"}", KEY));
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b.get("data").get(1).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[bytes.remaining() / 4];
        for (int i = 0; i < decoded.length; i++) decoded[i] = bytes.getFloat();
        assertThat(decoded).containsExactly(want);
        // different texts, different directions
        assertThat(model.model().embedding(ids)).isNotEqualTo(want);
    }

    @Test
    void langChain4jsEmbeddingClientReadsThem() {
        OpenAiEmbeddingModel m = OpenAiEmbeddingModel.builder().baseUrl(srv.base() + "/v1").apiKey(KEY).modelName("tiny")
                .timeout(Duration.ofSeconds(60)).build();
        List<Embedding> es = m.embedAll(List.of(TextSegment.from("Hello there"), TextSegment.from("General Kenobi"))).content();
        assertThat(es).hasSize(2);
        assertThat(es.get(0).vector()).containsExactly(model.model().embedding(model.tokenizer().encode("Hello there")));
        assertThat(es.get(1).vector()).containsExactly(model.model().embedding(model.tokenizer().encode("General Kenobi")));
    }

    @Test
    void aBadRequestIsA400NamingTheField() throws Exception {
        String[][] cases = {
                {"{}", "input", "input is required"},
                {"{\"input\":\"\"}", "input", "input is an empty string"},
                {"{\"input\":[\"a\",\"\"]}", "input", "input[1] is an empty string"},
                {"{\"input\":[1,50257]}", "input", "input[1] must be a token id in [0, 50257), got 50257"},
                {"{\"input\":42}", "input", "input must be a non-empty string or list of token ids"},
                {"{\"input\":\"a\",\"encoding_format\":\"int8\"}", "encoding_format", "encoding_format must be float or base64, got 'int8'"},
                {"{\"input\":\"a\",\"dimensions\":64}", "dimensions", "this model's embeddings have 32 dimensions, got 64"},
                {"{\"input\":" + java.util.Arrays.toString(new int[97]).replace(" ", "") + "}", "input", "input has 97 tokens; the context length is 96"},
        };
        StringBuilder many = new StringBuilder("{\"input\":[");
        for (int i = 0; i < 17; i++) many.append(i == 0 ? "" : ",").append(java.util.Arrays.toString(new int[96]).replace(" ", ""));
        cases = java.util.Arrays.copyOf(cases, cases.length + 1);
        cases[cases.length - 1] = new String[]{many.append("]}").toString(), "input",
                "the inputs make 1632 tokens; one request may have at most 1536 (16 contexts): send them in several"};
        for (String[] c : cases) {
            HttpResponse<String> r = post(srv.base() + "/v1/embeddings", c[0], KEY);
            assertThat(r.statusCode()).as(c[0] + ": " + r.body()).isEqualTo(400);
            JsonNode e = json(r).get("error");
            assertThat(e.get("param").asText()).isEqualTo(c[1]);
            assertThat(e.get("message").asText()).isEqualTo(c[2]);
        }
        HttpResponse<String> model = post(srv.base() + "/v1/embeddings", "{\"model\":\"other\",\"input\":\"a\"}", KEY);
        assertThat(model.statusCode()).isEqualTo(404);
        assertThat(post(srv.base() + "/v1/embeddings", "{\"input\":\"a\"}", null).statusCode()).isEqualTo(401);
    }
    @Test
    void aClientThatHangsUpStopsItsRequestAndTheNextIsAnswered() throws Exception {
        // sixteen contexts of 1024 tokens on a wider model: long enough to hang up in the middle
        ServedModel wide = new ServedModel("wide", dev.myllm.model.RandomModels.uniform(
                new dev.myllm.model.GPTConfig(50257, 1024, 128, 2, 2, 0f, true, true, 1e-5f), 5),
                model.tokenizer(), model.decoder(), ChatTemplate.transcript(), model.eosId(), 0L);
        StringBuilder body = new StringBuilder("{\"input\":[");
        for (int i = 0; i < 16; i++) body.append(i == 0 ? "" : ",").append(java.util.Arrays.toString(new int[1024]).replace(" ", ""));
        String request = body.append("]}").toString();
        try (TestServers.Running s = TestServers.start(wide, ServerConfig.defaults())) {
            int port = Integer.parseInt(s.base().substring(s.base().lastIndexOf(':') + 1));
            try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
                byte[] bytes = request.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                sock.getOutputStream().write(("POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                sock.getOutputStream().write(bytes);
                sock.getOutputStream().flush();
            } // hang up at once: the server finds it before the next input
            long end = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < end && s.log().stream().noneMatch(l -> l.startsWith("POST /v1/embeddings "))) Thread.sleep(10);
            String line = s.log().stream().filter(l -> l.startsWith("POST /v1/embeddings ")).findFirst().orElseThrow();
            assertThat(line).startsWith("POST /v1/embeddings 499 ").containsPattern("client gone after ([0-9]|1[0-5]) of 16 inputs$");
            // the side thread is free again: the next request is answered
            HttpResponse<String> r = post(s.base() + "/v1/embeddings", "{\"input\":[[464,3139,286],[11]]}", null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(json(r).get("data")).hasSize(2);
        }
    }
}
