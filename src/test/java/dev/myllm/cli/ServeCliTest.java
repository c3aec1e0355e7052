package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code serve} and {@code bench serve} on the command line: bad options are one line, the benchmark reports real figures. */
class ServeCliTest {
    @Test
    void badOptionsAreOneLineErrors() {
        CliRun r = CliRun.run("serve", "--preset", "gpt2-tiny", "--max-batch", "0");
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).isEqualTo("myllm: --max-batch must be in [1, 4096], got 0");
        r = CliRun.run("serve", "--preset", "gpt2-tiny", "--port", "70000");
        assertThat(r.err().strip()).isEqualTo("myllm: --port must be in [0, 65535], got 70000");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "0");
        assertThat(r.err().strip()).isEqualTo("myllm: --concurrency must be >= 1, got 0");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--prompt-tokens", "100", "--max-tokens", "100");
        assertThat(r.err().strip()).isEqualTo("myllm: --prompt-tokens + --max-tokens = 200 exceeds the context length 128");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--generate-runs", "-1");
        assertThat(r.err().strip()).isEqualTo("myllm: --generate-runs must be >= 0, got -1");
    }

    @Test
    void benchServeReportsTokensPerSecondAndLatencies() throws Exception {
        CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "2", "--requests", "3",
                "--prompt-tokens", "5", "--max-tokens", "6", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("completion_tokens").asInt()).isEqualTo(18); // ignore_eos: exactly max_tokens each
        assertThat(o.get("tokens_per_s").asDouble()).isPositive();
        assertThat(o.get("ttft_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(o.get("ttft_p99_ms").asDouble());
        assertThat(o.get("itl_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(o.get("itl_p99_ms").asDouble());
        assertThat(o.get("concurrency").asInt()).isEqualTo(2);
        // a stream's mean gap is at most the largest gap (p99 of 15 gaps), so its rate is at least 1 / that
        assertThat(o.get("decode_tokens_per_s").asDouble()).isGreaterThanOrEqualTo(0.999e3 / o.get("itl_p99_ms").asDouble());
    }

    @Test
    void benchServeComparesOneStreamWithGenerateInTheSameProcess() throws Exception {
        CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--requests", "2", "--prompt-tokens", "5", "--max-tokens", "6",
                "--generate-runs", "2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        double gen = o.get("generate_tokens_per_s").asDouble(), decode = o.get("generate_decode_tokens_per_s").asDouble();
        assertThat(gen).isPositive();
        // a whole generation of 6 tokens: the prefill (which gives the first) and 5 decode steps; timing alone
        // cannot order gen and decode (a 5-token prefill of gpt2-tiny may take less than one decode step)
        double prefill = o.get("generate_prefill_s").asDouble();
        assertThat(decode).isPositive();
        assertThat(prefill).isPositive();
        assertThat(gen).isCloseTo(6 / (prefill + 5 / decode), org.assertj.core.data.Offset.offset(1e-9 * gen));
        assertThat(o.get("ratio_to_generate").asDouble()).isCloseTo(o.get("tokens_per_s").asDouble() / gen, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(o.get("decode_ratio_to_generate").asDouble())
                .isCloseTo(o.get("decode_tokens_per_s").asDouble() / decode, org.assertj.core.data.Offset.offset(1e-9));

        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--requests", "2", "--prompt-tokens", "5", "--max-tokens", "6",
                "--generate-runs", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("generate alone +\\d+\\.\\d\\d tokens/s, prefill included \\(decode \\d+\\.\\d\\d tokens/s, median of 1 runs");
        assertThat(r.out()).containsPattern("one stream: \\d+\\.\\d\\d tokens/s = \\d+\\.\\d% of generate alone \\(\\d+\\.\\d\\d tokens/s, same process\\)");

        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "2", "--requests", "2", "--prompt-tokens", "5",
                "--max-tokens", "6", "--generate-runs", "1", "--profile");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("2 streams: \\d+\\.\\d\\d tokens/s = \\d+\\.\\d\\dx generate alone");
        // the profile: the pool and the CPU per token of each thread group, for generate alone and for the server
        assertThat(r.out()).containsPattern("thread pool \\(generate alone\\) \\d+ loops").containsPattern("thread pool \\(server\\) \\d+ loops");
        assertThat(r.out()).containsPattern("cpu ms per token \\(generate alone\\): .*main \\d+\\.\\d{3};")
                .containsPattern("cpu ms per token \\(server\\): .*myllm-scheduler \\d+\\.\\d{3};")
                .containsPattern("generate again +\\d+\\.\\d\\d tokens/s after the server");

        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--requests", "1", "--prompt-tokens", "5", "--max-tokens", "6",
                "--generate-runs", "0", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(new ObjectMapper().readTree(r.out()).has("ratio_to_generate")).isFalse();
    }
}
