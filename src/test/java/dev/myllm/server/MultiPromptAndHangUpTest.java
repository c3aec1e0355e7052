package dev.myllm.server;

import static dev.myllm.server.TestServers.get;
import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Several prompts in one completion request (OpenAI's choice numbering), and a hang-up during a non-streamed request. */
class MultiPromptAndHangUpTest {
    static ServedModel model;
    static TestServers.Running srv;

    @BeforeAll
    static void start() throws Exception {
        model = TestServers.model(11);
        srv = TestServers.start(model, ServerConfig.defaults().withBatch(8, 32)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    static String solo(int[] prompt, int maxTokens) {
        return new Generator(model.model(), model.decoder()).generate(prompt, GenerationConfig.greedy(maxTokens).withEos(model.eosId())).text();
    }

    static int[] encode(String s) {
        return model.tokenizer().encode(s);
    }

    @Test
    void aListOfStringPromptsGivesNChoicesEachNumberedPromptTimesNPlusI() throws Exception {
        List<String> prompts = List.of("Once upon a time", "The quick brown fox", "Hello");
        HttpResponse r = new HttpResponse(post(srv.base() + "/v1/completions",
                "{\"prompt\":[\"Once upon a time\",\"The quick brown fox\",\"Hello\"],\"max_tokens\":7,\"temperature\":0,\"n\":2,\"echo\":true}", null));
        assertEquals(200, r.status, r.body.toString());
        JsonNode choices = r.body.get("choices");
        assertThat(choices.size()).isEqualTo(6);
        int promptTokens = 0;
        for (int p = 0; p < 3; p++) {
            promptTokens += encode(prompts.get(p)).length;
            String expected = prompts.get(p) + solo(encode(prompts.get(p)), 7);
            for (int i = 0; i < 2; i++) {
                JsonNode c = choices.get(p * 2 + i);
                assertThat(c.get("index").asInt()).isEqualTo(p * 2 + i);
                // temperature 0: both choices of a prompt are its solo greedy continuation, echo included
                assertThat(c.get("text").asText()).as("choice %d", p * 2 + i).isEqualTo(expected);
            }
        }
        JsonNode usage = r.body.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(promptTokens); // each prompt once, not once per choice
        int completion = 0;
        for (JsonNode c : choices) completion += encode(c.get("text").asText()).length; // a rough check below only
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 6 * 7);
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(promptTokens + usage.get("completion_tokens").asInt());
        assertThat(completion).isPositive();
    }

    @Test
    void aListOfTokenIdListsStreamsChunksIndexedByPrompt() throws Exception {
        int[] a = encode("Once upon a time"), b = encode("In the beginning");
        var r = post(srv.base() + "/v1/completions", "{\"prompt\":[" + OpenAiServerTest.ids(a) + "," + OpenAiServerTest.ids(b)
                + "],\"max_tokens\":6,\"temperature\":0,\"stream\":true}", null);
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        String[] finish = new String[2];
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode ch = TestServers.JSON.readTree(line.substring(6)).get("choices").get(0);
            int i = ch.get("index").asInt();
            texts[i].append(ch.get("text").asText());
            if (!ch.get("finish_reason").isNull()) finish[i] = ch.get("finish_reason").asText();
        }
        assertThat(r.body()).endsWith("data: [DONE]\n\n");
        assertThat(texts[0].toString()).isEqualTo(solo(a, 6));
        assertThat(texts[1].toString()).isEqualTo(solo(b, 6));
        assertThat(finish).doesNotContainNull();
    }

    @Test
    void badPromptListsNameTheElement() throws Exception {
        var r = post(srv.base() + "/v1/completions", "{\"prompt\":[\"ok\", [1, -2]],\"max_tokens\":2}", null);
        assertEquals(400, r.statusCode());
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("prompt");
        assertThat(json(r).get("error").get("message").asText()).contains("prompt[1][1]");
        var empty = post(srv.base() + "/v1/completions", "{\"prompt\":[\"ok\", \"\"],\"max_tokens\":2}", null);
        assertEquals(400, empty.statusCode());
        assertThat(json(empty).get("error").get("message").asText()).contains("prompt[1] is empty");
        var odd = post(srv.base() + "/v1/completions", "{\"prompt\":[\"ok\", 5],\"max_tokens\":2}", null);
        assertEquals(400, odd.statusCode());
        assertThat(json(odd).get("error").get("message").asText()).contains("prompt[1] must be a string or a list of token ids");
    }

    @Test
    void aClientThatHangsUpDuringANonStreamedRequestIsCancelled() throws Exception {
        ServedModel longer = new ServedModel("tiny", dev.myllm.model.RandomModels.uniform(TestServers.CONFIG.withContextLength(1024), 7),
                model.tokenizer(), model.decoder(), ChatTemplate.transcript(), model.eosId(), 0L);
        try (TestServers.Running s = TestServers.start(longer, ServerConfig.defaults())) {
            String body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":1000,\"temperature\":0,\"ignore_eos\":true,\"n\":4}";
            int port = Integer.parseInt(s.base().substring(s.base().lastIndexOf(':') + 1));
            try (Socket sock = new Socket("127.0.0.1", port)) {
                OutputStream out = sock.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                long end = System.nanoTime() + 30_000_000_000L;
                while (System.nanoTime() < end && TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_active_sequences") == 0) {
                    Thread.sleep(5);
                }
            } // hang up while the four sequences generate
            long end = System.nanoTime() + 30_000_000_000L;
            double cancelled = 0;
            while (System.nanoTime() < end && cancelled < 4) {
                Thread.sleep(20);
                cancelled = TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_cancelled_sequences_total");
            }
            assertThat(cancelled).isEqualTo(4);
            while (System.nanoTime() < end && s.log().stream().noneMatch(l -> l.startsWith("POST /v1/completions 499 "))) Thread.sleep(20);
            assertThat(s.log()).anyMatch(l -> l.startsWith("POST /v1/completions 499 "));
            // a connection that stays open gets its answer, and can ask again on the same connection (keep-alive)
            try (Socket sock = new Socket("127.0.0.1", port)) {
                String small = "{\"prompt\":\"x\",\"max_tokens\":3}";
                String req = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                        + small.length() + "\r\n\r\n" + small;
                OutputStream out = sock.getOutputStream();
                InputStream in = sock.getInputStream();
                for (int round = 0; round < 2; round++) {
                    out.write(req.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    assertThat(readResponse(in)).startsWith("HTTP/1.1 200 ").contains("\"text_completion\"");
                }
            }
        }
    }

    /** One HTTP/1.1 response with a Content-Length body, read off the socket. */
    static String readResponse(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new AssertionError("connection closed after: " + head);
            head.append((char) c);
        }
        int length = -1;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        assertThat(length).as("Content-Length in %s", head).isPositive();
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    /** A status and a parsed body. */
    private record HttpResponse(int status, JsonNode body) {
        HttpResponse(java.net.http.HttpResponse<String> r) throws Exception {
            this(r.statusCode(), TestServers.JSON.readTree(r.body()));
        }
    }
}
