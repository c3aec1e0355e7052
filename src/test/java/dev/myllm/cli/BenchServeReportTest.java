package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** {@code bench serve}'s report of the memory bandwidth beside each run: rounds whose two runs read at different rates are set apart. */
class BenchServeReportTest {
    @Test
    void twoReadsMoreThanFifteenPercentApartAreUnsteady() {
        assertThat(SteadyRounds.unsteady(70, 75)).isFalse();
        assertThat(SteadyRounds.unsteady(50, 70)).isTrue();
        assertThat(SteadyRounds.unsteady(70, 50)).isTrue();
        assertThat(SteadyRounds.unsteady(100, 115)).as("15% apart is not more than 15%").isFalse();
        assertThat(SteadyRounds.unsteady(100, 115.5)).isTrue();
        assertThat(SteadyRounds.unsteady(Double.NaN, 70)).as("no reading: nothing to flag").isFalse();
        double[] tps = {400, 450, 300}, base = {100, 100, 100}, reads = {70, 75, 70}, baseReads = {70, 70, 50};
        assertThat(SteadyRounds.unsteadyRounds(reads, baseReads)).containsExactly(2);
        assertThat(SteadyRounds.steadyRatios(tps, base, reads, baseReads)).containsExactly(4.0, 4.5);
    }

    /** Level 1 at 100 tokens/s every round, level 8 at 400, 450, 300; the third round's reads 70 against 50 GB/s. */
    private static BenchServeReport report(boolean json, StringWriter text) {
        BenchServeReport r = new BenchServeReport(new PrintWriter(text), json, "test", List.of(1, 8), c -> 2 * c, 3, 5, 6, false, 0);
        double[][] tps = {{100, 100, 100}, {400, 450, 300}}, reads = {{70, 70, 50}, {70, 75, 70}};
        for (int l = 0; l < 2; l++) {
            for (int round = 0; round < 3; round++) r.add(l, round, run(tps[l][round]), reads[l][round]);
        }
        double[] gen = {110, 120, 100}, genReads = {70, 50, 50};
        for (int round = 0; round < 3; round++) r.addGenerate(round, gen[round], genReads[round]);
        return r;
    }

    /** One request of 100 tokens at {@code tps}. */
    private static ServeLoad.Run run(double tps) {
        List<Long> gaps = new ArrayList<>();
        for (int i = 0; i < 99; i++) gaps.add(1_000_000L);
        return new ServeLoad.Run(List.of(new ServeLoad.Timing(0, 1_000_000, 100_000_000, gaps, 100)), 100 / tps);
    }

    @Test
    void eachLevelsReadsAndItsRatioOverSteadyRoundsAreInTheJson() throws Exception {
        StringWriter s = new StringWriter();
        report(true, s).print(null, 1, 0, null, null);
        JsonNode o = new ObjectMapper().readTree(s.toString());
        assertThat(o.get("unsteady_limit").asDouble()).isEqualTo(0.15);
        assertThat(o.get("generate_read_gbps_rounds").toString()).isEqualTo("[70.0,50.0,50.0]");
        JsonNode one = o.get("levels").get(0), eight = o.get("levels").get(1);
        assertThat(one.get("read_gbps_rounds").toString()).isEqualTo("[70.0,70.0,50.0]");
        assertThat(one.get("read_gbps").asDouble()).isEqualTo(70);
        assertThat(one.get("read_gbps_min").asDouble()).isEqualTo(50);
        assertThat(one.get("read_gbps_max").asDouble()).isEqualTo(70);
        assertThat(one.get("unsteady_rounds")).isEmpty(); // (against itself)
        // the existing fields over every round, as before
        assertThat(eight.get("round_ratio_median").asDouble()).isEqualTo(4.0);
        assertThat(eight.get("round_ratio_min").asDouble()).isEqualTo(3.0);
        // the third round compared 300 tokens/s read at 70 GB/s with 100 read at 50: left out of the steady median
        assertThat(eight.get("unsteady_rounds").toString()).isEqualTo("[2]");
        assertThat(eight.get("steady_rounds").asInt()).isEqualTo(2);
        assertThat(eight.get("round_ratio_steady_median").asDouble()).isCloseTo(4.25, Offset.offset(1e-12));
        // against generate's turn: level 1's second round (70 against 50) and level 8's second and third
        assertThat(one.get("unsteady_rounds_to_generate").toString()).isEqualTo("[1]");
        assertThat(one.get("round_ratio_to_generate_steady_median").asDouble()).isCloseTo((100 / 110.0 + 1.0) / 2, Offset.offset(1e-12));
        assertThat(eight.get("unsteady_rounds_to_generate").toString()).isEqualTo("[1,2]");
        assertThat(eight.get("round_ratio_to_generate_steady_median").asDouble()).isCloseTo(400 / 110.0, Offset.offset(1e-12));
    }

    @Test
    void theTextGivesEachLevelsReadsAndNamesTheUnsteadyRounds() {
        StringWriter s = new StringWriter();
        report(false, s).print(null, 1, 0, null, null);
        String out = s.toString();
        assertThat(out).contains("memory read, GB/s beside each run")
                .containsPattern("\\n +1 stream +70\\.0 GB/s \\(50\\.0-70\\.0\\)")
                .containsPattern("\\n +8 streams +70\\.0 GB/s \\(70\\.0-75\\.0\\) .*x 1 over steady rounds 4\\.25 \\(2 of 3; round 3 unsteady: 70\\.0 against 50\\.0 GB/s\\)")
                .containsPattern("\\n +generate +50\\.0 GB/s \\(50\\.0-70\\.0\\)");
        // generate alone before the server, read at 62 GB/s: within 15% of both levels' median (70); at 50, the x generate column is flagged
        s = new StringWriter();
        var alone = new BenchGenerateCommand.Decoding(0.01, 100, 100, 100, new int[0], 6, new double[]{100}, new double[]{62});
        report(false, s).print(alone, 1, 0, null, null);
        assertThat(s.toString()).doesNotContain("x generate alone: unsteady").containsPattern("generate alone before the server +62\\.0 GB/s");
        alone = new BenchGenerateCommand.Decoding(0.01, 100, 100, 100, new int[0], 6, new double[]{100}, new double[]{50});
        s = new StringWriter();
        report(false, s).print(alone, 1, 0, null, null);
        assertThat(s.toString()).containsPattern("\\n +8 streams .*  x generate alone: unsteady: read 70\\.0 against generate alone's 50\\.0 GB/s\\n");
    }
}
