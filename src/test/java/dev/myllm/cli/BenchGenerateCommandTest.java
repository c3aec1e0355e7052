package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

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
        double products = value(r.out(), "weight products"), rest = value(r.out(), "the rest"), step = value(r.out(), "decode step");
        assertThat(products).isPositive();
        assertThat(products + rest).isCloseTo(step, org.assertj.core.data.Offset.offset(0.002));
    }

    private static double value(String out, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + " +(-?[\\d.]+) ms").matcher(out);
        assertThat(m.find()).as(label).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
