package dev.myllm;

import dev.myllm.model.GPTConfig;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link TrainingOptions#withResume()} checks against the options a run saved (by {@code myllm train} or by the
 * library): the run is a pretraining run, and every setting that changes the weights is the run's own. A resumed run
 * given another batch size, rate or seed trained on silently as a different run; it is refused naming the setting.
 */
final class TrainingResume {
    private TrainingResume() {
    }

    /**
     * Refuses a run another command made from before checkpoints named their command, as {@code myllm train --resume}
     * does ({@link LibraryRun} refuses the runs whose options name another command).
     */
    static void requireTrainRun(TrainingOptions o, Object saved) {
        if (!(saved instanceof Map<?, ?> map) || map.isEmpty()) return; // a library run from before it saved options
        if (map.get(TrainingRunOptions.COMMAND) != null) return;
        // checkpoints from before the options named their command: an option train does not take gives another command away
        var known = TrainingRunOptions.of(o).keySet();
        for (Object key : map.keySet()) {
            if (!known.contains(key.toString())) {
                throw new IllegalArgumentException("resume: the run in " + o.out() + " was made by another command (it has --" + key
                        + ", which myllm train does not take); continue it with the command that made it");
            }
        }
    }

    /**
     * Refuses a setting that changes the weights and differs from the run's: those the library has are named as the
     * library spells them; those it cannot give (a run started with {@code --decay all}, say) send the caller to the
     * command. {@code model} is the resumed model's shape and {@code ctx} the training context the options give.
     */
    static void requireSameSettings(TrainingOptions o, Object saved, GPTConfig model, int ctx) {
        if (!(saved instanceof Map<?, ?> map) || map.isEmpty()) return;
        cannotGive(o, map, ctx);
        Object preset = map.get("preset");
        if (map.containsKey("preset") && !Objects.equals(preset, o.preset())) {
            if (preset == null) fail(o, "was made from init " + map.get("init") + ", the options give preset " + o.preset(), "init");
            if (o.preset() == null) fail(o, "was made with preset " + preset + ", the options give init " + o.init(), "preset");
            fail(o, "was made with preset " + preset + ", the options give " + o.preset(), "preset");
        }
        same(o, map, "batch-size", "batchSize", o.batchSize());
        if (map.get("context-length") instanceof Number n) {
            long theirs = n.longValue() > 0 ? n.longValue() : Math.min(model.contextLength(), 256); // 0: the model's, at most 256
            if (theirs != ctx) fail(o, "was made with contextLength " + theirs + ", the options give " + ctx, "contextLength");
        }
        same(o, map, "lr", "lr", o.lr());
        if (map.get("warmup-steps") instanceof Number n) {
            long theirs = Math.max(0, n.longValue()); // the command's -1 (not given) is the library's 0: a constant rate
            if (theirs != o.warmupSteps()) fail(o, "was made with warmupSteps " + theirs + ", the options give " + o.warmupSteps(), "warmupSteps");
        }
        same(o, map, "weight-decay", "weightDecay", o.weightDecay());
        same(o, map, "grad-clip", "gradClip", o.gradClip());
        same(o, map, "val-fraction", "valFraction", o.valFraction());
        same(o, map, "seed", "seed", o.seed());
    }

    /** The command's settings the library has no way to give, each as the command line would spell the run's value. */
    private static void cannotGive(TrainingOptions o, Map<?, ?> map, int ctx) {
        for (String key : List.of("n-layer", "n-embd", "n-head")) {
            if (map.get(key) instanceof Number n && n.longValue() > 0) sendToCommand(o, "--" + key + " " + n);
        }
        Object preset = map.get("preset");
        if (preset != null) {
            Object init = map.get("init");
            String scheme = init != null ? init.toString() : GPTConfig.isBookPreset(preset.toString()) ? "book" : "gpt2";
            if (!scheme.equals("gpt2")) sendToCommand(o, "--init " + scheme);
        }
        if (map.get("split") != null && !map.get("split").equals("tokens")) sendToCommand(o, "--split " + map.get("split"));
        if (map.get("val-data") instanceof List<?> l && !l.isEmpty()) sendToCommand(o, "--val-data " + String.join(" ", l.stream().map(Object::toString).toList()));
        if (map.get("stride") instanceof Number n && n.longValue() > 0 && n.longValue() != ctx) sendToCommand(o, "--stride " + n);
        if (map.get("min-lr") instanceof Number n && n.doubleValue() >= 0) sendToCommand(o, "--min-lr " + n);
        if (map.get("warmup-steps") instanceof Number n && n.longValue() == 0) sendToCommand(o, "--warmup-steps 0"); // a cosine without warmup
        if (map.get("decay") != null && !map.get("decay").equals("matrices")) sendToCommand(o, "--decay " + map.get("decay"));
        if (map.get("grad-accum") instanceof Number n && n.longValue() > 1) sendToCommand(o, "--grad-accum " + n);
        if (map.get("dropout") instanceof Number n && n.doubleValue() >= 0) sendToCommand(o, "--dropout " + n);
        for (String key : List.of("tie-weights", "qkv-bias")) {
            if (map.get(key) instanceof Boolean b) sendToCommand(o, b ? "--" + key : "--no-" + key);
        }
    }

    private static void same(TrainingOptions o, Map<?, ?> map, String key, String setting, long mine) {
        if (map.get(key) instanceof Number n && n.longValue() != mine) fail(o, "was made with " + setting + " " + n + ", the options give " + mine, setting);
    }

    private static void same(TrainingOptions o, Map<?, ?> map, String key, String setting, double mine) {
        if (map.get(key) instanceof Number n && n.doubleValue() != mine) fail(o, "was made with " + setting + " " + n + ", the options give " + mine, setting);
    }

    private static void fail(TrainingOptions o, String what, String setting) {
        throw new IllegalArgumentException("resume: the run in " + o.out() + " " + what + "; resume with the run's own " + setting);
    }

    private static void sendToCommand(TrainingOptions o, String option) {
        throw new IllegalArgumentException("resume: the run in " + o.out() + " was made with " + option + ", which TrainingOptions cannot give;"
                + " continue it with myllm train --resume " + o.out());
    }
}
