package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.train.Deadline;
import dev.myllm.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The progress line's time left: extrapolated from the steps so far, but never past the run's time budget. */
class ProgressLineTest {
    private static final Pattern LEFT = Pattern.compile("(\\d+):(\\d\\d) left");

    @Test
    void timeLeftNeverExceedsTheBudgetLeft() throws Exception {
        // step 1 of a demo (JIT warm-up and an evaluation in it) extrapolated to "10:29 left" in a 2-minute run
        assertThat(secondsLeft(System.nanoTime() + 60_000_000_000L)).isBetween(55L, 60L);
        assertThat(secondsLeft(Deadline.NONE)).isGreaterThan(600L); // no budget: the extrapolation as it is
        assertThat(secondsLeft(System.nanoTime() - 1_000_000_000L)).isZero(); // a passed deadline: nothing left, not negative
        assertThat(ProgressLine.timeLeft(10, 1, 99, 30)).isEqualTo(30);
        assertThat(ProgressLine.timeLeft(10, 1, 2, 30)).isEqualTo(20);
        assertThat(ProgressLine.timeLeft(10, 1, 2, Double.POSITIVE_INFINITY)).isEqualTo(20);
    }

    /** The seconds left the line prints at step 1 of 100,000 taken 20 ms, with the budget ending at {@code deadline}. */
    private static long secondsLeft(long deadline) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressLine line = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), 1);
        line.until(deadline);
        Thread.sleep(20);
        line.onStep(new Trainer.StepReport(1, 100_000, 0, 5.0, 1e-4, 256, 20, Double.NaN, Double.NaN, 1.0, Map.of()));
        String out = bytes.toString(StandardCharsets.UTF_8);
        Matcher m = LEFT.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1)) * 60 + Long.parseLong(m.group(2));
    }
}
