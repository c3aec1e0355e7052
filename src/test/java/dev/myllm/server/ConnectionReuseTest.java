package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * An error answered before the request's body was read leaves the connection usable: a client that keeps its
 * connection for the next request (the JDK's, OpenAI's SDKs) gets an answer to that one too.
 */
class ConnectionReuseTest {

    @Test
    void aRefusalBeforeTheBodyIsReadKeepsTheConnectionForTheNextRequest() throws Exception {
        // a body that arrives in several pieces: the refusal (a missing key) comes before the last of them
        String big = "{\"prompt\":\"" + "x".repeat(200_000) + "\",\"max_tokens\":1}";
        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults().withApiKey("sk-reuse"))) {
            for (int i = 0; i < 40; i++) {
                // one shared HTTP/1.1 client: each request goes on the connection the previous one left
                assertThat(TestServers.post(s.base() + "/v1/completions", big, null).statusCode()).as("refused %d", i).isEqualTo(401);
                assertThat(TestServers.post(s.base() + "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}", "sk-reuse").statusCode())
                        .as("answered %d", i).isEqualTo(200);
            }
        }
    }

    @Test
    void aBodyBeyondTheLimitIsRefusedAndTheConnectionClosedWithTheAnswer() throws Exception {
        String big = "{\"prompt\":\"" + "x".repeat(5000) + "\"}";
        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults().withLimits(4096, 48, 3))) {
            for (int i = 0; i < 10; i++) {
                var r = TestServers.post(s.base() + "/v1/completions", big, null);
                assertThat(r.statusCode()).isEqualTo(413);
                assertThat(r.headers().firstValue("connection")).as("413 %d", i).hasValue("close");
                assertThat(TestServers.post(s.base() + "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}", null).statusCode()).isEqualTo(200);
            }
        }
    }
}
