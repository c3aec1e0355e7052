package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.server.OpenAiServer;
import dev.myllm.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@code Myllm.serve}: the library's model behind OpenAI's API, answering as the library itself does. */
class MyllmServeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static JsonNode post(OpenAiServer s, String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new ObjectMapper().readTree(r.body());
    }

    @Test
    void servesCompletionsAndChatsAsTheLibraryAnswersThem() throws Exception {
        Myllm llm = MyllmTest.tiny().withPromptFormat(PromptFormat.PHI3);
        List<String> log = new CopyOnWriteArrayList<>();
        try (OpenAiServer s = llm.serve("tiny-phi3", ServerConfig.defaults().withPort(0), log::add)) {
            JsonNode done = post(s, "/v1/completions", "{\"model\":\"tiny-phi3\",\"prompt\":\"Every effort moves you\",\"max_tokens\":7,\"temperature\":0}");
            String expected = llm.generate("Every effort moves you", GenerationConfig.greedy(7)).text();
            assertThat(done.get("choices").get(0).get("text").asText()).isEqualTo(expected);

            JsonNode chat = post(s, "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Name a colour.\"}],\"max_tokens\":6,\"temperature\":0}");
            assertThat(chat.get("model").asText()).isEqualTo("tiny-phi3");
            assertThat(chat.get("choices").get(0).get("message").get("content").asText().strip()).isEqualTo(llm.respond("Name a colour.", "", 6, null));
            // the request's log line comes once its answer is sent: wait for it
            long end = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < end && log.stream().noneMatch(l -> l.startsWith("POST /v1/chat/completions 200 "))) Thread.sleep(10);
            assertThat(log).anyMatch(l -> l.startsWith("POST /v1/chat/completions 200 "));

            // the address is taken: one line naming it
            assertThatThrownBy(() -> llm.serve("again", ServerConfig.defaults().withPort(s.port()), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cannot listen on 127.0.0.1:" + s.port() + ": ");
        }
    }
}
