package dev.myllm.cli;

import dev.myllm.train.Checkpoints;
import dev.myllm.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The checkpoint a {@code --resume DIR} names and its saved trainer state; opening it makes the
 * saved options the command's defaults (options given on the command line still win).
 */
record ResumePoint(Path checkpoint, Map<String, Object> state) {

    /**
     * Resolves {@code dir} (a checkpoint or a run directory's latest one) and applies its saved options to {@code spec};
     * the {@code fixed} options (what the saved weights and optimizer state are shaped by) may be given again only with
     * the run's own values.
     */
    static ResumePoint open(CommandSpec spec, Path dir, String... fixed) {
        if (!Files.isDirectory(dir)) throw new CliException("--resume: no such directory: " + dir);
        Path checkpoint;
        try {
            checkpoint = Checkpoints.resolve(dir);
        } catch (IllegalArgumentException e) {
            throw new CliException("--resume: " + e.getMessage());
        }
        Map<String, Object> state;
        try {
            state = Checkpoints.readState(checkpoint);
        } catch (IllegalArgumentException e) {
            throw new CliException("--resume: " + e.getMessage());
        }
        SavedOptions.checkCommand(spec, dir, state.get("options"));
        SavedOptions.checkUnchanged(spec, dir, state.get("options"), java.util.Set.of(fixed));
        SavedOptions.apply(spec, state.get("options"));
        return new ResumePoint(checkpoint, state);
    }

    /**
     * Loads {@code checkpoint} (weights, optimizer moments, generators) into {@code t}. A file of it that is missing,
     * unreadable or of another shape than the run's model (--n-layer ...) is the user's input, not a failure of the run:
     * a usage error naming --resume.
     */
    static void resume(Trainer t, Path checkpoint) {
        try {
            t.resume(checkpoint);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw new CliException("--resume: " + Errors.oneLine(e));
        }
    }

    /**
     * Refuses a shape {@code option} typed on {@code --resume dir} whose model differs from the checkpoint's ({@code same}
     * false), naming the checkpoint's value ({@code saved}, as the option is spelled: "--n-layer 2") and the one asked for: it
     * failed on a missing tensor or a tensor's shape naming no option, or (another {@code --n-head}) trained on silently.
     */
    static void requireShape(CommandSpec spec, Path dir, String option, boolean same, String saved, String asked) {
        if (same || !GivenOptions.given(spec, option)) return;
        throw new CliException("--resume " + dir + ": the checkpoint's model has " + saved + ", and a resumed run cannot change it (" + asked
                + " needs a new run with another --out)");
    }

    /**
     * Refuses to start a new run in a directory that holds one: it would replace that run's model and metrics log and
     * leave its later checkpoints beside a {@code latest} that names the new run's.
     */
    static void refuseExistingRun(Path out) {
        Path latest = out.resolve(Checkpoints.LATEST);
        if (!Files.isRegularFile(latest)) return;
        String last;
        try {
            last = Files.readString(latest).strip();
        } catch (java.io.IOException e) {
            last = "?";
        }
        throw new CliException("--out " + out + " already holds a run (latest: " + last + "); continue it with --resume " + out
                + ", or give another --out");
    }

    /**
     * A resumed run that has already reached the length asked for has nothing to train: it used to rewrite its last
     * checkpoint (with the new, shorter length in its options) and its model, and print "saved" as if it had trained.
     * Reaching exactly the length is not an error (a script may run the same command twice); asking for less is.
     */
    static void requireStepsLeft(Path dir, long reached, long total, String lengthOptions) {
        if (reached < total) return;
        if (reached == total) {
            throw new CliException("nothing to train: the run in " + dir + " has finished its " + total + " steps; give a larger "
                    + lengthOptions + " to continue it", 0);
        }
        throw new CliException("--resume " + dir + ": the run is already at step " + reached + ", past the " + total
                + " steps asked for; give a larger " + lengthOptions + " to continue it");
    }

    /**
     * The line that ends a run stopped before its last step ({@code why}: "--minutes 5.0 used up", "interrupted"): where it
     * stopped and the command that continues it ({@code myllm train --resume OUT}); null when it reached {@code total}.
     */
    static String stoppedLine(CommandSpec spec, long step, long total, String why, Path out) {
        if (step >= total) return null;
        return String.format(java.util.Locale.ROOT, "stopped at step %d of %d: %s; continue with: %s --resume %s", step, total, why,
                spec.qualifiedName(), out);
    }

    /** The step the checkpoint was saved at: where the resumed run goes on from. */
    long step() {
        return ((Number) state.get("step")).longValue();
    }

    /**
     * The run directory the checkpoint sits in, spelled as {@code --resume} was (runs/x, not /home/.../runs/x, as a new
     * run prints its --out): where a resumed run keeps writing.
     */
    Path runDirectory() {
        Path c = checkpoint.normalize(); // "runs/x/step-000002/." is in runs/x too
        if (c.getParent() != null) return c.getParent();
        // "step-000002" from inside its run: the current directory; "." from inside the checkpoint: its parent, spelled out
        boolean named = !c.toString().isEmpty() && !c.toString().equals("..");
        return named ? Path.of(".") : c.toAbsolutePath().normalize().getParent();
    }
}
