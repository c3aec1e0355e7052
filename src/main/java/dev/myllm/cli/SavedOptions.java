package dev.myllm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A command's options as a JSON-friendly map (for {@code trainer_state.json}) and back: on
 * {@code --resume} the saved values fill every option not given again on the command line.
 */
final class SavedOptions {
    // --out is where the run lives: a resumed run continues in the directory it resumes from
    private static final Set<String> SKIP = Set.of("--help", "--version", "--resume", "--out");

    private SavedOptions() {
    }

    /** The key that names the command which wrote the options (no option is called --command). */
    static final String COMMAND = "command";
    /** The key that keeps the directory the run was started from, against which its relative paths were typed. */
    static final String WORKING_DIRECTORY = "working_directory";

    static Map<String, Object> collect(CommandLine.Model.CommandSpec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(COMMAND, commandName(spec));
        out.put(WORKING_DIRECTORY, Path.of("").toAbsolutePath().toString());
        for (OptionSpec o : spec.options()) {
            if (SKIP.contains(o.longestName()) || o.hidden()) continue; // hidden: old spellings of visible options
            Object v = o.getValue();
            if (v instanceof Path p) v = p.toString();
            if (v instanceof List<?> l) v = l.stream().map(Object::toString).toList();
            out.put(o.longestName().replaceFirst("^--", ""), v);
        }
        return out;
    }

    /** "train", "finetune dpo", ...: the command under {@code myllm} (the demo's own train is "train" too). */
    static String commandName(CommandLine.Model.CommandSpec spec) {
        List<String> parts = new ArrayList<>();
        for (CommandLine.Model.CommandSpec s = spec; s != null && s.parent() != null; s = s.parent()) parts.add(0, s.name());
        if (parts.isEmpty()) parts.add(spec.name());
        return String.join(" ", parts);
    }

    /**
     * Refuses a checkpoint another command wrote: it names the command where the options say, else (checkpoints
     * from before they did) an option of another command gives it away. Resumed by the wrong command, a run was
     * continued with the wrong objective and its directory overwritten.
     */
    static void checkCommand(CommandLine.Model.CommandSpec spec, java.nio.file.Path dir, Object saved) {
        if (!(saved instanceof Map<?, ?> map)) return;
        String mine = commandName(spec);
        Object theirs = map.get(COMMAND);
        if (theirs != null && !theirs.toString().equals(mine)) {
            throw new CliException("--resume " + dir + ": that run was made by myllm " + theirs + "; continue it with myllm " + theirs
                    + " --resume " + dir);
        }
        if (theirs != null) return;
        Set<String> known = new java.util.HashSet<>();
        for (OptionSpec o : spec.options()) known.add(o.longestName().replaceFirst("^--", ""));
        for (Object key : map.keySet()) {
            if (!known.contains(key.toString())) {
                throw new CliException("--resume " + dir + ": that run was made by another command (it has --" + key + ", which myllm " + mine
                        + " does not take); continue it with the command that made it");
            }
        }
    }

    /**
     * Refuses a {@code fixed} option given again with another value than the run's: a resumed run keeps its weights'
     * shapes and what trains, and a changed one failed later on a missing tensor or optimizer entry, or (LoRA) on an
     * option the user had not typed.
     */
    static void checkUnchanged(CommandLine.Model.CommandSpec spec, Path dir, Object saved, Set<String> fixed) {
        if (!(saved instanceof Map<?, ?> map) || fixed.isEmpty()) return;
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        for (OptionSpec o : spec.options()) {
            String key = o.longestName().replaceFirst("^--", "");
            if (!fixed.contains(key) || given == null || !given.hasMatchedOption(o)) continue;
            if (!map.containsKey(key)) continue; // a checkpoint from before the option existed
            Object saved0 = map.get(key);
            // 0 or -1 saved: the preset or model decided the shape, whose value is not known here (a different one fails
            // on the checkpoint's tensors); null is a run made without the option, which a typed value changes (a LoRA
            // alpha changes no shape and would train on silently with another scale)
            if (saved0 instanceof Number n && n.doubleValue() <= 0) continue;
            Object was = convert(rebase(saved0, map), o.type(), key), now = o.getValue();
            if (was instanceof Path p) was = p.toAbsolutePath().normalize();
            if (now instanceof Path p) now = p.toAbsolutePath().normalize();
            if (java.util.Objects.equals(was, now)) continue;
            throw new CliException("--resume " + dir + ": the run was made " + describe(key, map.get(key)) + ", and a resumed run cannot change it ("
                    + describe(key, o.getValue()).replaceFirst("^with ", "") + " needs a new run with another --out)");
        }
    }

    private static String describe(String key, Object value) {
        if (value == null || Boolean.FALSE.equals(value)) return "without --" + key;
        if (Boolean.TRUE.equals(value)) return "with --" + key;
        return "with --" + key + " " + value;
    }

    static void apply(CommandLine.Model.CommandSpec spec, Object saved) {
        if (!(saved instanceof Map<?, ?> map)) return;
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        // a length typed again replaces the run's: --steps overrides --epochs, so a saved --steps restored beside a
        // typed --epochs ignored it (and the run said "nothing to train ... give a larger --steps or --epochs")
        boolean epochsTyped = given != null && spec.findOption("--epochs") != null && given.hasMatchedOption("--epochs");
        for (OptionSpec o : spec.options()) {
            if (SKIP.contains(o.longestName()) || o.hidden() || (given != null && given.hasMatchedOption(o))) continue;
            if (epochsTyped && o.longestName().equals("--steps")) continue;
            String key = o.longestName().replaceFirst("^--", "");
            if (!map.containsKey(key)) continue;
            o.setValue(convert(rebase(map.get(key), map), o.type(), key));
        }
    }

    /**
     * A saved value as the run meant it: a relative path (a model, data, a tokenizer file; typed as a path or
     * as a name-or-path string) that names nothing from here but did from the directory the run was started in
     * is taken from there, so {@code --resume} works from any directory. Names (gpt2, verdict) and paths that
     * resolve here are left as they are.
     */
    private static Object rebase(Object v, Map<?, ?> saved) {
        if (!(saved.get(WORKING_DIRECTORY) instanceof String wd)) return v;
        if (v instanceof List<?> l) return l.stream().map(x -> rebase(x, saved)).toList();
        if (!(v instanceof String s) || s.isEmpty()) return v;
        try {
            Path p = Path.of(s);
            if (p.isAbsolute() || java.nio.file.Files.exists(p)) return v;
            Path there = Path.of(wd).resolve(p).normalize();
            return java.nio.file.Files.exists(there) ? there.toString() : v;
        } catch (java.nio.file.InvalidPathException e) {
            return v; // a glob or a name, not a path
        }
    }

    private static Object convert(Object v, Class<?> type, String key) {
        if (v == null) return null;
        if (type == int.class || type == Integer.class) return ((Number) v).intValue();
        if (type == long.class || type == Long.class) return ((Number) v).longValue();
        if (type == double.class || type == Double.class) return ((Number) v).doubleValue();
        if (type == float.class || type == Float.class) return ((Number) v).floatValue();
        if (type == boolean.class || type == Boolean.class) return v;
        if (type == Path.class) return Path.of(v.toString());
        if (type == String.class) return v.toString();
        if (List.class.isAssignableFrom(type) && v instanceof List<?> l) return new ArrayList<>(l.stream().map(Object::toString).toList());
        throw new CliException("cannot restore option --" + key + " from the checkpoint");
    }
}
