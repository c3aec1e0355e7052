package dev.myllm.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sequence classifier as Hugging Face lays out {@code GPT2ForSequenceClassification}: a model
 * directory whose {@code config.json} has {@code architectures: ["GPT2ForSequenceClassification"]},
 * {@code num_labels}, {@code id2label}, {@code label2id} and {@code pad_token_id}, and whose
 * {@code model.safetensors} holds the GPT-2 body under the {@code transformer.} prefix (read with
 * or without it) plus the head {@code score.weight} {@code (classes, C)} and, with our optional
 * head bias, {@code score.bias}. Our extras: {@code myllm_token_rule} and {@code myllm_max_length}.
 */
public final class ClassifierDirectory {
    /** The Hugging Face architecture name. */
    public static final String ARCHITECTURE = "GPT2ForSequenceClassification";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassifierDirectory() {
    }

    /** What the head means: label names by class id, the pad id, the position rule, and the padded length it was trained at (0 = unknown). */
    public record Head(List<String> labels, int padId, String tokenRule, int maxLength) {
        public Head {
            labels = List.copyOf(labels);
        }
    }

    /** A loaded classifier: the GPT body (no vocabulary head), the head's weight and bias (or null), and its meaning. */
    public record Loaded(GPTModel body, Tensor scoreWeight, Tensor scoreBias, Head head) {
    }

    /** What a classifier directory holds without its weights: the body's shape, the head's meaning, and whether the head has a bias. */
    public record Summary(GPTConfig config, Head head, boolean scoreBias) {
        /** Parameters of the body and the head (a LoRA adapter beside them not counted). */
        public long parameterCount() {
            return config.parameterCount() + headParameterCount();
        }

        /** The head's parameters: a (classes, C) weight, plus a bias of classes when it has one. */
        public long headParameterCount() {
            long classes = head.labels().size();
            return classes * config.embDim() + (scoreBias ? classes : 0);
        }
    }

    /** {@code dir}'s config.json, once it names a classifier; a missing or empty directory is said to be one, not "a language model". */
    private static Path requireClassifier(Path dir) {
        Path cfgFile = dir.resolve(ModelDirectory.CONFIG);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + (Files.exists(dir) ? ": is a file, not a classifier directory" : ": no such classifier directory"));
        }
        String odd = dev.myllm.util.IoErrors.inPlaceOfFile(cfgFile); // a directory or a link loop is there, not nothing
        if (odd != null) throw new IllegalArgumentException(cfgFile + ": " + odd);
        if (!Files.isRegularFile(cfgFile)) throw new IllegalArgumentException(dir + ": no config.json (not a classifier directory)");
        if (!isClassifier(dir)) {
            throw new IllegalArgumentException(dir + ": is a language model, not a classifier (config.json does not name " + ARCHITECTURE + ")");
        }
        return cfgFile;
    }

    /** Reads {@code config.json} and the weights file's header only; every problem is one {@link IllegalArgumentException} naming the file. */
    public static Summary summary(Path dir) {
        Path cfgFile = requireClassifier(dir);
        GPTConfig config = Gpt2Config.read(cfgFile).withTiedHead(true);
        try (Safetensors st = Safetensors.open(ModelDirectory.weightsFile(dir))) {
            Head head = readHead(cfgFile, scoreRows(st, config));
            return new Summary(config, head, st.contains("score.bias"));
        }
    }

    /** Whether {@code dir/config.json} names the classifier architecture. */
    public static boolean isClassifier(Path dir) {
        Path f = dir.resolve(ModelDirectory.CONFIG);
        if (!Files.isRegularFile(f)) return false;
        try {
            JsonNode a = JSON.readTree(f.toFile()).path("architectures");
            for (JsonNode n : a) if (ARCHITECTURE.equals(n.asText())) return true;
            return false;
        } catch (IOException e) {
            return false; // the model reader reports a broken config.json properly
        }
    }

    /**
     * Writes the classifier's two files into {@code dir}, weights first and {@code config.json} last: a directory that
     * its caller makes whole before renaming it into place ({@link AtomicFiles#writeDirectory}). {@code body} must
     * have no separate vocabulary head.
     */
    public static void save(GPTModel body, Tensor scoreWeight, Tensor scoreBias, Head head, Path dir) {
        if (!body.config().tiedHead()) throw new IllegalArgumentException("a classifier body has no vocabulary head");
        TreeMap<String, SafetensorsWriter.Entry> sorted = new TreeMap<>(); // Python safetensors' order
        ModelDirectory.hubTensors(body, Tensor::data).forEach((k, v) -> sorted.put(Gpt2Layout.PREFIX + k, v));
        sorted.put("score.weight", SafetensorsWriter.Entry.of(scoreWeight));
        if (scoreBias != null) sorted.put("score.bias", SafetensorsWriter.Entry.of(scoreBias));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("architectures", new String[]{ARCHITECTURE});
        Map<String, String> id2label = new LinkedHashMap<>();
        Map<String, Integer> label2id = new LinkedHashMap<>();
        for (int i = 0; i < head.labels().size(); i++) {
            id2label.put(Integer.toString(i), head.labels().get(i));
            label2id.put(head.labels().get(i), i);
        }
        extra.put("num_labels", head.labels().size());
        extra.put("id2label", id2label);
        extra.put("label2id", label2id);
        extra.put("pad_token_id", head.padId());
        extra.put("myllm_token_rule", head.tokenRule());
        if (head.maxLength() > 0) extra.put("myllm_max_length", head.maxLength());
        String config = Gpt2Config.write(body.config(), DType.F32, extra);
        // as ModelDirectory.save says it (createDirectories' own message is the path alone)
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": exists and is not a directory");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        SafetensorsWriter.writeEntries(dir.resolve(ModelDirectory.WEIGHTS), sorted, Map.of("format", "pt"), DType.F32);
        AtomicFiles.writeString(dir.resolve(ModelDirectory.CONFIG), config);
    }

    /** Loads a classifier directory; every problem is one {@link IllegalArgumentException} naming the file. */
    public static Loaded load(Path dir) {
        Path cfgFile = requireClassifier(dir);
        GPTConfig config = Gpt2Config.read(cfgFile);
        try (Safetensors st = Safetensors.open(ModelDirectory.weightsFile(dir))) {
            Head head = readHead(cfgFile, scoreRows(st, config));
            Gpt2Layout.Plan plan = Gpt2Layout.plan(st, config.withTiedHead(true), n -> n.startsWith("score."));
            GPTModel body = new GPTModel(config.withTiedHead(true), 0);
            ModelDirectory.fill(body, st, plan);
            Tensor w = st.load("score.weight");
            if (w.rank() != 2 || w.dim(0) != head.labels().size() || w.dim(1) != config.embDim()) {
                throw Gpt2Layout.bad(st, "tensor 'score.weight' has shape " + java.util.Arrays.toString(w.shape()) + ", expected ["
                        + head.labels().size() + ", " + config.embDim() + "]");
            }
            Tensor b = null;
            if (st.contains("score.bias")) {
                b = st.load("score.bias");
                if (b.rank() != 1 || b.dim(0) != head.labels().size()) throw Gpt2Layout.bad(st, "tensor 'score.bias' has the wrong shape");
            }
            for (String n : st.names()) {
                if (n.startsWith("score.") && !n.equals("score.weight") && !n.equals("score.bias")) throw Gpt2Layout.bad(st, "unexpected tensor '" + n + "'");
            }
            return new Loaded(body, w, b, head);
        }
    }

    /** The rows of {@code score.weight} (one per class), read from the header: a (classes, C) matrix or an error naming the weights file. */
    private static long scoreRows(Safetensors st, GPTConfig config) {
        if (!st.contains("score.weight")) throw Gpt2Layout.bad(st, "missing tensor 'score.weight'");
        long[] shape = st.info("score.weight").shape();
        if (shape.length != 2 || shape[1] != config.embDim()) {
            throw Gpt2Layout.bad(st, "tensor 'score.weight' has shape " + java.util.Arrays.toString(shape) + ", expected [classes, " + config.embDim() + "]");
        }
        return shape[0];
    }

    /**
     * The head's meaning from {@code file}; {@code classes} is the number of rows of the weights' head, which bounds
     * num_labels before a name is made for each (a mistyped two billion would take minutes, then all memory).
     */
    private static Head readHead(Path file, long classes) {
        JsonNode root = JsonFiles.read(file);
        JsonNode id2label = root.path("id2label");
        if (!id2label.isMissingNode() && !id2label.isObject()) {
            throw new IllegalArgumentException(file + ": 'id2label' must be an object of label names by class id, got " + clip(id2label));
        }
        JsonNode num = root.path("num_labels");
        if (!num.isMissingNode() && !(num.canConvertToExactIntegral() && num.canConvertToInt())) {
            throw new IllegalArgumentException(file + ": 'num_labels' must be an integer, got " + clip(num));
        }
        int n = root.has("num_labels") ? num.asInt() : id2label.size();
        if (root.has("num_labels") && !id2label.isMissingNode() && n != id2label.size()) {
            throw new IllegalArgumentException(file + ": 'num_labels' is " + n + " but 'id2label' names " + id2label.size() + " labels");
        }
        if (n < 2) throw new IllegalArgumentException(file + ": a classifier needs at least 2 labels, num_labels is " + n);
        if (n != classes) {
            String said = root.has("num_labels") ? "'num_labels' is " + n : "'id2label' names " + n + " labels";
            throw new IllegalArgumentException(file + ": " + said + " but score.weight in " + ModelDirectory.WEIGHTS + " has " + classes + " rows, one per class");
        }
        for (int i = 0; i < n && !id2label.isMissingNode(); i++) {
            if (!id2label.has(Integer.toString(i))) {
                throw new IllegalArgumentException(file + ": 'id2label' has no label for class " + i + " (its keys must be the class ids 0 to " + (n - 1) + ")");
            }
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            JsonNode l = id2label.get(Integer.toString(i));
            labels.add(l == null ? "LABEL_" + i : l.asText()); // transformers' default names
        }
        JsonNode pad = root.get("pad_token_id");
        if (pad == null || !pad.canConvertToInt()) throw new IllegalArgumentException(file + ": a classifier needs an integer pad_token_id");
        return new Head(labels, pad.asInt(), root.path("myllm_token_rule").asText("flexible"), root.path("myllm_max_length").asInt(0));
    }

    private static String clip(JsonNode n) {
        String s = n.toString();
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
