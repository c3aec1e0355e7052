package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchMatmulCommandTest {


    @Test
    void jsonHasEveryProductAndShapeWithPositiveRates() throws Exception {
        CliRun r = run("bench", "matmul", "--rows", "4", "--seconds", "0.01", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("rows").asInt()).isEqualTo(4);
        JsonNode results = root.get("results");
        assertThat(results).hasSize(3 * BenchMatmulCommand.SHAPES.length);
        JsonNode last = results.get(results.size() - 1);      // dW for the LM head: (50304, 768) over 4 rows
        assertThat(last.get("M").asInt()).isEqualTo(50304);
        assertThat(last.get("N").asInt()).isEqualTo(768);
        assertThat(last.get("K").asInt()).isEqualTo(4);
        for (JsonNode x : results) assertThat(x.get("gflops").asDouble()).isPositive();
        assertThat(root.get("median_gflops").asDouble()).isPositive();
    }

    @Test
    void tableNamesTheCeilingScript() {
        CliRun r = run("bench", "matmul", "--rows", "2", "--seconds", "0.01");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("fwd X·Wt (NT)", "GFLOP/s", "median over products and shapes", "python3 tools/sgemm_ceiling.py").doesNotContain("shared/");
    }

    @Test
    void badArgumentsExitNonZeroWithOneLine() {
        CliRun r = run("bench", "matmul", "--rows", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("myllm: --rows must be >= 1, got 0");
        assertThat(run("bench", "matmul", "--seconds", "-1").err()).contains("--seconds must be in (0, 600], got -1.0");
    }
}
