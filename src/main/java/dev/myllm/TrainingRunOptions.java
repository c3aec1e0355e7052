package dev.myllm;

import dev.myllm.model.GPTConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A library run's options as {@code myllm train} saves its own in each checkpoint (the keys are the command's long
 * option names, in its order and with its value types), so that {@code myllm train --resume DIR} continues a run a
 * program started with that run's settings rather than the command's defaults.
 */
final class TrainingRunOptions {
    /** The key naming the command that wrote the options, as the command line writes it. */
    static final String COMMAND = "command";

    /**
     * What the library does not set and that does not change the weights: on resume a command-started run keeps its own,
     * so that a later {@code myllm train --resume} samples, saves and stops as the person who started it asked.
     */
    private static final Set<String> KEPT = Set.of("epochs", "minutes", "replace-invalid", "checkpoint-activations",
            "sample-every", "sample-prompt", "checkpoint-every");

    private TrainingRunOptions() {
    }

    /**
     * A saved options map's first keys, as every command writes them: the command, and the directory the run was
     * started from, against which a later {@code --resume} from elsewhere reads the run's relative paths.
     */
    static Map<String, Object> start(String command) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(COMMAND, command);
        m.put("working_directory", java.nio.file.Path.of("").toAbsolutePath().toString());
        return m;
    }

    /**
     * The options {@code myllm train} would save for the command line equivalent to {@code o}: what the library fixes
     * (token split, stride = context, AdamW on matrices, no accumulation, the preset's dropout and head) written as the
     * command's values that give it, no samples, and checkpoints only at the end as the library saves them.
     */
    static Map<String, Object> of(TrainingOptions o) {
        Map<String, Object> m = start("train");
        m.put("data", List.copyOf(o.data()));
        m.put("preset", o.preset());
        m.put("n-layer", 0);
        m.put("n-embd", 0);
        m.put("n-head", 0);
        // a book-* preset would otherwise take the book's initialisation from the command; the library's is GPT-2's
        m.put("init", o.init() != null ? o.init().toString() : GPTConfig.isBookPreset(o.preset()) ? "gpt2" : null);
        m.put("split", "tokens");
        m.put("val-data", List.of());
        m.put("val-fraction", o.valFraction());
        m.put("replace-invalid", false);
        m.put("tokenizer", o.tokenizer());
        m.put("batch-size", o.batchSize());
        m.put("context-length", o.contextLength());
        m.put("stride", 0);
        m.put("epochs", 1);
        m.put("steps", o.steps());
        m.put("minutes", 0.0);
        m.put("lr", o.lr());
        m.put("min-lr", -1.0);
        m.put("warmup-steps", o.warmupSteps() > 0 ? o.warmupSteps() : -1L); // the library's 0 is the command's "not given": a constant rate
        m.put("weight-decay", o.weightDecay());
        m.put("decay", "matrices");
        m.put("grad-clip", o.gradClip());
        m.put("grad-accum", 1);
        m.put("checkpoint-activations", false);
        m.put("dropout", -1.0f);
        m.put("tie-weights", null);
        m.put("qkv-bias", null);
        m.put("eval-every", o.evalEvery());
        m.put("eval-batches", o.evalBatches());
        m.put("sample-every", -1);
        m.put("sample-prompt", "Every effort moves you");
        m.put("checkpoint-every", 0);
        m.put("seed", o.seed());
        m.put("log", null);
        m.put("plot", null);
        return m;
    }

    /** {@link #of}, keeping from a resumed run's {@code saved} options those the library does not set (see {@link #KEPT}). */
    static Map<String, Object> continuing(TrainingOptions o, Object saved) {
        Map<String, Object> m = of(o);
        if (saved instanceof Map<?, ?> map) {
            for (String key : KEPT) {
                if (map.containsKey(key)) m.put(key, map.get(key));
            }
        }
        return m;
    }
}
