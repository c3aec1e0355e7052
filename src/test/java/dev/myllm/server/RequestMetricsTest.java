package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code myllm_requests_total} counts a refused request under the endpoint it was sent to: every 400, 401, 404
 * and 405 of a known route was counted as {@code endpoint="other"}, so an endpoint's error rate read zero.
 */
class RequestMetricsTest {
    private static final String KEY = TestServers.KEY;

    @Test
    void refusedRequestsAreCountedUnderTheirEndpoint() throws Exception {
        try (TestServers.Running srv = TestServers.start(TestServers.model(3), ServerConfig.defaults().withApiKey(KEY))) {
            String url = srv.base();
            assertThat(TestServers.post(url + "/v1/completions", "{}", KEY).statusCode()).isEqualTo(400);
            assertThat(TestServers.post(url + "/v1/completions", "{\"prompt\":\"a\"}", "wrong").statusCode()).isEqualTo(401);
            assertThat(TestServers.get(url + "/v1/completions", KEY).statusCode()).isEqualTo(405);
            assertThat(TestServers.post(url + "/v1/chat/completions", "{\"messages\":[]}", KEY).statusCode()).isEqualTo(400);
            assertThat(TestServers.post(url + "/v1/embeddings", "{}", KEY).statusCode()).isEqualTo(400);
            assertThat(TestServers.post(url + "/v1/inspect", "{}", KEY).statusCode()).isEqualTo(400);
            assertThat(TestServers.post(url + "/v1/classify", "{\"input\":\"a\"}", KEY).statusCode()).isEqualTo(404);
            assertThat(TestServers.get(url + "/v1/models/other", KEY).statusCode()).isEqualTo(404);
            assertThat(TestServers.post(url + "/health", "{}", null).statusCode()).isEqualTo(405);
            assertThat(TestServers.get(url + "/v1/nothing", KEY).statusCode()).isEqualTo(404);
            HttpResponse<String> xml = TestServers.HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "text/xml").header("Authorization", "Bearer " + KEY)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(xml.statusCode()).isEqualTo(415);

            String metrics = TestServers.get(url + "/metrics", KEY).body();
            assertThat(metrics).contains(
                    "myllm_requests_total{endpoint=\"completions\",status=\"400\"} 1\n",
                    "myllm_requests_total{endpoint=\"completions\",status=\"401\"} 1\n",
                    "myllm_requests_total{endpoint=\"completions\",status=\"405\"} 1\n",
                    "myllm_requests_total{endpoint=\"completions\",status=\"415\"} 1\n",
                    "myllm_requests_total{endpoint=\"chat\",status=\"400\"} 1\n",
                    "myllm_requests_total{endpoint=\"embeddings\",status=\"400\"} 1\n",
                    "myllm_requests_total{endpoint=\"inspect\",status=\"400\"} 1\n",
                    "myllm_requests_total{endpoint=\"classify\",status=\"404\"} 1\n",
                    "myllm_requests_total{endpoint=\"models\",status=\"404\"} 1\n",
                    "myllm_requests_total{endpoint=\"health\",status=\"405\"} 1\n",
                    // a URL no route serves is still "other"
                    "myllm_requests_total{endpoint=\"other\",status=\"404\"} 1\n");
        }
    }
}
