package dev.myllm.cli;

import dev.myllm.train.Deadline;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A training command's {@code --minutes}: the {@link Deadline} it gives the trainer, counted from when training starts,
 * and the line that says where a run it cut short stopped and how to continue.
 */
final class TimeBudget {
    private final double minutes;
    private final Deadline deadline;

    private TimeBudget(double minutes, Deadline deadline) {
        this.minutes = minutes;
        this.deadline = deadline;
    }

    /** Checks a typed {@code --minutes}: a number of minutes, 0 for no limit. */
    static void check(double minutes) {
        if (!(minutes >= 0)) throw new CliException("--minutes must be >= 0, got " + minutes);
    }

    /** The budget from now; {@code minutes} 0 is none, and so is one of centuries (its end would not fit a nanoTime value). */
    static TimeBudget startingNow(double minutes) {
        return new TimeBudget(minutes, Deadline.startingNow(minutes));
    }

    /** Has {@code t} stop at this deadline, or at {@code other} if that comes first ({@code Long.MAX_VALUE}: none). */
    void applyTo(dev.myllm.train.Trainer t, long other) {
        deadline.applyTo(t, other);
    }

    /** The end of this budget or {@code other}, whichever comes first ({@code Deadline.NONE}: none). */
    long end(long other) {
        return deadline.earliest(other);
    }

    /**
     * After a run: when it ended before its last step because the budget ran out, the line that
     * says so with the command that continues it ({@code myllm train --resume OUT}); else null.
     */
    String stopLine(CommandSpec spec, long step, long total, Path out) {
        if (!deadline.passed()) return null;
        return ResumePoint.stoppedLine(spec, step, total, "--minutes " + minutes + " used up", out);
    }
}
