package dev.myllm.cli;

import dev.myllm.train.Trainer;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress on one stderr line, redrawn in place: step, loss, validation loss, learning
 * rate, tokens/s and time left. Without a terminal it prints a plain line every {@code every} steps.
 */
final class ProgressLine implements Trainer.Listener {
    private final PrintStream err;
    private final boolean tty;
    private final int every;
    private final long startNanos = System.nanoTime();
    private long firstStep = -1;
    private long firstTokens;
    private double lastVal = Double.NaN;
    private long deadline = dev.myllm.train.Deadline.NONE;

    ProgressLine(PrintStream err, int every) {
        this.err = err;
        this.tty = System.console() != null;
        this.every = Math.max(1, every);
    }

    /** Caps the time left at the run's budget, which ends at {@code deadlineNanos} ({@link dev.myllm.train.Deadline#NONE}: none). */
    void until(long deadlineNanos) {
        this.deadline = deadlineNanos;
    }

    /**
     * Seconds left: {@code elapsed} seconds for {@code done} steps extrapolated over {@code remaining}, but no more than
     * {@code budgetLeft}, since the run stops there (the first steps, with JIT warm-up and an evaluation, overstate it).
     */
    static double timeLeft(double elapsed, long done, long remaining, double budgetLeft) {
        return Math.max(0, Math.min(elapsed / Math.max(1, done) * remaining, budgetLeft));
    }

    @Override
    public void onStep(Trainer.StepReport r) {
        if (firstStep < 0) {
            firstStep = r.step() - 1;
            firstTokens = r.tokens() - (r.tokens() / Math.max(1, r.step()));
        }
        if (!Double.isNaN(r.valLoss())) lastVal = r.valLoss();
        double secs = (System.nanoTime() - startNanos) / 1e9;
        long done = r.step() - firstStep;
        double tokPerSec = (r.tokens() - firstTokens) / Math.max(1e-9, secs);
        double budgetLeft = deadline == dev.myllm.train.Deadline.NONE ? Double.POSITIVE_INFINITY : (deadline - System.nanoTime()) / 1e9;
        double left = timeLeft(secs, done, r.totalSteps() - r.step(), budgetLeft);
        int width = 20, filled = (int) (width * r.step() / Math.max(1, r.totalSteps()));
        String line = String.format(Locale.ROOT, "[%s%s] step %d/%d  loss %.3f  val %s  lr %.2e  %,.0f tok/s  %s left",
                "#".repeat(filled), ".".repeat(width - filled), r.step(), r.totalSteps(), r.loss(),
                Double.isNaN(lastVal) ? "-" : String.format(Locale.ROOT, "%.3f", lastVal), r.lr(), tokPerSec, clock(left));
        if (tty) {
            err.print("\r" + line + "\u001b[K");
            if (r.step() == r.totalSteps()) err.println();
        } else if (r.step() % every == 0 || r.step() == r.totalSteps() || !Double.isNaN(r.valLoss())) {
            err.println(line);
        }
        err.flush();
    }

    @Override
    public void onSample(long step, String text) {
        if (tty) err.println();
        err.println("sample at step " + step + ": " + text.replace('\n', ' '));
    }

    @Override
    public void onCheckpoint(java.nio.file.Path dir) {
        if (!tty) err.println("checkpoint: " + dir);
    }

    /** A listener that gives each event to this line first, then to {@code command}'s own listener (its report, what an interrupt saved). */
    Trainer.Listener andThen(Trainer.Listener command) {
        ProgressLine line = this;
        return new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                line.onStep(r);
                command.onStep(r);
            }

            @Override
            public void onSample(long step, String text) {
                line.onSample(step, text);
                command.onSample(step, text);
            }

            @Override
            public void onCheckpoint(java.nio.file.Path dir) {
                line.onCheckpoint(dir);
                command.onCheckpoint(dir);
            }

            @Override
            public void onInterrupted(java.nio.file.Path last, long step) {
                command.onInterrupted(last, step); // the line has nothing to say
            }
        };
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
