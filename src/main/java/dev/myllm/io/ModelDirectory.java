package dev.myllm.io;

import dev.myllm.util.IoErrors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A model directory as Hugging Face lays it out for GPT-2: {@code config.json} with
 * {@code GPT2Config} keys and {@code model.safetensors} with GPT-2's tensor names.
 *
 * <p>Conv1D weights ({@code attn.c_attn}, {@code attn.c_proj}, {@code mlp.c_fc}, {@code mlp.c_proj})
 * are stored {@code [in, out]} and transposed on load and save; a tied head is stored once, as
 * {@code wte.weight}. Loading accepts the hub's names ({@code h.0.…}) and {@code save_pretrained}'s
 * ({@code transformer.h.0.…}, with an {@code lm_head.weight} equal to {@code wte.weight} for a tied
 * model), skips the causal-mask buffers ({@code attn.bias}, {@code attn.masked_bias}) and converts
 * F16/BF16 files to float32. A model without QKV bias is saved with zero QKV biases (and
 * {@code "myllm_qkv_bias": false}) so that {@code transformers}, which always has them, computes
 * the same function.
 *
 * <p>Saving is atomic: the directory is written as a hidden sibling and renamed into place, so it
 * appears complete or not at all; an existing model directory is replaced whole ({@link #requireReplaceable}),
 * and stays as it was when the save fails. Every error is one
 * {@link IllegalArgumentException} (or {@link UncheckedIOException}) naming the file and tensor.
 */
public final class ModelDirectory {
    /** The configuration file of a model directory. */
    public static final String CONFIG = "config.json";
    /** The weights file of a model directory. */
    public static final String WEIGHTS = "model.safetensors";
    private static final Map<String, String> METADATA = Map.of("format", "pt");

    private ModelDirectory() {
    }

    /** The configuration in {@code dir/config.json}. */
    public static GPTConfig readConfig(Path dir) {
        if (ModelFiles.isModelFile(dir)) return ModelFiles.readConfig(dir);
        checkDir(dir);
        if (ClassifierDirectory.isClassifier(dir)) {
            throw new IllegalArgumentException(dir + ": is a sequence classifier (GPT2ForSequenceClassification), not a language model");
        }
        return Gpt2Config.read(dir.resolve(CONFIG));
    }

    /** The {@code config.json} text we write for a configuration stored as {@code dtype}. */
    public static String configJson(GPTConfig config, DType dtype) {
        return Gpt2Config.write(config, dtype);
    }

    /** Loads the model in {@code dir}, as its {@code config.json} describes it. */
    public static GPTModel load(Path dir) {
        return load(dir, readConfig(dir));
    }

    /**
     * Loads the weights of {@code dir} into a model of {@code config} (the directory's, perhaps with
     * overrides); a shorter context length than the directory's uses the first position embeddings.
     */
    public static GPTModel load(Path dir, GPTConfig config) {
        if (ModelFiles.isModelFile(dir)) return ModelFiles.load(dir, config);
        try (Safetensors st = Safetensors.open(weightsFile(dir))) {
            Gpt2Layout.Plan plan = Gpt2Layout.plan(st, config); // before allocating the model
            GPTModel model = GPTModel.unfilled(config); // fill() writes every weight
            fill(model, st, plan);
            return model;
        }
    }

    /**
     * Checks that {@code dir} would load (config, header, every tensor's name, shape and dtype)
     * without reading the weights; returns the configuration.
     */
    public static GPTConfig check(Path dir) {
        GPTConfig config = readConfig(dir);
        if (ModelFiles.isModelFile(dir)) return config;
        try (Safetensors st = Safetensors.open(weightsFile(dir))) {
            Gpt2Layout.plan(st, config);
        }
        return config;
    }

    /** Saves {@code model} in float32 as the directory {@code dir}; see {@link #save(GPTModel, Path, DType)}. */
    public static void save(GPTModel model, Path dir) {
        save(model, dir, DType.F32);
    }

    /**
     * Saves {@code model} as the directory {@code dir} with its weights stored as {@code dtype} (F32, F16 or BF16):
     * created, or replaced whole when it holds only a model's files ({@link #requireReplaceable}).
     */
    public static void save(GPTModel model, Path dir, DType dtype) {
        checkDtype(dir, dtype);
        requireReplaceable(dir);
        AtomicFiles.writeDirectory(dir, tmp -> writeInto(model, tmp, dtype));
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} into {@code dir}, a directory being made whole before
     * it is renamed into place (a checkpoint, an export with more files beside them).
     */
    public static void writeInto(GPTModel model, Path dir, DType dtype) {
        writeInto(model, dir, dtype, Gpt2Config.gpt2EndOfText(model.config()));
    }

    /**
     * The same for a model whose tokenizer's {@code <|endoftext|>} is {@code endOfText} (-1: it has none), which
     * {@code config.json} names as {@code bos_token_id} and {@code eos_token_id}; the other form means GPT-2's.
     */
    public static void writeInto(GPTModel model, Path dir, DType dtype, int endOfText) {
        writeInto(model, dir, dtype, endOfText, Tensor::data);
    }

    /** The same as {@link #writeInto(GPTModel, Path, DType)} storing {@code values} of each parameter in place of its own. */
    public static void writeInto(GPTModel model, Path dir, DType dtype, Function<Tensor, float[]> values) {
        writeInto(model, dir, dtype, Gpt2Config.gpt2EndOfText(model.config()), values);
    }

    /**
     * The same storing {@code values} of each parameter (a LoRA run's merged weights, made one at a time) in place of
     * its own.
     */
    public static void writeInto(GPTModel model, Path dir, DType dtype, int endOfText, Function<Tensor, float[]> values) {
        checkDtype(dir, dtype);
        SafetensorsWriter.writeEntries(dir.resolve(WEIGHTS), hubTensors(model, values), METADATA, dtype);
        // last: a complete config means complete weights
        AtomicFiles.writeString(dir.resolve(CONFIG), Gpt2Config.write(model.config(), dtype, endOfText, Map.of()));
    }

    private static void checkDtype(Path dir, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException(dir + ": cannot store weights as " + dtype + " (F32, F16 or BF16)");
        }
    }

    /**
     * The names myllm writes into a model directory: a model's, a classifier's, an adapter's, a tokenizer, a prompt
     * format, a checkpoint's state, a download's checksums, and the hidden leftovers of a write that was killed.
     */
    private static final Set<String> OWN_NAMES = Set.of(CONFIG, WEIGHTS, ModelTokenizer.OWN_FILE, ModelTokenizer.HF_FILE, "myllm-prompt-format.json",
            "adapter_model.safetensors", "adapter_config.json", "myllm-lora.json", "adapter", "myllm-best.json",
            "optimizer.safetensors", "trainer_state.json");

    /**
     * Checks that saving a model as {@code dir} may replace what is there: nothing, an empty directory, or a model
     * directory holding only files myllm writes (a re-export's earlier files, a tokenizer or adapter of another model
     * among them, go with it). Anything else, such as a folder of the user's, is refused, so that replacing the
     * directory whole never deletes a file we did not write.
     */
    public static void requireReplaceable(Path dir) {
        if (!Files.exists(dir)) return;
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": exists and is not a directory");
        try (Stream<Path> s = Files.list(dir)) {
            String other = s.map(p -> p.getFileName().toString()).filter(n -> !ownName(n)).sorted().findFirst().orElse(null);
            if (other != null) {
                throw new IllegalArgumentException(dir + ": holds " + other + ", which is not a model's file; give a new or empty "
                        + "directory (a model directory is replaced whole)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    private static boolean ownName(String n) {
        return OWN_NAMES.contains(n) || n.endsWith(".sha256") || n.endsWith(".part") || n.startsWith(AtomicFiles.TMP_PREFIX)
                || n.startsWith(".old-");
    }

    /**
     * The model's tensors under Hugging Face's names and layouts, sorted by name as Python's
     * {@code safetensors} orders them, with {@code values} giving each parameter's stored values
     * ({@code Tensor::data}, or a LoRA target's merged weight, perhaps in a longer buffer). Conv1D
     * transposes are made when the writer reaches them, into one buffer (of the largest's size) reused
     * for every layer, so saving needs one weight's heap beyond the model, not a second copy of it: a
     * run whose training steps fit the heap can save.
     */
    static SequencedMap<String, SafetensorsWriter.Entry> hubTensors(GPTModel model, Function<Tensor, float[]> values) {
        Map<String, Tensor> params = model.namedParameters();
        GPTConfig c = model.config();
        Set<String> names = new java.util.TreeSet<>(Gpt2Layout.fileShapes(c).keySet());
        if (!c.qkvBias()) {
            for (int i = 0; i < c.nLayers(); i++) names.add("h." + i + ".attn.c_attn.bias");
        }
        int largest = 0;
        for (String n : names) if (Gpt2Layout.isConv1d(n) && params.containsKey(n)) largest = Math.max(largest, params.get(n).size());
        int transposed = largest;
        float[][] buffer = new float[1][];
        SequencedMap<String, SafetensorsWriter.Entry> out = new LinkedHashMap<>();
        for (String n : names) {
            Tensor p = params.get(n);
            if (p == null) {
                int[] shape = {3 * c.embDim()}; // the QKV bias of a model without one
                out.put(n, new SafetensorsWriter.Entry(shape, () -> new float[shape[0]]));
            } else if (Gpt2Layout.isConv1d(n)) {
                int rows = p.shape()[0], cols = p.shape()[1];
                out.put(n, new SafetensorsWriter.Entry(new int[]{cols, rows},
                        () -> transpose(values.apply(p), rows, cols, buffer[0] != null ? buffer[0] : (buffer[0] = new float[transposed]))));
            } else {
                out.put(n, new SafetensorsWriter.Entry(p.shape(), () -> values.apply(p)));
            }
        }
        return out;
    }

    /** The first {@code rows x cols} values of {@code src} transposed into {@code dst}. */
    private static float[] transpose(float[] src, int rows, int cols, float[] dst) {
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) dst[k * rows + r] = src[r * cols + k];
        }
        return dst;
    }

    static void fill(GPTModel model, Safetensors st, Gpt2Layout.Plan plan) {
        Map<String, Tensor> params = model.namedParameters();
        for (var e : plan.sources().entrySet()) fillOne(st, plan, e.getKey(), e.getValue(), params.get(e.getKey()));
        checkZeroBiases(st, plan);
        if (plan.tiedHead() != null && !Arrays.equals(st.load(plan.tiedHead()).data(), params.get(Gpt2Layout.WTE).data())) {
            throw Gpt2Layout.bad(st, "tensor '" + plan.tiedHead() + "' differs from the token embedding but config.json ties them");
        }
    }

    /** Fills float32 parameter {@code key} from the file's tensor {@code name} (Conv1D transposed, a longer position table cropped). */
    static void fillOne(Safetensors st, Gpt2Layout.Plan plan, String key, String name, Tensor p) {
        if (Gpt2Layout.isConv1d(key)) {
            float[] src = st.load(name).data();
            int out = p.shape()[0], in = p.shape()[1];
            float[] dst = p.data();
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < out; o++) dst[o * in + i] = src[i * out + o];
            }
        } else if (key.equals(Gpt2Layout.WPE) && plan.cropPositions()) {
            System.arraycopy(st.load(name).data(), 0, p.data(), 0, p.size());
        } else {
            st.loadInto(name, p.data(), 0);
        }
    }

    /** QKV biases stored for a model without them must be zero. */
    static void checkZeroBiases(Safetensors st, Gpt2Layout.Plan plan) {
        for (String name : plan.zeroBiases()) {
            for (float x : st.load(name).data()) {
                if (x != 0) throw Gpt2Layout.bad(st, "tensor '" + name + "' is not zero but config.json says " + Gpt2Config.QKV_BIAS + ": false");
            }
        }
    }

    private static void checkDir(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + (Files.exists(dir) ? ": not a directory" : ": no such file or directory"));
        }
    }

    static Path weightsFile(Path dir) {
        checkDir(dir);
        Path w = dir.resolve(WEIGHTS);
        String odd = dev.myllm.util.IoErrors.inPlaceOfFile(w); // a directory or a link loop is there, not nothing
        if (odd != null) throw new IllegalArgumentException(w + ": " + odd);
        if (!Files.isRegularFile(w)) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? " (it has pytorch_model.bin; convert it to safetensors)" : Files.exists(dir.resolve("model.safetensors.index.json"))
                    ? " (sharded checkpoints are not supported)" : "";
            throw new IllegalArgumentException(dir + ": no " + WEIGHTS + hint);
        }
        return w;
    }

}
