package dev.myllm.server;

import static dev.myllm.server.TestServers.KEY;
import static dev.myllm.server.TestServers.get;
import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.tensor.Rng;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server over raw HTTP: answers, SSE framing, errors and statuses, limits, keys, disconnects, batching. */
class OpenAiServerTest {
    static ServedModel model;
    static TestServers.Running srv;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        model = TestServers.model(7);
        ServerConfig c = ServerConfig.defaults().withApiKey(KEY).withBatch(4, 8).withLimits(4096, 48, 3)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2));
        srv = TestServers.start(model, c);
        url = srv.base();
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    /** What {@code ./myllm generate} makes of the prompt alone (greedy, stops at end-of-text). */
    static Generator.Result solo(int[] prompt, int maxTokens) {
        return new Generator(model.model(), model.decoder()).generate(prompt, GenerationConfig.greedy(maxTokens).withEos(model.eosId()));
    }

    static String ids(int[] p) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < p.length; i++) sb.append(i == 0 ? "" : ",").append(p[i]);
        return sb.append(']').toString();
    }

    @Test
    void completionAtTemperatureZeroIsWhatGenerateGives() throws Exception {
        int[] prompt = model.tokenizer().encode("Every effort moves you");
        HttpResponse<String> r = post(url + "/v1/completions",
                "{\"model\":\"tiny\",\"prompt\":\"Every effort moves you\",\"max_tokens\":10,\"temperature\":0}", KEY);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = json(r);
        Generator.Result g = solo(prompt, 10);
        assertThat(o.get("object").asText()).isEqualTo("text_completion");
        assertThat(o.get("id").asText()).startsWith("cmpl-");
        assertThat(o.get("model").asText()).isEqualTo("tiny");
        JsonNode c = o.get("choices").get(0);
        assertThat(c.get("text").asText()).isEqualTo(g.text());
        assertThat(c.get("finish_reason").asText()).isEqualTo(g.stopReason() == Generator.StopReason.LENGTH ? "length" : "stop");
        assertThat(o.get("usage").get("prompt_tokens").asInt()).isEqualTo(prompt.length);
        assertThat(o.get("usage").get("completion_tokens").asInt()).isEqualTo(g.tokens().length);
        assertThat(o.get("usage").get("total_tokens").asInt()).isEqualTo(prompt.length + g.tokens().length);
    }

    @Test
    void concurrentRequestsAtTemperatureZeroEqualTheirSoloOutputs() throws Exception {
        Rng rng = new Rng(11);
        int requests = 7; // more than --max-batch 4: some wait in the queue and join between steps
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            int[] p = new int[1 + rng.nextInt(30)];
            for (int j = 0; j < p.length; j++) p[j] = rng.nextInt(50000);
            prompts.add(p);
        }
        ExecutorService pool = Executors.newFixedThreadPool(requests);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                int[] p = prompts.get(i);
                int max = 6 + 2 * i;
                boolean stream = i % 2 == 1;
                answers.add(pool.submit(() -> post(url + "/v1/completions", "{\"prompt\":" + ids(p) + ",\"max_tokens\":" + max
                        + ",\"temperature\":0,\"stream\":" + stream + "}", KEY)));
            }
            for (int i = 0; i < requests; i++) {
                HttpResponse<String> r = answers.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                String text = i % 2 == 1 ? streamedText(r.body()) : json(r).get("choices").get(0).get("text").asText();
                assertThat(text).as("request %d", i).isEqualTo(solo(prompts.get(i), 6 + 2 * i).text());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Checks the SSE framing and returns the text of choice 0. */
    static String streamedText(String body) throws Exception {
        assertThat(body).endsWith("data: [DONE]\n\n");
        String[] events = body.split("\n\n");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < events.length - 1; i++) {
            assertThat(events[i]).startsWith("data: {").doesNotContain("\n");
            JsonNode c = TestServers.JSON.readTree(events[i].substring(6));
            if (c.get("choices").isEmpty()) continue;
            JsonNode ch = c.get("choices").get(0);
            String piece = ch.has("delta") ? ch.get("delta").path("content").asText("") : ch.get("text").asText();
            assertThat(piece).doesNotContain("\uFFFD"); // never half a UTF-8 character
            text.append(piece);
        }
        assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
        return text.toString();
    }

    @Test
    void streamingChatHasOpenAisChunksAndUsage() throws Exception {
        HttpResponse<String> r = post(url + "/v1/chat/completions", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi there\"}],\"max_completion_tokens\":6,\"temperature\":0,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"logprobs\":true,\"top_logprobs\":2}", KEY);
        assertEquals(200, r.statusCode(), r.body());
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        String[] events = r.body().split("\n\n");
        JsonNode first = TestServers.JSON.readTree(events[0].substring(6));
        assertThat(first.get("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(first.get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        JsonNode lp = first.get("choices").get(0).get("logprobs").get("content").get(0);
        assertThat(lp.get("top_logprobs")).hasSize(2);
        assertThat(lp.get("logprob").asDouble()).isLessThanOrEqualTo(0);
        JsonNode usage = TestServers.JSON.readTree(events[events.length - 2].substring(6));
        assertThat(usage.get("choices")).isEmpty();
        String prompt = model.chat().render(List.of(new ChatTemplate.Message("system", "Be brief."), new ChatTemplate.Message("user", "Hi there")));
        assertThat(usage.get("usage").get("prompt_tokens").asInt()).isEqualTo(model.tokenizer().encode(prompt).length);
        JsonNode last = TestServers.JSON.readTree(events[events.length - 3].substring(6));
        assertThat(last.get("choices").get(0).get("finish_reason").asText()).isIn("stop", "length");
        // the whole answer is the streamed text
        HttpResponse<String> whole = post(url + "/v1/chat/completions", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi there\"}],\"max_tokens\":6,\"temperature\":0}", KEY);
        JsonNode w = json(whole);
        assertThat(w.get("object").asText()).isEqualTo("chat.completion");
        assertThat(w.get("choices").get(0).get("message").get("content").asText()).isEqualTo(streamedText(r.body()));
    }

    @Test
    void seededSamplingRepeatsAndNGivesSeveralChoices() throws Exception {
        String body = "{\"prompt\":\"Hello\",\"max_tokens\":8,\"temperature\":1.2,\"top_k\":50,\"top_p\":0.9,\"seed\":42,\"n\":3,"
                + "\"presence_penalty\":0.5,\"frequency_penalty\":0.5}";
        JsonNode a = json(post(url + "/v1/completions", body, KEY)), b = json(post(url + "/v1/completions", body, KEY));
        assertThat(a.get("choices")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(a.get("choices").get(i).get("index").asInt()).isEqualTo(i);
            assertThat(a.get("choices").get(i).get("text").asText()).isEqualTo(b.get("choices").get(i).get("text").asText());
        }
        assertThat(a.get("choices").get(0).get("text").asText()).isNotEqualTo(a.get("choices").get(1).get("text").asText());
        assertThat(a.get("usage").get("completion_tokens").asInt()).isEqualTo(24);
    }

    @Test
    void stopStringsCutTheTextAndEchoRepeatsThePrompt() throws Exception {
        int[] prompt = model.tokenizer().encode("One two");
        String full = solo(prompt, 12).text();
        String stop = full.substring(3, 5);
        JsonNode o = json(post(url + "/v1/completions", "{\"prompt\":\"One two\",\"max_tokens\":12,\"temperature\":0,\"echo\":true,\"stop\":["
                + TestServers.JSON.writeValueAsString(stop) + "]}", KEY));
        JsonNode c = o.get("choices").get(0);
        assertThat(c.get("text").asText()).isEqualTo("One two" + full.substring(0, full.indexOf(stop)));
        assertThat(c.get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void echoWithLogprobsScoresThePromptInChunks() throws Exception {
        // prompt chunks of 2 (16 when nothing else runs), so a 30-token prompt is scored across chunk borders
        ServerConfig small = new ServerConfig("127.0.0.1", 0, null, 4, 8, 2, 1 << 20, 64, 2,
                Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(1), false, 64);
        Rng rng = new Rng(5);
        int[] prompt = new int[30];
        for (int i = 0; i < prompt.length; i++) prompt[i] = rng.nextInt(50000);
        float[] logits;
        try (dev.myllm.tensor.GradMode g = dev.myllm.tensor.GradMode.noGrad()) {
            logits = model.model().forward(prompt, 1, prompt.length).toArray();
        }
        int v = model.vocabSize();
        try (TestServers.Running s = TestServers.start(model, small)) {
            for (int max : new int[]{0, 3}) {
                JsonNode o = json(post(s.base() + "/v1/completions", "{\"prompt\":" + ids(prompt) + ",\"max_tokens\":" + max
                        + ",\"echo\":true,\"logprobs\":2,\"temperature\":0}", null));
                JsonNode lp = o.get("choices").get(0).get("logprobs");
                assertThat(lp.get("tokens")).hasSize(prompt.length + max);
                assertThat(lp.get("token_logprobs").get(0).isNull()).isTrue();
                assertThat(lp.get("top_logprobs").get(0).isNull()).isTrue();
                for (int t = 1; t < prompt.length; t++) {
                    double max0 = Double.NEGATIVE_INFINITY, z = 0;
                    for (int i = 0; i < v; i++) max0 = Math.max(max0, logits[(t - 1) * v + i]);
                    for (int i = 0; i < v; i++) z += Math.exp(logits[(t - 1) * v + i] - max0);
                    double expected = logits[(t - 1) * v + prompt[t]] - max0 - Math.log(z);
                    assertThat(lp.get("token_logprobs").get(t).asDouble()).as("token %d", t).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
                    assertThat(lp.get("top_logprobs").get(t)).hasSize(2);
                }
                assertThat(o.get("choices").get(0).get("text").asText()).startsWith(model.tokenizer().decode(prompt));
                assertThat(o.get("usage").get("completion_tokens").asInt()).isEqualTo(max);
            }
        }
    }

    @Test
    void errorsHaveOpenAisShapeAndStatus() throws Exception {
        record Case(String path, String body, int status, String param) {
        }
        List<Case> cases = List.of(
                new Case("/v1/completions", "{not json", 400, null),
                new Case("/v1/completions", "[1,2]", 400, null),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1} xyz", 400, null),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}{\"prompt\":\"b\"}", 400, null),
                new Case("/v1/completions", "  ", 400, null),
                new Case("/v1/completions", "{\"max_tokens\":5}", 400, "prompt"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"temperature\":3}", 400, "temperature"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"temperature\":\"hot\"}", 400, "temperature"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"top_p\":0}", 400, "top_p"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"n\":4}", 400, "n"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"logprobs\":6}", 400, "logprobs"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":49}", 400, "max_tokens"),
                new Case("/v1/completions", "{\"prompt\":" + ids(new int[90]) + ",\"max_tokens\":7}", 400, "max_tokens"),
                new Case("/v1/completions", "{\"prompt\":[1,99999]}", 400, "prompt"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"stop\":[\"\"]}", 400, "stop"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"stream_options\":{\"include_usage\":true}}", 400, "stream_options"),
                new Case("/v1/completions", "{\"prompt\":\"a\",\"model\":\"gpt-4\"}", 404, "model"),
                new Case("/v1/chat/completions", "{\"messages\":[]}", 400, "messages"),
                new Case("/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "messages[0].role"),
                new Case("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0].content"),
                new Case("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}", 400, "top_logprobs"),
                new Case("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}", 400, "tools"),
                new Case("/v1/nothing", "{}", 404, null),
                new Case("/v1/completions", "{\"prompt\":\"" + "a".repeat(5000) + "\"}", 413, null));
        for (Case k : cases) {
            HttpResponse<String> r = post(url + k.path(), k.body(), KEY);
            assertEquals(k.status(), r.statusCode(), k.body().substring(0, Math.min(60, k.body().length())) + " -> " + r.body());
            JsonNode e = json(r).get("error");
            assertThat(e.get("message").asText()).isNotBlank();
            assertThat(e.get("type").asText()).isNotBlank();
            if (k.param() != null) assertThat(e.get("param").asText()).as(k.body()).isEqualTo(k.param());
            assertThat(e.has("code")).isTrue();
        }
        // the range a bad max_tokens is told is this server's cap, not Java's largest int
        for (String bad : List.of("-1", "49")) {
            HttpResponse<String> r = post(url + "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":" + bad + "}", KEY);
            assertThat(json(r).get("error").get("message").asText()).isEqualTo("max_tokens must be between 1 and 48, got " + bad);
        }
        // 0 is a completion's way to score its prompt, and the error says so
        HttpResponse<String> zero = post(url + "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":0}", KEY);
        assertThat(json(zero).get("error").get("message").asText())
                .isEqualTo("max_tokens must be between 1 and 48, got 0 (0, with echo true, scores the prompt)");
        assertThat(json(post(url + "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":0,\"echo\":true}", KEY))
                .get("usage").get("completion_tokens").asInt()).isZero();
        // a chat has no echo: its 0 is only out of range
        for (String field : List.of("max_tokens", "max_completion_tokens")) {
            HttpResponse<String> chat = post(url + "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\""
                    + field + "\":0}", KEY);
            assertThat(json(chat).get("error").get("message").asText()).isEqualTo(field + " must be between 1 and 48, got 0");
        }
        HttpResponse<String> wrongMethod = get(url + "/v1/completions", KEY);
        assertEquals(405, wrongMethod.statusCode());
        // the request's log line is written once its response is done, so it may come just after
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end && srv.log().stream().noneMatch(l -> l.startsWith("POST /v1/completions 413"))) Thread.sleep(10);
        assertThat(srv.log()).anyMatch(l -> l.startsWith("POST /v1/completions 413"));
    }

    /** One raw HTTP/1.1 exchange: the status line and the body. */
    static String[] raw(String request) throws Exception {
        java.net.URI u = URI.create(url);
        try (java.net.Socket s = new java.net.Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new String[]{all.substring(0, all.indexOf("\r\n")), all.substring(all.indexOf("\r\n\r\n") + 4)};
        }
    }

    @Test
    void requestsJettyRefusesItselfGetOpenAisErrorShapeNotAnHtmlPage() throws Exception {
        record Case(String request, int status, String message) {
        }
        String headers = "Host: x\r\nConnection: close\r\n";
        List<Case> cases = List.of(
                new Case("GET /playground/../../../etc/passwd HTTP/1.1\r\n" + headers + "\r\n", 400, "Bad Request (HTTP 400)"),
                new Case("GET /playground/..%2f..%2fx HTTP/1.1\r\n" + headers + "\r\n", 400, "Ambiguous URI path separator (HTTP 400)"),
                new Case("GET /v1/models HTTP/1.1\r\n" + headers + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n", 431,
                        "Request Header Fields Too Large (HTTP 431)"));
        for (Case k : cases) {
            String[] r = raw(k.request());
            assertThat(r[0]).as(k.request().substring(0, 40)).startsWith("HTTP/1.1 " + k.status() + " ");
            JsonNode e = TestServers.JSON.readTree(r[1]).get("error");
            assertThat(e.get("message").asText()).isEqualTo(k.message());
            assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
            assertThat(e.has("param") && e.has("code")).isTrue();
        }
        // each is logged and counted, though no route saw it
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end && srv.log().stream().noneMatch(l -> l.contains(" 431 refused"))) Thread.sleep(10);
        assertThat(srv.log()).contains("- - 400 refused by the HTTP layer: Bad Request",
                "GET /playground/..%2f..%2fx 400 refused by the HTTP layer: Ambiguous URI path separator",
                "GET /v1/models 431 refused by the HTTP layer: Request Header Fields Too Large");
        String metrics = get(url + "/metrics", KEY).body();
        assertThat(metrics).contains(
                "myllm_requests_total{endpoint=\"refused\",status=\"400\"} 2\n", "myllm_requests_total{endpoint=\"refused\",status=\"431\"} 1\n");
    }

    @Test
    void headOnGetRoutesAnswersLikeGetWithoutABody() throws Exception {
        // HEAD /health answered 405: a monitor that checks with HEAD saw a server that was never up
        for (String path : List.of("/health", "/v1/models", "/v1/models/tiny", "/v1/inspect/model", "/metrics", "/playground/playground.css")) {
            HttpResponse<String> get = get(url + path, KEY);
            HttpResponse<String> head = TestServers.HTTP.send(java.net.http.HttpRequest.newBuilder(URI.create(url + path))
                    .timeout(java.time.Duration.ofSeconds(30)).method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode()).isEqualTo(200);
            assertThat(head.body()).as(path).isEmpty();
            assertThat(head.headers().firstValue("content-type")).as(path).isEqualTo(get.headers().firstValue("content-type"));
            // the length GET's body has (the metrics change between the two requests)
            if (!path.equals("/metrics")) {
                assertThat(head.headers().firstValueAsLong("content-length")).as(path)
                        .hasValue(get.body().getBytes(StandardCharsets.UTF_8).length);
            }
        }
        // the key still guards them, and a POST route takes no HEAD
        String[] unauthorized = raw("HEAD /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(unauthorized[0]).startsWith("HTTP/1.1 401 ");
        assertThat(unauthorized[1]).isEmpty();
        assertThat(raw("HEAD /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0]).startsWith("HTTP/1.1 405 ");
    }

    @Test
    void keyIsRequiredOnV1ButNotOnHealth() throws Exception {
        assertEquals(200, get(url + "/health", null).statusCode());
        HttpResponse<String> none = get(url + "/v1/models", null);
        assertEquals(401, none.statusCode());
        assertThat(json(none).get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertEquals(401, get(url + "/v1/models", "sk-test-kez").statusCode());
        assertEquals(401, post(url + "/v1/completions", "{\"prompt\":\"a\"}", "wrong").statusCode());
        HttpResponse<String> ok = get(url + "/v1/models", KEY);
        assertEquals(200, ok.statusCode());
        assertThat(json(ok).get("data").get(0).get("id").asText()).isEqualTo("tiny");
        assertEquals(200, get(url + "/v1/models/tiny", KEY).statusCode());
        assertEquals(404, get(url + "/v1/models/other", KEY).statusCode());
        String metrics = get(url + "/metrics", KEY).body();
        assertThat(metrics).contains("# TYPE myllm_requests_total counter", "myllm_queue_length ", "myllm_time_to_first_token_seconds_count");
    }

    @Test
    void aClientThatDisconnectsMidStreamIsCancelledAndOthersGoOn() throws Exception {
        // a long context, so the generation cannot finish before the hang-up is noticed
        ServedModel longer = new ServedModel("tiny", dev.myllm.model.RandomModels.uniform(TestServers.CONFIG.withContextLength(1024), 7),
                model.tokenizer(), model.decoder(), ChatTemplate.transcript(), model.eosId(), 0L);
        try (TestServers.Running s = TestServers.start(longer, ServerConfig.defaults())) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(s.base() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once upon a time\",\"max_tokens\":1000,"
                            + "\"temperature\":0,\"ignore_eos\":true,\"stream\":true}")).build();
            HttpResponse<InputStream> r = TestServers.HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
            InputStream in = r.body();
            byte[] first = in.readNBytes(64); // the start of the first event
            assertThat(new String(first, StandardCharsets.UTF_8)).startsWith("data: {");
            in.close(); // hang up mid-stream
            long end = System.nanoTime() + 30_000_000_000L;
            double cancelled = 0;
            while (System.nanoTime() < end && cancelled == 0) {
                Thread.sleep(50);
                cancelled = TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_cancelled_sequences_total");
            }
            assertThat(cancelled).isEqualTo(1);
            assertThat(TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_active_sequences")).isZero();
            while (System.nanoTime() < end && s.log().stream().noneMatch(l -> l.startsWith("POST /v1/completions 499 "))) Thread.sleep(20);
            assertThat(s.log()).anyMatch(l -> l.startsWith("POST /v1/completions 499 "));
            HttpResponse<String> next = post(s.base() + "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":3}", null);
            assertEquals(200, next.statusCode());
        }
    }

    @Test
    void aFullQueueAnswers429AndTheServerKeepsAnswering() throws Exception {
        int requests = 8; // 8 requests × n=3 = 24 sequences, for 4 slots and 8 queue places
        ExecutorService pool = Executors.newFixedThreadPool(requests);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                answers.add(pool.submit(() -> post(url + "/v1/completions", "{\"prompt\":\"Hello\",\"max_tokens\":40,\"n\":3}", KEY)));
            }
            int busy = 0, ok = 0;
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 429) {
                    busy++;
                    assertThat(json(r).get("error").get("code").asText()).isEqualTo("queue_full");
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                    ok++;
                }
            }
            assertThat(busy).isGreaterThan(0);
            assertThat(ok).isGreaterThan(0);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200, get(url + "/health", null).statusCode());
    }
}
