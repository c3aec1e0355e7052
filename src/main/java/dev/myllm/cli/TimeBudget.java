package dev.myllm.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A training command's {@code --minutes}: the deadline it gives the trainer, counted from when
 * training starts, and the line that says where a run it cut short stopped and how to continue.
 */
final class TimeBudget {
    private final double minutes;
    private final long end;

    private TimeBudget(double minutes, long end) {
        this.minutes = minutes;
        this.end = end;
    }

    /** Checks a typed {@code --minutes}: a number of minutes, 0 for no limit. */
    static void check(double minutes) {
        if (!(minutes >= 0)) throw new CliException("--minutes must be >= 0, got " + minutes);
    }

    /** The budget from now; {@code minutes} 0 is none, and so is one of centuries (its end would not fit a nanoTime value). */
    static TimeBudget startingNow(double minutes) {
        double nanos = minutes * 60e9;
        return new TimeBudget(minutes, minutes > 0 && nanos < 1e18 ? System.nanoTime() + (long) nanos : Long.MAX_VALUE);
    }

    /** The {@code System.nanoTime()} value it ends at, {@code Long.MAX_VALUE} for none. */
    long deadline() {
        return end;
    }

    /** The earlier of this deadline and {@code other} ({@code Long.MAX_VALUE} for none). */
    long earliest(long other) {
        if (end == Long.MAX_VALUE) return other;
        if (other == Long.MAX_VALUE) return end;
        return end - other < 0 ? end : other; // nanoTime values compare by their difference
    }

    /**
     * After a run: when it ended before its last step because the budget ran out, the line that
     * says so with the command that continues it ({@code myllm train --resume OUT}); else null.
     */
    String stopLine(CommandSpec spec, long step, long total, Path out) {
        if (end == Long.MAX_VALUE || System.nanoTime() - end < 0) return null;
        return ResumePoint.stoppedLine(spec, step, total, "--minutes " + minutes + " used up", out);
    }
}
