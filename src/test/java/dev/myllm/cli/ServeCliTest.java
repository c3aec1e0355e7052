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
        // an empty name served a model called "" (/v1/models listed id "", and "model": "" matched it)
        for (String name : new String[]{"", "  "}) {
            ServeCommand named = new ServeCommand();
            new picocli.CommandLine(named).parseArgs("--preset", "gpt2-tiny", "--name", name);
            org.assertj.core.api.Assertions.assertThatThrownBy(named::config).isInstanceOf(CliException.class).hasMessage("--name is empty");
            r = CliRun.run("serve", "--preset", "gpt2-tiny", "--name", name);
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("myllm: --name is empty\n");
        }
        r = CliRun.run("serve", "--preset", "gpt2-tiny", "--port", "70000");
        assertThat(r.err().strip()).isEqualTo("myllm: --port must be in [0, 65535], got 70000");
        r = CliRun.run("serve", "--preset", "gpt2-tiny", "--host", "no-such-host.invalid");
        assertThat(r.err()).isEqualTo("myllm: --host no-such-host.invalid: not an address of this machine or a host name that resolves\n");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "0");
        assertThat(r.err().strip()).isEqualTo("myllm: --concurrency must be >= 1, got 0");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--prompt-tokens", "100", "--max-tokens", "100");
        assertThat(r.err().strip()).isEqualTo("myllm: --prompt-tokens + --max-tokens = 200 exceeds the context length 128");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--generate-runs", "-1");
        assertThat(r.err().strip()).isEqualTo("myllm: --generate-runs must be >= 0, got -1");
        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--prompt-tokens", "8", "--shared-prefix", "8");
        assertThat(r.err().strip()).isEqualTo("myllm: --shared-prefix must be in [0, --prompt-tokens), got 8 with --prompt-tokens 8");
        // serve's own range, with the option named and a usage error's exit (it was "max batch must be >= 1, got 0", exit 1)
        for (String batch : new String[]{"0", "4097"}) {
            r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--max-batch", batch);
            assertThat(r.code()).as(batch).isEqualTo(2);
            assertThat(r.err()).as(batch).isEqualTo("myllm: --max-batch must be in [1, 4096], got " + batch + "\n");
        }
        // fewer requests than streams: the warm-up asked for a body per stream and failed with "Index 1 out of bounds for length 1",
        // and a level of 4 streams with 1 request would measure one stream under the name of four
        for (String levels : new String[]{"4", "1,4"}) {
            r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", levels, "--requests", "1", "--prompt-tokens", "4",
                    "--max-tokens", "4", "--generate-runs", "0");
            assertThat(r.code()).as(levels).isEqualTo(2);
            assertThat(r.err()).as(levels).isEqualTo("myllm: --requests 1 is fewer than the 4 streams of --concurrency " + levels
                    + ": each stream needs a request at every level (give at least 4)\n");
        }
    }

    @Test
    void aClassifierRefusesADtypeItWouldNotBeServedIn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        dev.myllm.model.GPTConfig c = new dev.myllm.model.GPTConfig(dev.myllm.model.GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f);
        dev.myllm.io.ClassifierDirectory.save(new dev.myllm.model.GPTModel(c, 1), dev.myllm.tensor.Tensor.zeros(2, 16), null,
                new dev.myllm.io.ClassifierDirectory.Head(java.util.List.of("ham", "spam"), 50256, "flexible", 0), dir);
        // a classifier is served in float32 whatever --dtype said (q4_0 and --mmap were taken without a word)
        for (String[] opts : new String[][]{{"--dtype", "q4_0"}, {"--dtype", "f16"}, {"--mmap"}}) {
            ServeCommand cmd = new ServeCommand();
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("--model", dir.toString()), java.util.Arrays.stream(opts))
                    .toArray(String[]::new);
            new picocli.CommandLine(cmd).parseArgs(args);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServeCommand.load(cmd.model, cmd.weights, cmd.tokenizer, cmd.seed, null))
                    .as(String.join(" ", opts)).isInstanceOf(CliException.class)
                    .hasMessage(opts[0] + ": " + dir + " is a classifier, served in float32 as classify runs it; leave " + opts[0] + " out");
            CliRun r = CliRun.run(java.util.stream.Stream.concat(java.util.stream.Stream.of("serve"), java.util.Arrays.stream(args)).toArray(String[]::new));
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("myllm: " + opts[0] + ": " + dir + " is a classifier, served in float32 as classify runs it; leave "
                    + opts[0] + " out\n");
        }
        // f32 is what it is served in: taken
        ServeCommand f32 = new ServeCommand();
        new picocli.CommandLine(f32).parseArgs("--model", dir.toString(), "--dtype", "float32");
        assertThat(ServeCommand.load(f32.model, f32.weights, f32.tokenizer, f32.seed, null).classifier()).isNotNull();
    }

    @Test
    void promptPrefixesAreReusedUnlessNoPromptCacheSaysOtherwise() {
        ServeCommand on = new ServeCommand(), off = new ServeCommand();
        new picocli.CommandLine(on).parseArgs("--preset", "gpt2-tiny");
        new picocli.CommandLine(off).parseArgs("--preset", "gpt2-tiny", "--no-prompt-cache");
        assertThat(on.config().promptCache()).isTrue();
        assertThat(off.config().promptCache()).isFalse();
    }

    @Test
    void aPortInUseIsNamedWithTheReason() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            CliRun r = CliRun.run("serve", "--preset", "gpt2-tiny", "--port", Integer.toString(port));
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).endsWith("myllm: --host/--port: cannot listen on 127.0.0.1:" + port + ": address already in use\n");
        }
    }

    @Test
    void concurrencyListsAreParsedAndBadOnesAreOneLineErrors() {
        assertThat(BenchServeCommand.levels("1,4,8,16")).containsExactly(1, 4, 8, 16);
        assertThat(BenchServeCommand.levels(" 8 , 1")).containsExactly(8, 1);
        assertThat(BenchServeCommand.levels("3")).containsExactly(3);
        String[][] bad = {
                {"1,x", "myllm: --concurrency takes a number of streams or a list such as 1,4,8,16, got '1,x'"},
                {"1,,4", "myllm: --concurrency takes a number of streams or a list such as 1,4,8,16, got '1,,4'"},
                {"1,0", "myllm: --concurrency must be >= 1, got 0"},
                {"1,-2", "myllm: --concurrency must be >= 1, got -2"},
                {"4,1,4", "myllm: --concurrency: 4 is listed twice in '4,1,4'"},
                {"5000", "myllm: --concurrency must be at most 4096, got 5000"},
        };
        for (String[] b : bad) {
            CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", b[0]);
            assertThat(r.code()).as(b[0]).isEqualTo(2);
            assertThat(r.err().strip()).as(b[0]).isEqualTo(b[1]);
        }
        CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "1,2", "--rounds", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("myllm: --rounds must be >= 1, got 0");
    }

    @Test
    void benchServeMeasuresSeveralLevelsInRoundsInOneProcess() throws Exception {
        CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "1,2,3", "--rounds", "2", "--prompt-tokens", "5",
                "--max-tokens", "6", "--generate-runs", "1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("concurrency").toString()).isEqualTo("[1,2,3]");
        assertThat(o.get("prompt_cache").asBoolean()).as("off: the levels send the same prompts again").isFalse();
        assertThat(o.get("rounds").asInt()).isEqualTo(2);
        assertThat(o.get("warmup_rounds").asInt()).isBetween(1, BenchServeCommand.MAX_WARMUP_WAVES);
        assertThat(o.get("jit_ms_while_timed").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(o.get("gc_count_while_timed").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(o.get("gc_ms_while_timed").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(o.get("peak_rss_mb").asLong()).isPositive().isCloseTo(PeakMemory.bytes() >> 20, org.assertj.core.data.Offset.offset(64L));
        double gen = o.get("generate_tokens_per_s").asDouble();
        assertThat(gen).isPositive();
        // generate alone also takes a turn in every round: each level's ratio to it round by round
        JsonNode genRounds = o.get("generate_tokens_per_s_rounds");
        assertThat(genRounds).hasSize(2);
        assertThat(genRounds.get(0).asDouble()).isPositive();
        assertThat(genRounds.get(1).asDouble()).isPositive();
        JsonNode levels = o.get("levels");
        assertThat(levels).hasSize(3);
        double first = levels.get(0).get("tokens_per_s").asDouble();
        long all = 0;
        for (int i = 0; i < 3; i++) {
            JsonNode l = levels.get(i);
            int streams = i + 1, requests = Math.max(4, 2 * streams);
            assertThat(l.get("concurrency").asInt()).isEqualTo(streams);
            assertThat(l.get("requests").asInt()).isEqualTo(requests);
            // ignore_eos: exactly max_tokens each, in each of the 2 rounds
            assertThat(l.get("completion_tokens").asLong()).isEqualTo(2L * requests * 6);
            all += l.get("completion_tokens").asLong();
            JsonNode rounds = l.get("tokens_per_s_rounds");
            assertThat(rounds).hasSize(2);
            double lo = Math.min(rounds.get(0).asDouble(), rounds.get(1).asDouble()), hi = Math.max(rounds.get(0).asDouble(), rounds.get(1).asDouble());
            assertThat(lo).isPositive();
            assertThat(l.get("tokens_per_s_min").asDouble()).isEqualTo(lo);
            assertThat(l.get("tokens_per_s_max").asDouble()).isEqualTo(hi);
            double tps = l.get("tokens_per_s").asDouble();
            assertThat(tps).isCloseTo((lo + hi) / 2, org.assertj.core.data.Offset.offset(1e-9 * hi)); // the median of two
            assertThat(l.get("ratio_to_first").asDouble()).isCloseTo(tps / first, org.assertj.core.data.Offset.offset(1e-9 * tps / first));
            assertThat(l.get("ratio_to_generate").asDouble()).isCloseTo(tps / gen, org.assertj.core.data.Offset.offset(1e-9 * tps / gen));
            assertThat(l.get("round_ratio_min").asDouble()).isPositive()
                    .isLessThanOrEqualTo(l.get("round_ratio_median").asDouble() * (1 + 1e-12));
            assertThat(l.get("round_ratio_median").asDouble()).isLessThanOrEqualTo(l.get("round_ratio_max").asDouble() * (1 + 1e-12));
            assertThat(l.get("ttft_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(l.get("ttft_p99_ms").asDouble());
            assertThat(l.get("itl_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(l.get("itl_p99_ms").asDouble());
            double g0 = rounds.get(0).asDouble() / genRounds.get(0).asDouble(), g1 = rounds.get(1).asDouble() / genRounds.get(1).asDouble();
            assertThat(l.get("round_ratio_to_generate_min").asDouble()).isCloseTo(Math.min(g0, g1), org.assertj.core.data.Offset.offset(1e-9 * g0));
            assertThat(l.get("round_ratio_to_generate_max").asDouble()).isCloseTo(Math.max(g0, g1), org.assertj.core.data.Offset.offset(1e-9 * g0));
            // the memory bandwidth beside each run, and the ratios over the rounds whose two runs read alike
            JsonNode reads = l.get("read_gbps_rounds");
            assertThat(reads).hasSize(2);
            assertThat(reads.get(0).asDouble()).isPositive().isFinite();
            assertThat(l.get("steady_rounds").asInt() + l.get("unsteady_rounds").size()).isEqualTo(2);
            assertThat(l.get("steady_rounds_to_generate").asInt() + l.get("unsteady_rounds_to_generate").size()).isEqualTo(2);
        }
        assertThat(o.get("generate_read_gbps_rounds")).hasSize(2);
        assertThat(o.get("generate_read_gbps_runs")).hasSize(1);
        assertThat(levels.get(0).get("unsteady_rounds")).as("the first level against itself").isEmpty();
        assertThat(levels.get(0).get("round_ratio_steady_median").asDouble()).isEqualTo(1.0);
        // the first level against itself, round by round
        assertThat(levels.get(0).get("round_ratio_min").asDouble()).isEqualTo(1.0);
        assertThat(levels.get(0).get("round_ratio_max").asDouble()).isEqualTo(1.0);
        assertThat(o.get("completion_tokens").asLong()).isEqualTo(all);

        r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "1,2", "--prompt-tokens", "5", "--max-tokens", "6",
                "--generate-runs", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("streams 1,2 in 3 interleaved rounds, requests 4,4 a round")
                .containsPattern("\\n +1 stream +\\d+\\.\\d\\d tokens/s \\(\\d+\\.\\d\\d-\\d+\\.\\d\\d\\) +1\\.00x 1 \\(rounds 1\\.00, 1\\.00-1\\.00\\) +\\d+\\.\\d\\dx generate \\(rounds \\d+\\.\\d\\d, ")
                .containsPattern("\\n +2 streams +\\d+\\.\\d\\d tokens/s .* TTFT p50 \\d+ p99 \\d+ ms +ITL p50 \\d+\\.\\d p99 \\d+\\.\\d ms")
                .containsPattern("warm-up \\d waves? of every level; the JIT compiled for \\d+ ms during the timed rounds; \\d+ collections took \\d+ ms")
                .contains("memory read, GB/s beside each run")
                .containsPattern("\\n +2 streams +\\d+\\.\\d GB/s \\(\\d+\\.\\d-\\d+\\.\\d\\)  x 1 over steady rounds ");
    }

    @Test
    void benchServeReportsTokensPerSecondAndLatencies() throws Exception {
        CliRun r = CliRun.run("bench", "serve", "--preset", "gpt2-tiny", "--concurrency", "2", "--requests", "3",
                "--prompt-tokens", "5", "--max-tokens", "6", "--prompt-cache", "--shared-prefix", "3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("prompt_cache").asBoolean()).isTrue();
        assertThat(o.get("shared_prefix_tokens").asInt()).isEqualTo(3);
        assertThat(o.get("completion_tokens").asInt()).isEqualTo(18); // ignore_eos: exactly max_tokens each
        assertThat(o.get("tokens_per_s").asDouble()).isPositive();
        assertThat(o.get("ttft_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(o.get("ttft_p99_ms").asDouble());
        assertThat(o.get("itl_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(o.get("itl_p99_ms").asDouble());
        assertThat(o.get("concurrency").asInt()).isEqualTo(2);
        // a stream's mean gap is at most the largest gap (p99 of 15 gaps), so its rate is at least 1 / that
        assertThat(o.get("decode_tokens_per_s").asDouble()).isGreaterThanOrEqualTo(0.999e3 / o.get("itl_p99_ms").asDouble());
        // one level is a list of one: the same fields in "levels", measured once
        assertThat(o.get("rounds").asInt()).isEqualTo(1);
        assertThat(o.get("levels")).hasSize(1);
        assertThat(o.get("levels").get(0).get("tokens_per_s").asDouble()).isEqualTo(o.get("tokens_per_s").asDouble());
        assertThat(o.get("tokens_per_s").asDouble()).isCloseTo(18 / o.get("wall_s").asDouble(), org.assertj.core.data.Offset.offset(1e-9 * o.get("tokens_per_s").asDouble()));
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
        assertThat(r.out()).containsPattern("one stream: \\d+\\.\\d\\d tokens/s = \\d+\\.\\d% of generate alone \\(\\d+\\.\\d\\d tokens/s, same process\\)")
                .containsPattern("\\n  memory read +\\d+\\.\\d GB/s \\(\\d+\\.\\d-\\d+\\.\\d\\) beside the run");

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
