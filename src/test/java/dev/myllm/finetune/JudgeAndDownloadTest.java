package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The judge client against a fake Ollama / OpenAI server, and {@code data get instructions} against a local server. */
class JudgeAndDownloadTest {
    HttpServer server;
    String base;
    final List<String> bodies = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/chat", ex -> {
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            String reply = bodies.size() == 1 ? "{\"message\":{\"role\":\"assistant\",\"content\":\"8\"},\"done\":false}\n"
                    + "{\"message\":{\"role\":\"assistant\",\"content\":\"5\\n\"},\"done\":false}\n{\"done\":true}\n"
                    : "{\"message\":{\"content\":\"Score: 85\"},\"done\":true}\n";
            send(ex, 200, reply.getBytes(StandardCharsets.UTF_8));
        });
        server.createContext("/v1/chat/completions", ex -> {
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            send(ex, 200, "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\" 42 \"}}]}".getBytes(StandardCharsets.UTF_8));
        });
        server.createContext("/instruction-data.json", ex -> {
            try (InputStream in = getClass().getResourceAsStream("/finetune/instruction-data.json")) {
                send(ex, 200, in.readAllBytes());
            }
        });
        server.createContext("/instruction-data-with-preference.json", ex -> send(ex, 200, new byte[386_968]));
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void send(com.sun.net.httpserver.HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void ollamaStreamIsJoinedAndParsedAsPythonInt() {
        Judge j = new Judge(base, "llama3", Duration.ofSeconds(5));
        assertThat(j.api()).isEqualTo(Judge.Api.OLLAMA);
        assertThat(j.endpoint().getPath()).isEqualTo("/api/chat");
        String reply = j.ask(Judge.prompt("P", "O", "R"));
        assertThat(reply).isEqualTo("85\n");
        assertThat(Judge.parseScore(reply)).isEqualTo(85);
        assertThat(bodies.getFirst()).contains("\"model\":\"llama3\"").contains("\"seed\":123").contains("\"temperature\":0")
                .contains("\"num_ctx\":2048")
                .contains("Given the input `P` and correct output `O`, score the model response `R` on a scale from 0 to 100,"
                        + " where 100 is the best score. Respond with the integer number only.");
        assertThat(Judge.parseScore(j.ask("again"))).isNull();
        assertThat(Judge.parseScore("85.")).isNull();
        assertThat(Judge.parseScore(" -3 ")).isEqualTo(-3);
    }

    @Test
    void openAiCompatibleEndpoint() {
        Judge j = new Judge(base + "/v1", "m", Duration.ofSeconds(5));
        assertThat(j.api()).isEqualTo(Judge.Api.OPENAI);
        assertThat(Judge.parseScore(j.ask("x"))).isEqualTo(42);
        assertThat(bodies.getFirst()).contains("\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]");
    }

    @Test
    void unreachableJudgeIsOneLine() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Judge j = new Judge("http://127.0.0.1:" + port, "m", Duration.ofSeconds(5));
        assertThatThrownBy(() -> j.ask("x")).hasMessage("cannot reach the judge at http://127.0.0.1:" + port + "/api/chat (is it running?)");
        assertThatThrownBy(() -> new Judge("localhost:11434", "m", Duration.ofSeconds(1))).hasMessageContaining("not an http(s) URL");
    }

    @Test
    void fetchesTheBooksDataAndChecksItsSha256(@TempDir Path home) {
        InstructionDatasets ds = new InstructionDatasets(home, base, false);
        Path f = ds.fetch("instructions");
        assertThat(f).isEqualTo(home.resolve("datasets/instructions/instruction-data.json"));
        assertThat(InstructionData.read(f)).hasSize(1100);
        assertThat(ds.load("instructions", 0, 0)).hasSize(1100);
        assertThatThrownBy(() -> ds.fetch("preferences")).hasMessageContaining("sha256");
        assertThat(home.resolve("datasets/preferences/instruction-data-with-preference.json")).doesNotExist();
        assertThatThrownBy(() -> ds.fetch("alpaca")).hasMessageContaining("unknown instruction dataset: alpaca");
    }
}
