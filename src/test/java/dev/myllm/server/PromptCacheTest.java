package dev.myllm.server;

import static dev.myllm.server.TestServers.get;
import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A prompt that starts as an earlier one did (a chat's earlier turns, a shared system prompt, the same prompt again)
 * reuses the positions the earlier prefill left in a kept KV cache: the answers and their log-probabilities are
 * bitwise those of a server that computed every position, and the usage counts the reused tokens as OpenAI does.
 */
class PromptCacheTest {
    private static int[] ids(int from, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = (from + 97 * i) % 50000;
        return a;
    }

    private static int[] concat(int[]... parts) {
        int[] out = new int[0];
        for (int[] p : parts) {
            int at = out.length;
            out = Arrays.copyOf(out, at + p.length);
            System.arraycopy(p, 0, out, at, p.length);
        }
        return out;
    }

    private static String body(int[] prompt, boolean stream) {
        return "{\"prompt\":" + Arrays.toString(prompt).replace(" ", "") + ",\"max_tokens\":6,\"temperature\":0,\"logprobs\":5"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    @Test
    void aKeptPrefixGivesTheSameAnswerBitForBitAndIsCountedAsCached() throws Exception {
        int[] system = ids(11, 40);
        int[] first = concat(system, ids(3001, 9));
        int[] second = concat(system, ids(7001, 12));       // shares the first 40 tokens with the first prompt
        int[] followUp = concat(first, ids(9001, 15));      // the first prompt, continued
        List<int[]> prompts = List.of(first, second, followUp, first);

        // the reference: each prompt on a server of its own, every position computed
        List<JsonNode> fresh = new ArrayList<>();
        for (int[] p : prompts) {
            try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults())) {
                JsonNode o = json(post(s.base() + "/v1/completions", body(p, false), null));
                assertThat(o.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isZero();
                fresh.add(o);
            }
        }

        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults())) {
            int[] cached = new int[prompts.size()];
            for (int i = 0; i < prompts.size(); i++) {
                JsonNode o = json(post(s.base() + "/v1/completions", body(prompts.get(i), false), null));
                assertThat(o.get("choices").get(0).get("text").asText()).as("prompt %d", i).isEqualTo(fresh.get(i).get("choices").get(0).get("text").asText());
                // the log-probabilities print as the floats they are: equal text is equal bits
                assertThat(o.get("choices").get(0).get("logprobs")).as("prompt %d", i).isEqualTo(fresh.get(i).get("choices").get(0).get("logprobs"));
                assertThat(o.get("usage").get("prompt_tokens").asInt()).isEqualTo(prompts.get(i).length);
                cached[i] = o.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
            }
            // nothing kept yet; the system prompt; all of the first prompt, copied into a larger cache (its 6 answer
            // positions came from decode steps, which are not reused); the first prompt again, but its last position,
            // which is computed for its logits
            assertThat(cached).containsExactly(0, 40, first.length, first.length - 1);
            double counted = TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_prompt_tokens_cached_total");
            assertThat(counted).isEqualTo(40 + first.length + first.length - 1);
            double run = TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_prefill_tokens_total");
            assertThat(run).isEqualTo(Arrays.stream(prompts.toArray(int[][]::new)).mapToInt(p -> p.length).sum() - counted);

            // streamed, the usage chunk says the same
            String events = post(s.base() + "/v1/completions", body(followUp, true), null).body();
            String[] e = events.split("\n\n");
            JsonNode usage = TestServers.JSON.readTree(e[e.length - 2].substring(6)).get("usage");
            assertThat(usage.get("prompt_tokens_details").get("cached_tokens").asInt()).isEqualTo(followUp.length - 1);
        }
    }

    @Test
    void severalChoicesAndEchoedLogprobsReuseAndLeaveTheSameBits() throws Exception {
        int[] p = ids(11, 37), more = concat(p, ids(501, 9)), most = concat(more, ids(7, 3));
        // n = 8 twice: eight kept caches, then eight one-token prefill chunks in one pass; echo with logprobs
        // prefills alone (every position's logits) and reuses nothing, but its positions are offered to the next prompt
        List<String> bodies = List.of(body(p, ",\"n\":8"), body(p, ",\"n\":8"), body(more, ",\"n\":8"),
                body(p, ",\"echo\":true"), body(more, ""), body(most, ",\"echo\":true"), body(most, ""));
        List<JsonNode> fresh = new ArrayList<>();
        for (String b : bodies) {
            try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults())) {
                fresh.add(json(post(s.base() + "/v1/completions", b, null)));
            }
        }
        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults())) {
            int[] cached = new int[bodies.size()];
            for (int i = 0; i < bodies.size(); i++) {
                JsonNode o = json(post(s.base() + "/v1/completions", bodies.get(i), null));
                assertThat(o.get("choices")).as("request %d", i).isEqualTo(fresh.get(i).get("choices"));
                cached[i] = o.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
            }
            // a prompt's cached tokens counted once, however many choices reused them
            assertThat(cached).containsExactly(0, p.length - 1, p.length, 0, more.length - 1, 0, most.length - 1);
            // and /metrics counts them as the answers do: once a prompt, not once a choice
            assertThat(TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_prompt_tokens_cached_total"))
                    .isEqualTo(Arrays.stream(cached).sum());
        }
    }

    @Test
    void theChoicesOfOnePromptPrefillItOnceWithTheBitsOfItsOwnPass() throws Exception {
        int[] p = ids(23, 41);
        // without kept prefixes, so that only the sharing within one pass is at work
        ServerConfig noCache = ServerConfig.defaults().withPromptCache(false);
        JsonNode alone;
        try (TestServers.Running s = TestServers.start(TestServers.model(5), noCache)) {
            alone = json(post(s.base() + "/v1/completions", body(p, ""), null)).get("choices").get(0);
        }
        try (TestServers.Running s = TestServers.start(TestServers.model(5), noCache)) {
            JsonNode o = json(post(s.base() + "/v1/completions", body(p, ",\"n\":4"), null));
            assertThat(o.get("choices")).hasSize(4);
            for (int c = 0; c < 4; c++) {
                JsonNode ch = o.get("choices").get(c);
                assertThat(ch.get("text")).as("choice %d", c).isEqualTo(alone.get("text"));
                assertThat(ch.get("logprobs")).as("choice %d", c).isEqualTo(alone.get("logprobs"));
            }
            // the prompt ran through the model once, not four times
            assertThat(TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_prefill_tokens_total")).isEqualTo(p.length);
        }
    }

    @Test
    void concurrentRequestsSharingStartsGetTheirSoloAnswersBitForBit() throws Exception {
        // three system prompts, each with several questions, some asked twice and some with n = 2; a batch of 3 and
        // prompt chunks of 8, so that requests queue, prompts are cut across passes (a leader's chunk ending short of its
        // prompt, with followers), kept prefixes are taken, copied and handed over while others decode
        List<int[]> prompts = new ArrayList<>();
        for (int sys = 0; sys < 3; sys++) {
            int[] system = ids(1000 * sys + 5, 20 + 7 * sys);
            for (int q = 0; q < 4; q++) prompts.add(concat(system, ids(300 * sys + 17 * q + 1, 3 + 5 * q)));
        }
        prompts.add(prompts.get(1));
        prompts.add(prompts.get(6));
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) bodies.add(body(prompts.get(i), i % 3 == 0 ? ",\"n\":2" : ""));
        List<JsonNode> solo = new ArrayList<>();
        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults().withPromptCache(false))) {
            for (String b : bodies) solo.add(json(post(s.base() + "/v1/completions", b, null)).get("choices"));
        }
        ServerConfig small = new ServerConfig("127.0.0.1", 0, null, 3, 64, 8, 1 << 20, 4096, 8,
                java.time.Duration.ofMinutes(1), java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(1), false, 64);
        try (TestServers.Running s = TestServers.start(TestServers.model(5), small)) {
            int answeredCached = 0;
            for (int round = 0; round < 2; round++) { // the second round finds every prompt's start kept
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(bodies.size());
                try {
                    List<java.util.concurrent.Future<JsonNode>> answers = new ArrayList<>();
                    for (String b : bodies) answers.add(pool.submit(() -> json(post(s.base() + "/v1/completions", b, null))));
                    for (int i = 0; i < bodies.size(); i++) {
                        JsonNode o = answers.get(i).get();
                        assertThat(o.get("choices")).as("round %d, request %d", round, i).isEqualTo(solo.get(i));
                        answeredCached += o.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            // the count is the answers' own: once a prompt, however many of its choices took a kept start
            assertThat(answeredCached).isPositive();
            assertThat(TestServers.metric(get(s.base() + "/metrics", null).body(), "myllm_prompt_tokens_cached_total")).isEqualTo(answeredCached);
        }
    }

    private static String body(int[] prompt, String extra) {
        return "{\"prompt\":" + Arrays.toString(prompt).replace(" ", "") + ",\"max_tokens\":6,\"temperature\":0,\"logprobs\":5" + extra + "}";
    }

    @Test
    void withoutThePromptCacheEveryPositionIsPrefilled() throws Exception {
        int[] prompt = ids(11, 30);
        try (TestServers.Running s = TestServers.start(TestServers.model(5), ServerConfig.defaults().withPromptCache(false))) {
            for (int i = 0; i < 2; i++) {
                JsonNode o = json(post(s.base() + "/v1/completions", body(prompt, false), null));
                assertThat(o.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isZero();
            }
            String metrics = get(s.base() + "/metrics", null).body();
            assertThat(TestServers.metric(metrics, "myllm_prompt_tokens_cached_total")).isZero();
            assertThat(TestServers.metric(metrics, "myllm_prefill_tokens_total")).isEqualTo(60);
        }
    }
}
