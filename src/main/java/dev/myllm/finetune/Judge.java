package dev.myllm.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The book's LLM judge (section 7.8): asks a model behind an Ollama {@code /api/chat} endpoint
 * (streamed JSON lines) or an OpenAI-compatible {@code /v1/chat/completions} endpoint to score a
 * response 0–100 with the book's prompt, and parses the reply as Python's {@code int()} would.
 */
public final class Judge {
    /** Which HTTP API the judge speaks. */
    public enum Api { OLLAMA, OPENAI }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI endpoint;
    private final Api api;
    private final String model;
    private final HttpClient http;
    private final Duration timeout;

    /**
     * A judge at {@code url}: a URL ending in {@code /api/chat} or {@code /v1/chat/completions} is
     * used as it is; a bare server address gets {@code /v1/chat/completions} when it ends in
     * {@code /v1}, else Ollama's {@code /api/chat}.
     */
    public Judge(String url, String model, Duration timeout) {
        String u = url.replaceAll("/+$", "");
        if (u.endsWith("/api/chat")) api = Api.OLLAMA;
        else if (u.endsWith("/chat/completions")) api = Api.OPENAI;
        else if (u.endsWith("/v1")) {
            api = Api.OPENAI;
            u += "/chat/completions";
        } else {
            api = Api.OLLAMA;
            u += "/api/chat";
        }
        try {
            endpoint = URI.create(u);
            if (endpoint.getScheme() == null || !endpoint.getScheme().startsWith("http")) throw new IllegalArgumentException("not http");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("judge URL '" + url + "' is not an http(s) URL");
        }
        this.model = model;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    public Api api() {
        return api;
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The book's judge prompt for one entry, verbatim. */
    public static String prompt(String formattedInput, String expected, String response) {
        return "Given the input `" + formattedInput + "` and correct output `" + expected + "`, score the model response `"
                + response + "` on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only.";
    }

    /** Sends {@code prompt} and returns the whole reply text. */
    public String ask(String prompt) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        ObjectNode msg = body.putArray("messages").addObject();
        msg.put("role", "user");
        msg.put("content", prompt);
        if (api == Api.OLLAMA) {
            ObjectNode o = body.putObject("options");
            o.put("seed", 123);
            o.put("temperature", 0);
            o.put("num_ctx", 2048);
        } else {
            body.put("seed", 123);
            body.put("temperature", 0);
        }
        HttpRequest req = HttpRequest.newBuilder(endpoint).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        try {
            HttpResponse<InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = res.body()) {
                if (res.statusCode() != 200) {
                    String text = new String(in.readNBytes(300), StandardCharsets.UTF_8).strip();
                    throw new IllegalStateException("judge " + endpoint + " answered HTTP " + res.statusCode() + (text.isEmpty() ? "" : ": " + text.lines().findFirst().orElse("")));
                }
                return api == Api.OLLAMA ? readOllama(in) : readOpenAi(in);
            }
        } catch (ConnectException e) {
            throw new IllegalStateException("cannot reach the judge at " + endpoint + " (is it running?)");
        } catch (HttpTimeoutException e) {
            throw new IllegalStateException("the judge at " + endpoint + " did not answer within " + timeout.toSeconds() + " s");
        } catch (IOException e) {
            throw new IllegalStateException("judge " + endpoint + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the judge");
        }
    }

    /** Ollama streams one JSON object per line; the reply is every {@code message.content} joined. */
    private String readOllama(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            if (line.isBlank()) continue;
            JsonNode n = JSON.readTree(line);
            if (n.has("error")) throw new IllegalStateException("judge " + endpoint + ": " + n.get("error").asText());
            JsonNode c = n.path("message").path("content");
            if (c.isTextual()) sb.append(c.asText());
        }
        return sb.toString();
    }

    private String readOpenAi(InputStream in) throws IOException {
        JsonNode n = JSON.readTree(in);
        JsonNode c = n.path("choices").path(0).path("message").path("content");
        if (!c.isTextual()) throw new IllegalStateException("judge " + endpoint + ": the reply has no choices[0].message.content");
        return c.asText();
    }

    /**
     * Python's {@code int(reply)}: an optionally signed run of digits with surrounding whitespace
     * (underscores between digits allowed); anything else ("85.", "Score: 85") is null.
     */
    public static Integer parseScore(String reply) {
        String s = reply.strip();
        if (!s.matches("[+-]?\\d+(_\\d+)*")) return null;
        try {
            return Integer.parseInt(s.replace("_", "").replaceFirst("^\\+", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
