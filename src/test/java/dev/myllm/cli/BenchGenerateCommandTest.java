package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code bench generate}: the median with its spread, and the per-part profile of a decode step. */
class BenchGenerateCommandTest {
    @Test
    void reportsTheSpreadAndWhereADecodeStepGoes() {
        CliRun r = run("bench", "generate", "--preset", "gpt2-tiny", "--dtype", "q8_0", "--prompt-tokens", "8", "--new-tokens", "12",
                "--runs", "3", "--uncached-tokens", "0", "--profile");
        assertThat(r.code()).as(r.err()).isZero();
        Matcher m = Pattern.compile("decode with cache  ([\\d.]+) tokens/s \\(median of 3; slowest ([\\d.]+), fastest ([\\d.]+)\\)").matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        double median = Double.parseDouble(m.group(1)), slowest = Double.parseDouble(m.group(2)), fastest = Double.parseDouble(m.group(3));
        assertThat(slowest).isLessThanOrEqualTo(median);
        assertThat(median).isLessThanOrEqualTo(fastest);
        // every one-row product of the step, each block's four and the head: 4·layers + 1 a token
        assertThat(r.out()).contains("packed Q8_0 1×", "(1 a token)", "the rest");
        // the memory beside the speed: this JVM's peak, which already held the tests before it
        Matcher rss = Pattern.compile("peak RSS +(\\d+) MiB \\(the whole process so far\\)").matcher(r.out());
        assertThat(rss.find()).as(r.out()).isTrue();
        assertThat(Long.parseLong(rss.group(1))).isCloseTo(PeakMemory.bytes() >> 20, org.assertj.core.data.Offset.offset(64L)).isPositive();
        double products = value(r.out(), "weight products"), rest = value(r.out(), "the rest"), step = value(r.out(), "decode step");
        assertThat(products).isPositive();
        assertThat(products + rest).isCloseTo(step, org.assertj.core.data.Offset.offset(0.002));
    }

    @Test
    void reportsThePeakMemoryOfTheRunsWithTheCacheApartFromTheComparisonWithout() throws Exception {
        String[] common = {"bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "4", "--new-tokens", "6", "--runs", "1",
                "--uncached-tokens", "6"};
        CliRun r = run(concat(common, "--json"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        // read when the runs with the cache were done, before the comparison: at most the whole process's
        assertThat(o.get("peak_rss_mb_cached")).as(r.out()).isNotNull();
        assertThat(o.get("peak_rss_mb_cached").asLong()).isPositive().isLessThanOrEqualTo(o.get("peak_rss_mb").asLong());
        CliRun text = run(common);
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("\\n  peak RSS +\\d+ MiB \\(the whole process so far, \\d+ MiB before the run without the cache\\)\\n");
    }

    @Test
    void readsTheMemoryBandwidthAfterEachRun() throws Exception {
        String[] common = {"bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "4", "--new-tokens", "6", "--runs", "3",
                "--uncached-tokens", "0"};
        CliRun r = run(concat(common, "--json"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        JsonNode reads = o.get("read_gbps_runs"), runs = o.get("decode_tokens_per_s_runs");
        assertThat(reads).as(r.out()).hasSize(3);
        assertThat(runs).hasSize(3);
        double[] sorted = new double[3];
        for (int i = 0; i < 3; i++) {
            assertThat(reads.get(i).asDouble()).isPositive().isFinite();
            sorted[i] = runs.get(i).asDouble();
        }
        java.util.Arrays.sort(sorted);
        assertThat(o.get("decode_tokens_per_s").asDouble()).isEqualTo(sorted[1]);
        assertThat(o.get("read_gbps_min").asDouble()).isLessThanOrEqualTo(o.get("read_gbps").asDouble());
        assertThat(o.get("read_gbps").asDouble()).isLessThanOrEqualTo(o.get("read_gbps_max").asDouble());
        CliRun text = run(common);
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("\\n  memory read +\\d+\\.\\d GB/s \\(median of reads after each run, \\d+\\.\\d-\\d+\\.\\d")
                .containsPattern("\\n  runs, tokens/s at GB/s: \\d+\\.\\d at \\d+\\.\\d(, \\d+\\.\\d at \\d+\\.\\d){2}\\n");
        // several types: each one's reads beside its runs, and its ratio to f32 over the rounds read alike
        CliRun types = run("bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "4", "--new-tokens", "6", "--runs", "2",
                "--dtype", "q8_0,f32", "--json");
        assertThat(types.code()).as(types.err()).isZero();
        JsonNode t = new ObjectMapper().readTree(types.out());
        assertThat(t.get("unsteady_limit").asDouble()).isEqualTo(SteadyRounds.LIMIT);
        for (JsonNode e : t.get("types")) {
            assertThat(e.get("read_gbps_rounds")).hasSize(2);
            assertThat(e.get("read_gbps").asDouble()).isPositive();
            assertThat(e.get("steady_rounds").asInt() + e.get("unsteady_rounds").size()).isEqualTo(2);
        }
    }

    @Test
    void readsAListOfTypesInOrderWithoutRepeats() {
        assertThat(BenchGenerateRounds.types("f32, F16,bfloat16,q8")).containsExactly("f32", "f16", "bf16", "q8_0");
        assertThatThrownBy(() -> BenchGenerateRounds.types("f32,f16,float16")).isInstanceOf(CliException.class)
                .hasMessage("--dtype: float16 is listed twice in 'f32,f16,float16'");
        assertThatThrownBy(() -> BenchGenerateRounds.types("f32,,f16")).hasMessageContaining("empty type");
    }

    @Test
    void aWrongTypeInTheListIsOneLine() {
        CliRun r = run("bench", "generate", "--preset", "gpt2-tiny", "--dtype", "f32,q9");
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).isEqualTo("myllm: --dtype: unknown type 'q9'; choose f32, f16, bf16, q8_0, q4_0 or q4_1");
        CliRun one = run("bench", "generate", "--preset", "gpt2-tiny", "--dtype", "q9"); // named before the prompt's fit to the context
        assertThat(one.code()).isNotZero();
        assertThat(one.err().strip()).isEqualTo("myllm: --dtype: unknown type 'q9'; choose f32, f16, bf16, q8_0, q4_0 or q4_1");
        CliRun u = run("bench", "generate", "--preset", "gpt2-tiny", "--dtype", "f32,f16", "--uncached-tokens", "4");
        assertThat(u.code()).isNotZero();
        assertThat(u.err().strip()).startsWith("myllm: --uncached-tokens applies to one --dtype").doesNotContain("\n");
    }

    @Test
    void measuresSeveralTypesInRoundsWithTheirRatioToF32() throws Exception {
        String[] common = {"bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "4", "--new-tokens", "6", "--runs", "3", "--json"};
        CliRun r = run(concat(common, "--dtype", "q8_0,f32"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("baseline").asText()).isEqualTo("f32");
        assertThat(o.get("peak_rss_mb").asLong()).isPositive();
        JsonNode q8 = o.get("types").get(0), f32 = o.get("types").get(1);
        assertThat(q8.get("dtype").asText()).isEqualTo("q8_0");
        assertThat(f32.get("ratio").asDouble()).isEqualTo(1.0);
        assertThat(f32.get("round_ratio_max").asDouble()).isEqualTo(1.0);
        assertThat(q8.get("decode_tokens_per_s_rounds")).hasSize(3);
        double[] rounds = new double[3], base = new double[3];
        for (int i = 0; i < 3; i++) {
            rounds[i] = q8.get("decode_tokens_per_s_rounds").get(i).asDouble();
            base[i] = f32.get("decode_tokens_per_s_rounds").get(i).asDouble();
        }
        double median = BenchGenerateCommand.median(rounds);
        assertThat(q8.get("decode_tokens_per_s").asDouble()).isEqualTo(median);
        assertThat(q8.get("ratio").asDouble()).isCloseTo(median / BenchGenerateCommand.median(base), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(q8.get("round_ratio_min").asDouble()).isLessThanOrEqualTo(q8.get("round_ratio_median").asDouble())
                .isCloseTo(java.util.stream.IntStream.range(0, 3).mapToDouble(i -> rounds[i] / base[i]).min().orElseThrow(),
                        org.assertj.core.data.Offset.offset(1e-12));
        // the bytes a token reads are those of the type measured alone
        CliRun alone = run(concat(common, "--dtype", "q8_0", "--uncached-tokens", "0"));
        assertThat(q8.get("weight_bytes_per_token").asLong())
                .isEqualTo(new ObjectMapper().readTree(alone.out()).get("weight_bytes_per_token").asLong())
                .isLessThan(f32.get("weight_bytes_per_token").asLong() / 3);
        CliRun text = run("bench", "generate", "--preset", "gpt2-tiny", "--prompt-tokens", "4", "--new-tokens", "6", "--runs", "1",
                "--dtype", "f32,bf16", "--profile");
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("\\n  bf16 +[\\d.]+ tokens/s \\([\\d.]+-[\\d.]+\\) +[\\d.]+ MB/token +[\\d.]+ GB/s +[\\d.]+x f32")
                .contains("  bf16:\n  profile", "packed BF16 1×");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static double value(String out, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + " +(-?[\\d.]+) ms").matcher(out);
        assertThat(m.find()).as(label).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
