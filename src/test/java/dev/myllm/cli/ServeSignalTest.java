package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code myllm serve} as its own process: SIGTERM drains the server and the process exits 0. */
class ServeSignalTest {
    private static final Pattern LISTENING = Pattern.compile("at http://127\\.0\\.0\\.1:(\\d+)/v1");

    @TempDir
    Path dir;

    /**
     * A script polling {@code /health} from the moment the port opens gets 503 {@code loading}
     * during the warm-up and 200 only once the log says ready (the line is written first).
     */
    @Test
    void healthIs503LoadingUntilTheServerSaysReady() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("serve.err");
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                "dev.myllm.cli.Main", "serve", "--preset", "gpt2-tiny", "--port", String.valueOf(port))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
        try {
            int loading = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && p.isAlive()) {
                HttpResponse<String> r;
                try {
                    r = http.send(health, HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException notYet) {
                    Thread.sleep(5);
                    continue;
                }
                String said = Files.readString(log);
                if (r.statusCode() == 200) {
                    assertThat(said).as("a 200 before the ready line").containsPattern("/v1 \\(no API key\\), ready in");
                    assertThat(r.body()).isEqualTo("{\"status\":\"ok\"}");
                    break;
                }
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).isEqualTo("{\"status\":\"loading\"}");
                loading++;
                Thread.sleep(5);
            }
            assertThat(Files.readString(log)).contains("ready in");
            assertThat(loading).as("answers during the warm-up").isPositive();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigtermStopsTheServerAndExitsZero() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("serve.err");
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                "dev.myllm.cli.Main", "serve", "--preset", "gpt2-tiny", "--port", "0", "--grace", "5")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(log.toFile()).start();
        try {
            int port = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (port < 0 && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(100);
                Matcher m = LISTENING.matcher(Files.readString(log));
                if (m.find()) port = Integer.parseInt(m.group(1));
            }
            assertThat(port).as(Files.readString(log)).isPositive();
            // the load, then the warm-up, said as they happen
            assertThat(Files.readString(log)).containsPattern("myllm serve: gpt2-tiny loaded in \\d+\\.\\d s; warming up")
                    .containsPattern("/v1 \\(no API key\\), ready in \\d+\\.\\d s");
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Hello\", \"max_tokens\": 3, \"temperature\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("\"completion_tokens\":3");

            p.destroy(); // SIGTERM
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String err = Files.readString(log);
            assertThat(p.exitValue()).as(err).isZero();
            assertThat(err).contains("myllm serve: stopping (finishing running requests for up to 5 s)");
            assertThat(err.strip()).endsWith("myllm serve: stopped");
        } finally {
            p.destroyForcibly();
        }
    }
}
