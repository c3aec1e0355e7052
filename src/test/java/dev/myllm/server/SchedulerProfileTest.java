package dev.myllm.server;

import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The scheduler's time split ({@code bench serve --profile}) counts exactly the work it did. */
class SchedulerProfileTest {
    @Test
    void countsPromptTokensDecodeRowsAndStepsByBatchSize() throws Exception {
        int[] prompts = {5, 9, 3};
        int[] maxTokens = {4, 7, 6};
        try (TestServers.Running s = TestServers.start(TestServers.model(3), ServerConfig.defaults().withBatch(4, 8))) {
            SchedulerProfile before = s.server().schedulerProfile();
            ExecutorService pool = Executors.newFixedThreadPool(prompts.length);
            try {
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    StringBuilder ids = new StringBuilder();
                    for (int j = 0; j < prompts[i]; j++) ids.append(j == 0 ? "" : ",").append(100 + 31 * j + i);
                    String body = "{\"prompt\":[" + ids + "],\"max_tokens\":" + maxTokens[i] + ",\"temperature\":0,\"ignore_eos\":true}";
                    answers.add(pool.submit(() -> post(s.base() + "/v1/completions", body, null)));
                }
                for (Future<HttpResponse<String>> a : answers) assertThat(a.get().statusCode()).isEqualTo(200);
            } finally {
                pool.shutdownNow();
            }
            SchedulerProfile p = s.server().schedulerProfile().since(before);
            assertThat(p.prefillTokens()).isEqualTo(5 + 9 + 3);
            assertThat(p.prefillPasses()).isBetween(1L, 3L); // each prompt fits one chunk; ones that arrive together share a pass
            // the first token of each comes from its prompt's logits; every other one from a decode step
            assertThat(p.decodeRows()).isEqualTo(3 + 6 + 5);
            long steps = 0, rows = 0;
            for (int b = 0; b < p.stepsByBatch().length; b++) {
                steps += p.stepsByBatch()[b];
                rows += (long) b * p.stepsByBatch()[b];
                if (p.stepsByBatch()[b] > 0) assertThat(p.stepMillis(b)).isPositive();
            }
            assertThat(steps).isEqualTo(p.decodeSteps());
            assertThat(rows).isEqualTo(p.decodeRows());
            assertThat(p.decodeSteps()).isBetween(6L, 14L); // 6 if all three ran side by side, 14 one after another
            assertThat(p.turns()).isGreaterThanOrEqualTo(p.decodeSteps());
            assertThat(p.prefillNanos()).isPositive();
            assertThat(p.decodeNanos()).isPositive();
            assertThat(p.acceptNanos()).isPositive();
            assertThat(p.otherNanos()).isNotNegative();
        }
    }

    @Test
    void warmUpRunsDecodeStepsOfEveryBatchSizeFromFiveDownToOne() throws Exception {
        try (TestServers.Running s = TestServers.start(TestServers.model(4), ServerConfig.defaults().withBatch(8, 16))) {
            s.server().warmUp();
            SchedulerProfile p = s.server().schedulerProfile();
            // two rounds of five sequences, sequence i decoding i + 1 steps after its first token
            assertThat(p.decodeRows()).isEqualTo(2 * (1 + 2 + 3 + 4 + 5));
            for (int b = 1; b <= 5; b++) assertThat(p.stepsByBatch()[b]).as("steps of batch %d", b).isPositive();
            HttpResponse<String> r = post(s.base() + "/v1/completions", "{\"prompt\":[1,2,3],\"max_tokens\":2,\"temperature\":0}", null);
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }
}
