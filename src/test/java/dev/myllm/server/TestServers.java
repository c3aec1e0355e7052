package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A tiny random GPT-2-vocabulary model behind a real server on a free port, and a raw HTTP client for it. */
final class TestServers {
    /** What a test's head adapter answers when it adds nothing: zero logits of {@code x}'s shape with the last dimension {@code vocab}. */
    static dev.myllm.tensor.Tensor zeroLogits(dev.myllm.tensor.Tensor x, int vocab) {
        int[] shape = x.shape().clone();
        shape[shape.length - 1] = vocab;
        return dev.myllm.tensor.Tensor.zeros(shape);
    }

    static final ObjectMapper JSON = new ObjectMapper();
    /** Vocabulary of GPT-2 (so its tokenizer works), 2 layers of width 32, context 96. */
    static final GPTConfig CONFIG = new GPTConfig(50257, 96, 32, 2, 2, 0f, true, true, 1e-5f);
    static final String KEY = "sk-test-key";

    private static Tokenizer gpt2;

    private TestServers() {
    }

    static synchronized Tokenizer gpt2() {
        if (gpt2 == null) gpt2 = Tokenizers.load("gpt2");
        return gpt2;
    }

    static ServedModel model(long seed) {
        GPTModel m = RandomModels.uniform(CONFIG, seed);
        Tokenizer tok = gpt2();
        return new ServedModel("tiny", m, tok, TokenDecoder.of(tok), ChatTemplate.transcript(), tok.eotId(), 1_700_000_000L);
    }

    /** A started server; its log lines are collected. */
    record Running(OpenAiServer server, String base, List<String> log) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
        }
    }

    static Running start(ServedModel m, ServerConfig config) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        OpenAiServer s = new OpenAiServer(m, config.withPort(0), log::add).start();
        return new Running(s, "http://127.0.0.1:" + s.port(), log);
    }

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> post(String url, String body, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String url, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** The value of an unlabelled metric in Prometheus text. */
    static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError("no metric " + name + " in\n" + text);
    }
}
