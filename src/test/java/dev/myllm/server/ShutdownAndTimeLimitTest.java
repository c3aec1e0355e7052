package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A graceful stop lets running requests finish and refuses new ones; the per-request time limit answers 408. */
class ShutdownAndTimeLimitTest {
    @Test
    void shutdownFinishesRunningStreamsAndRefusesNewRequests() throws Exception {
        ServedModel m = TestServers.model(2);
        TestServers.Running s = TestServers.start(m, ServerConfig.defaults());
        CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> {
            try {
                return TestServers.post(s.base() + "/v1/completions",
                        "{\"prompt\":\"Once\",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true,\"stream\":true}", null);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long end = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < end && TestServers.metric(TestServers.get(s.base() + "/metrics", null).body(), "myllm_active_sequences") == 0) {
            Thread.sleep(5);
        }
        // the stream is running: stop now
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> s.server().shutdown(Duration.ofSeconds(30)));
        HttpResponse<String> r = running.get();
        assertEquals(200, r.statusCode());
        assertThat(r.body()).contains("\"finish_reason\":\"length\"").endsWith("data: [DONE]\n\n");
        stopping.get();
        try {
            int status = TestServers.post(s.base() + "/v1/completions", "{\"prompt\":\"x\"}", null).statusCode();
            assertThat(status).isEqualTo(503);
        } catch (ConnectException closed) {
            // the listener is gone: also a refusal
        }
    }

    @Test
    void aShutdownWhileATurnOutlastsTheSchedulersWaitStillAnswersItsRequests() throws Exception {
        // a turn longer than the stop's wait (a long prompt's prefill on a big model): the requests
        // it runs, and one queued behind it, hear of the shutdown before the connections close,
        // not when the turn ends (then their streams are sealed)
        ServedModel m = TestServers.model(4);
        SchedulerStopTest.BlockingHead head = new SchedulerStopTest.BlockingHead(m.vocabSize());
        m.model().setHeadAdapter(head);
        ServerConfig c = ServerConfig.defaults().withBatch(1, 8);
        TestServers.Running s = TestServers.start(m, c);
        try {
            s.server().schedulerStopWaitMillis = 200;
            head.blockAt(3); // the prefill's head is call 1: the second decode step holds the turn
            CompletableFuture<HttpResponse<String>> streamed = postAsync(s, true);
            assertThat(head.entered.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            CompletableFuture<HttpResponse<String>> queued = postAsync(s, false);
            long end = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < end && TestServers.metric(TestServers.get(s.base() + "/metrics", null).body(), "myllm_queue_length") == 0) {
                Thread.sleep(5);
            }
            s.server().shutdown(Duration.ZERO);
            HttpResponse<String> r = streamed.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, r.statusCode()); // (the status line went out with the stream's start)
            assertThat(r.body()).contains("\"code\":\"shutting_down\"").endsWith("data: [DONE]\n\n");
            HttpResponse<String> q = queued.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(503, q.statusCode(), q.body());
            assertThat(TestServers.json(q).get("error").get("code").asText()).isEqualTo("shutting_down");
            assertThat(s.log()).anyMatch(l -> l.startsWith("POST /v1/completions 503 "))
                    .contains("shutdown: the scheduler's turn outlasted 200 ms; told 2 running request(s) the server is shutting down");
        } finally {
            head.release.countDown();
            s.close();
        }
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(TestServers.Running s, boolean stream) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return TestServers.post(s.base() + "/v1/completions",
                        "{\"prompt\":\"Once\",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true,\"stream\":" + stream + "}", null);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void healthSays503LoadingUntilReadyThen200Ok() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (OpenAiServer server = new OpenAiServer(TestServers.model(2), ServerConfig.defaults().withPort(0), log::add).startLoading()) {
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> loading = TestServers.get(base + "/health", null);
            assertEquals(503, loading.statusCode());
            assertThat(loading.body()).isEqualTo("{\"status\":\"loading\"}");
            server.warmUp();
            assertEquals(503, TestServers.get(base + "/health", null).statusCode());
            server.ready();
            HttpResponse<String> ok = TestServers.get(base + "/health", null);
            assertEquals(200, ok.statusCode());
            assertThat(ok.body()).isEqualTo("{\"status\":\"ok\"}");
            // a healthy server's polls are not logged (a load balancer's would fill the log); the 503s are
            assertThat(log).filteredOn(l -> l.startsWith("GET /health")).hasSize(2).allMatch(l -> l.startsWith("GET /health 503 "));
        }
    }

    @Test
    void aRequestOverTheTimeLimitIs408() throws Exception {
        ServerConfig c = ServerConfig.defaults().withTimeouts(Duration.ofNanos(1), Duration.ofSeconds(5), Duration.ofSeconds(1));
        try (TestServers.Running s = TestServers.start(TestServers.model(2), c)) {
            HttpResponse<String> r = TestServers.post(s.base() + "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":40}", null);
            assertEquals(408, r.statusCode(), r.body());
            assertThat(TestServers.json(r).get("error").get("code").asText()).isEqualTo("request_timeout");
            assertEquals(200, TestServers.get(s.base() + "/health", null).statusCode());
        }
    }
}
