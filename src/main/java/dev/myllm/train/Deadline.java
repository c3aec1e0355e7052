package dev.myllm.train;

/**
 * A time budget's end as a {@code System.nanoTime()} value, counted from when training starts: what a run's minutes
 * ({@code --minutes}, {@code TuningRun.minutes}) give the {@link Trainer}, which stops there with a checkpoint.
 */
public final class Deadline {
    /** No deadline. */
    public static final long NONE = Long.MAX_VALUE;

    private final long end;

    private Deadline(long end) {
        this.end = end;
    }

    /**
     * The budget from now; {@code minutes} 0 is none, and so is one of centuries (its end would not fit a nanoTime value).
     *
     * @param minutes the budget in minutes, {@code >= 0} (the caller checks it, naming its setting)
     * @return the deadline
     */
    public static Deadline startingNow(double minutes) {
        double nanos = minutes * 60e9;
        return new Deadline(minutes > 0 && nanos < 1e18 ? System.nanoTime() + (long) nanos : NONE);
    }

    /**
     * The {@code System.nanoTime()} value it ends at.
     *
     * @return the end, {@link #NONE} for none
     */
    public long end() {
        return end;
    }

    /**
     * The earlier of this deadline and {@code other}.
     *
     * @param other another end ({@link #NONE}: none)
     * @return the earlier end
     */
    public long earliest(long other) {
        if (end == NONE) return other;
        if (other == NONE) return end;
        return end - other < 0 ? end : other; // nanoTime values compare by their difference
    }

    /**
     * Has {@code t} stop at this deadline, or at {@code other} if that comes first.
     *
     * @param t     the trainer
     * @param other another end ({@link #NONE}: none)
     * @return the trainer
     */
    public Trainer applyTo(Trainer t, long other) {
        long stop = earliest(other);
        if (stop != NONE) t.stopAt(stop);
        return t;
    }

    /**
     * Whether the budget has run out (never, without one).
     *
     * @return true once the end has passed
     */
    public boolean passed() {
        return end != NONE && System.nanoTime() - end >= 0;
    }
}
