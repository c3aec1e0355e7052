package dev.myllm;

import dev.myllm.train.Checkpoints;
import dev.myllm.train.Deadline;
import dev.myllm.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A library fine-tuning run's directory, as {@code myllm finetune ...} treats its {@code --out} and {@code --resume}: a new
 * run refuses a directory that holds one; {@link TuningRun#resume()} continues the latest checkpoint of a run the same
 * command (or its Java entry) made. The trainer then gets the command's saved options, the time budget and the
 * checkpoint's state.
 */
final class LibraryRun {
    private final Path out;
    private final Path checkpoint;
    private final long resumedStep;
    private final Object savedOptions;
    private final double minutes;

    private LibraryRun(Path out, Path checkpoint, long resumedStep, Object savedOptions, double minutes) {
        this.out = out;
        this.checkpoint = checkpoint;
        this.resumedStep = resumedStep;
        this.savedOptions = savedOptions;
        this.minutes = minutes;
    }

    /**
     * Checks {@code out} for {@code run}: a run to resume there, made by {@code command} ("finetune instruct"), or none.
     */
    static LibraryRun open(Path out, TuningRun run, String command) {
        return open(out, run.resume(), run.minutes(), command);
    }

    /**
     * Checks {@code out}: with {@code resume}, a run there made by {@code command} ("train", "finetune instruct"), else
     * none; {@code minutes} of training time (0: no limit) count from {@link #start}.
     */
    static LibraryRun open(Path out, boolean resume, double minutes, String command) {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("out: " + out + " exists and is not a directory");
        boolean holdsRun = Files.isRegularFile(out.resolve(Checkpoints.LATEST));
        if (!resume) {
            // a second run there would mix its checkpoints, model and metrics with the first's
            if (holdsRun) throw new IllegalArgumentException("out: " + out + " already holds a run; give another directory");
            return new LibraryRun(out, null, 0, null, minutes);
        }
        if (!holdsRun) throw new IllegalArgumentException("out: " + out + " holds no run to resume; train without withResume() to start one");
        Path checkpoint = Checkpoints.resolve(out);
        Map<String, Object> state = Checkpoints.readState(checkpoint);
        if (state.get("options") instanceof Map<?, ?> saved && saved.get("command") != null && !command.equals(saved.get("command"))) {
            Object theirs = saved.get("command");
            throw new IllegalArgumentException("resume: the run in " + out + " was made by myllm " + theirs + (ENTRIES.containsKey(theirs)
                    ? " (" + ENTRIES.get(theirs) + ")" : "") + "; continue it there, or give another out");
        }
        return new LibraryRun(out, checkpoint, ((Number) state.get("step")).longValue(), state.get("options"), minutes);
    }

    /** The Java entry of each command whose runs a program can start. */
    private static final Map<Object, String> ENTRIES = Map.of("train", "Myllm.train", "finetune classify", "TextClassifier.finetune",
            "finetune instruct", "Myllm.finetuneInstructions", "finetune dpo", "Myllm.finetunePreferences");

    /** Whether the run continues one. */
    boolean resumed() {
        return checkpoint != null;
    }

    /** The resumed checkpoint, or null for a new run. */
    Path checkpoint() {
        return checkpoint;
    }

    /** The options the resumed checkpoint saved (a map, or null: a new run, or a checkpoint from before they were saved). */
    Object savedOptions() {
        return savedOptions;
    }

    /** The step the run goes on from (0 for a new run): the metrics log keeps the lines up to it. */
    long resumedStep() {
        return resumedStep;
    }

    /**
     * A resumed run must have steps left: one at or past {@code total} has nothing to train (and would rewrite its last
     * checkpoint and model).
     */
    void requireStepsLeft(long total) {
        requireStepsLeft(total, " (withSteps, or more epochs)");
    }

    /** The same, {@code how} saying how to give more steps (" (withSteps, or more epochs)"; "" when steps are the length). */
    void requireStepsLeft(long total, String how) {
        if (checkpoint != null && resumedStep >= total) {
            throw new IllegalArgumentException("steps: the run in " + out + " is already at step " + resumedStep + "; give more than "
                    + resumedStep + " steps" + how + " to continue it");
        }
    }

    /**
     * Gives {@code t} the options a checkpoint keeps (the command's, so that {@code myllm finetune ... --resume} continues
     * the run), the time budget, counted from now, and the resumed checkpoint's state.
     */
    Trainer start(Trainer t, Map<String, Object> options) {
        t.commandOptions(options);
        Deadline.startingNow(minutes).applyTo(t, Deadline.NONE);
        if (checkpoint != null) t.resume(checkpoint);
        return t;
    }
}
