package dev.myllm.train;

/** A learning rate for each optimizer step (step 0 is the first update). */
public sealed interface LrSchedule permits LrSchedule.Constant, LrSchedule.WarmupCosine {
    /** The learning rate of step {@code step}, counting from 0. */
    double lr(long step);

    /** A short description for logs and {@code trainer_state.json}. */
    String describe();

    /**
     * The schedule of a pretraining run of {@code totalSteps} steps, as {@code myllm train} and {@code Myllm.train} lay it
     * out: a constant {@code lr} when neither {@code minLr} nor {@code warmupSteps} is given (negative), else a warmup
     * (capped below the last step) and cosine decay over {@code totalSteps}, from and down to {@code minLr} ({@code lr / 10}
     * when not given). A resumed run that raises its length lays the cosine out again over the new total, so from the step
     * it resumes at it follows neither the first run's schedule nor that of a run planned that long from the start.
     */
    static LrSchedule forRun(double lr, double minLr, long warmupSteps, long totalSteps) {
        if (warmupSteps < 0 && minLr < 0) return new Constant(lr);
        double floor = minLr >= 0 ? minLr : lr / 10;
        return new WarmupCosine(lr, floor, floor, Math.max(0, Math.min(warmupSteps, totalSteps - 1)), totalSteps);
    }

    /** The same rate at every step. */
    record Constant(double lr) implements LrSchedule {
        public Constant {
            if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        }

        @Override
        public double lr(long step) {
            return lr;
        }

        @Override
        public String describe() {
            return "constant(" + lr + ")";
        }
    }

    /**
     * Appendix D's schedule: linear warmup from {@code initialLr} to {@code peakLr} over
     * {@code warmupSteps}, then half a cosine from {@code peakLr} down to {@code minLr} at the
     * last of {@code totalSteps} steps.
     */
    record WarmupCosine(double peakLr, double initialLr, double minLr, long warmupSteps, long totalSteps)
            implements LrSchedule {
        public WarmupCosine {
            if (!(peakLr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + peakLr);
            if (initialLr < 0 || minLr < 0) throw new IllegalArgumentException("initial and minimum learning rates must be >= 0");
            if (warmupSteps < 0) throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
            if (totalSteps <= warmupSteps) {
                throw new IllegalArgumentException("total steps (" + totalSteps + ") must exceed warmup steps (" + warmupSteps + ")");
            }
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) return initialLr + step * ((peakLr - initialLr) / warmupSteps);
            // The book divides by (total - warmup), so the last step stops just short of minLr.
            double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
            return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
        }

        @Override
        public String describe() {
            return "warmup_cosine(peak=" + peakLr + ", initial=" + initialLr + ", min=" + minLr
                    + ", warmup=" + warmupSteps + ", total=" + totalSteps + ")";
        }
    }
}
