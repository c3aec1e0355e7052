package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchMatmulCommandTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void jsonHasEveryProductAndShapeWithPositiveRates() throws Exception {
        Run r = run("bench", "matmul", "--rows", "4", "--seconds", "0.01", "--json");
        assertThat(r.code).as(r.err).isZero();
        JsonNode root = new ObjectMapper().readTree(r.out);
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
        Run r = run("bench", "matmul", "--rows", "2", "--seconds", "0.01");
        assertThat(r.code).as(r.err).isZero();
        assertThat(r.out).contains("fwd X·Wt (NT)", "GFLOP/s", "median over products and shapes", "sgemm_ceiling.py");
    }

    @Test
    void badArgumentsExitNonZeroWithOneLine() {
        Run r = run("bench", "matmul", "--rows", "0");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err.strip()).isEqualTo("myllm: --rows must be >= 1, got 0");
        assertThat(run("bench", "matmul", "--seconds", "-1").err).contains("--seconds must be in (0, 600], got -1.0");
    }
}
