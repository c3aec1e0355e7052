package dev.myllm.finetune;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.train.ModelStore;
import dev.myllm.train.Trainer;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.IoErrors;
import dev.myllm.util.JsonFiles;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Preference tuning's choice of the best model instead of the last one: the model of the evaluation with the highest
 * validation reward accuracy (the latest of equals) is saved to {@code OUT/best/} when reached, with a file that says
 * its step and accuracy; {@link PreferenceTuning#finish} weighs it against the last model.
 */
public final class KeepBest {
    /** The directory of the run that holds the best model so far, and the file in it that says its step and accuracy. */
    public static final String DIR = "best", FILE = "myllm-best.json";

    /**
     * The model a run kept.
     *
     * @param last         whether it is the last model (no evaluation scored higher), else the best evaluation's
     * @param step         its step
     * @param accuracy     its validation reward accuracy
     * @param bestAccuracy the best evaluation's
     */
    public record Kept(boolean last, long step, double accuracy, double bestAccuracy) {
    }

    private final ModelStore store;
    private final Path dir;
    private final String setting;
    private final Function<String, ? extends RuntimeException> unreadable;
    private double bestAccuracy;
    private long lastStep, lastEvaluated;

    /**
     * Keeps the best model of a run in {@code out/best/}.
     *
     * @param store      saves the policy as {@code model/} is saved, and loads it back
     * @param out        the run directory
     * @param resumed    whether the run continues an earlier one, whose best it goes on from; a new run replaces whatever
     *                   an earlier one left there
     * @param setting    how the run asks for this, as {@code dpo-eval.json} names it
     * @param unreadable the exception for a best-model file that cannot be read, given its one-line message
     */
    public KeepBest(ModelStore store, Path out, boolean resumed, String setting, Function<String, ? extends RuntimeException> unreadable) {
        this.store = store;
        this.dir = out.resolve(DIR);
        this.setting = setting;
        this.unreadable = unreadable;
        Map<String, Object> best = resumed ? read() : Map.of();
        bestAccuracy = best.isEmpty() ? -1 : ((Number) best.get("val_reward_accuracy")).doubleValue();
    }

    /**
     * Sees every step: saves the model of an evaluation at least as accurate on validation as the best so far.
     *
     * @param r the step's report (its metrics are empty unless it evaluated)
     */
    public void onStep(Trainer.StepReport r) {
        lastStep = r.step();
        if (r.metrics().isEmpty()) return;
        lastEvaluated = r.step();
        double acc = r.metrics().get("val_reward_accuracy");
        if (acc >= bestAccuracy) {
            bestAccuracy = acc;
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("step", r.step());
            b.put("val_reward_accuracy", acc);
            saveDirectory(store, dir, b);
        }
    }

    /** A listener that keeps the best model, then tells {@code next} (may be null) of every event. */
    public Trainer.Listener around(Trainer.Listener next) {
        Trainer.Listener n = next != null ? next : new Trainer.Listener() {
        };
        return new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                KeepBest.this.onStep(r);
                n.onStep(r);
            }

            @Override
            public void onSample(long step, String text) {
                n.onSample(step, text);
            }

            @Override
            public void onCheckpoint(Path d) {
                n.onCheckpoint(d);
            }

            @Override
            public void onInterrupted(Path lastCheckpoint, long step) {
                n.onInterrupted(lastCheckpoint, step);
            }
        };
    }

    /** How the run asks for this. */
    String setting() {
        return setting;
    }

    long lastStep() {
        return lastStep;
    }

    long lastEvaluated() {
        return lastEvaluated;
    }

    /** Whether a best model is saved. */
    boolean saved() {
        return Files.isDirectory(dir);
    }

    /** The step and accuracy of the kept model, empty when there is none. */
    Map<String, Object> read() {
        Path f = dir.resolve(FILE);
        // only nothing there is no best file: a directory or a link loop in its place is refused, not taken for none
        String odd = IoErrors.inPlaceOfFile(f);
        if (odd != null) throw unreadable.apply(f + ": " + odd);
        if (!Files.isRegularFile(f)) return Map.of();
        com.fasterxml.jackson.databind.JsonNode n;
        try {
            n = JsonFiles.read(f); // as text first: Jackson reading the file itself adds "[Source: ...]" lines
        } catch (IllegalArgumentException e) {
            throw unreadable.apply(e.getMessage());
        }
        // the resumed run and the report read both as numbers
        if (!n.path("step").isIntegralNumber() || !n.path("val_reward_accuracy").isNumber()) {
            String got = n.toString();
            throw unreadable.apply(f + ": not the kept model's step and val_reward_accuracy (numbers), got "
                    + (got.length() > 60 ? got.substring(0, 60) + "…" : got));
        }
        return new ObjectMapper().convertValue(n, new TypeReference<Map<String, Object>>() {
        });
    }

    /** Loads the kept model into the policy and saves it as {@code model} instead of the last one. */
    void restore(Path model) {
        store.load(dir);
        saveDirectory(store, model, null);
    }

    /** Saves the model (and {@code best}, when given, beside it) into a new directory, then swaps it for {@code dst}. */
    private static void saveDirectory(ModelStore store, Path dst, Map<String, Object> best) {
        try {
            AtomicFiles.writeDirectory(dst, tmp -> {
                store.save(tmp);
                if (best != null) AtomicFiles.writeString(tmp.resolve(FILE), new ObjectMapper().writeValueAsString(best) + "\n");
            });
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot save model " + dst + ": " + IoErrors.reason(e.getCause()), e.getCause());
        }
    }
}
