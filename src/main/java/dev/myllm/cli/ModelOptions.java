package dev.myllm.cli;

import dev.myllm.finetune.PeftAdapter;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.io.ModelFiles;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.TorchGenerator;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The options that pick a model: a preset with random weights (seeded) or a model directory (perhaps with a LoRA adapter merged in), plus overrides. */
final class ModelOptions {
    /**
     * The default {@code --seed} of every command: the book's {@code torch.manual_seed(123)}, so a
     * {@code book-*} preset gives the book's weights without the option.
     */
    static final String DEFAULT_SEED = "123";

    static final class Source {
        @Option(names = "--preset", paramLabel = "NAME",
                description = "A model shape with fresh random weights: gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, gpt2-tiny, gpt2-mini, book-124m, book-124m-256.")
        String preset;

        @Option(names = "--model", paramLabel = "DIR|FILE",
                description = "A model directory (config.json + model.safetensors), a GPT-2 GGUF file or an llm.c checkpoint (.bin).")
        Path model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) merged into the model's weights when loading; a prompt format saved in it (a LoRA run's) wins over the model's.")
    Path adapter;

    @Option(names = "--context-length", paramLabel = "N", description = "Override the preset's context length; with --model, a shorter window on its weights.")
    Integer contextLength;

    @Option(names = "--qkv-bias", negatable = true, description = "Override a preset's bias on the QKV projection (GPT-2: yes; the book's 163M count: no); a --model keeps its own.")
    Boolean qkvBias;

    @Option(names = "--tie-weights", negatable = true, description = "Override whether a preset's output head shares the token embedding (GPT-2: yes; the book: no); a --model keeps its own.")
    Boolean tiedHead;

    /** The older spelling, kept working. */
    @Option(names = "--tied-head", negatable = true, hidden = true)
    void tiedHeadAlias(Boolean on) {
        if (on == null) return; // picocli resets options with null before each parse
        tiedHead = on;
    }

    @Option(names = "--init", paramLabel = "book|gpt2",
            description = "A preset's initialisation: book (PyTorch's, from its generator; book-* presets) or gpt2 (N(0, 0.02); the others).")
    String init;

    /** The configuration asked for, without building the model. */
    GPTConfig config() {
        refuseInitWithModel();
        GPTConfig c;
        if (source.preset != null) {
            try {
                c = GPTConfig.preset(source.preset);
            } catch (IllegalArgumentException e) {
                throw new CliException("--preset: " + e.getMessage());
            }
        } else {
            c = ModelDirectories.readConfig(source.model);
        }
        if (contextLength != null && contextLength < 1) throw new CliException("--context-length must be >= 1, got " + contextLength);
        if (contextLength != null && source.model != null && contextLength > c.contextLength()) {
            // a model's learned position table has a row per position: more failed on the tensor's shape, naming no option
            throw new CliException("--context-length " + contextLength + " exceeds the context length " + c.contextLength() + " of --model "
                    + source.model + " (its position table has " + c.contextLength() + " rows)");
        }
        if (source.model != null) {
            // a model's weights are shaped by its own: another value failed on a tensor, in words that named no option
            Path m = source.model;
            if (qkvBias != null && qkvBias != c.qkvBias()) {
                throw new CliException((qkvBias ? "--qkv-bias" : "--no-qkv-bias") + ": --model " + m + " has "
                        + (c.qkvBias() ? "a" : "no") + " bias on its QKV projection; leave the option out");
            }
            if (tiedHead != null && tiedHead != c.tiedHead()) {
                throw new CliException((tiedHead ? "--tie-weights" : "--no-tie-weights") + ": --model " + m + " has "
                        + (c.tiedHead() ? "its output head tied to the token embedding" : "a separate output head") + "; leave the option out");
            }
        }
        try {
            if (contextLength != null) c = c.withContextLength(contextLength);
            if (qkvBias != null) c = c.withQkvBias(qkvBias);
            if (tiedHead != null) c = c.withTiedHead(tiedHead);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        return c;
    }

    /** book or gpt2: how a preset's weights are drawn. */
    String initScheme() {
        refuseInitWithModel();
        return initScheme(source.preset, init);
    }

    /**
     * Refuses {@code --init} beside a {@code --model}: it says how a preset's random weights are drawn, and a model
     * has its own (every command ran the model's weights without a word). {@link #config} and {@link #refuseAdapter},
     * which the classifier paths call, check it.
     */
    private void refuseInitWithModel() {
        if (init != null && source.preset == null) throw new CliException("--init applies to a --preset (a --model has its weights)");
    }

    /** book or gpt2: {@code init} checked, or the preset's default (book for the {@code book-*} presets). */
    static String initScheme(String preset, String init) {
        if (init == null) return GPTConfig.isBookPreset(preset) ? "book" : "gpt2";
        if (!init.equals("book") && !init.equals("gpt2")) throw new CliException("--init must be book or gpt2, got " + init);
        return init;
    }

    /** Random weights for a preset's shape: PyTorch's initialisation from its generator (book) or N(0, 0.02) (gpt2). */
    static GPTModel randomModel(GPTConfig c, String scheme, long seed) {
        return scheme.equals("book") ? new GPTModel(c, new TorchGenerator(seed)) : new GPTModel(c, seed);
    }

    /** The model directory (or single model file), or null when the model is a preset. */
    Path directory() {
        return source.model;
    }

    /** What the model is called in messages. */
    String label() {
        return source.preset != null ? "preset " + source.preset : source.model.toString();
    }

    boolean isPreset() {
        return source.preset != null;
    }

    /** The model: random weights from {@code seed} for a preset, the directory's weights otherwise. */
    GPTModel build(long seed) {
        GPTConfig c = config();
        if (source.preset != null) {
            readAdapter(); // refuses one
            long bytes = c.weightBytes();
            long free = Runtime.getRuntime().maxMemory();
            if (bytes > free * 0.9) {
                throw new CliException(String.format("%s needs %.1f GB for its weights but Java may use %.1f GB; raise -Xmx via MYLLM_JAVA_OPTS",
                        label(), bytes / 1e9, free / 1e9));
            }
            return randomModel(c, initScheme(), seed);
        }
        if (!Files.isDirectory(source.model) && !ModelFiles.isModelFile(source.model)) {
            throw new CliException("--model: no such directory or file: " + source.model);
        }
        PeftAdapter a = readAdapter(); // before minutes of loading
        GPTModel m = ModelDirectories.load(source.model, c);
        if (a != null) {
            try {
                a.mergeInto(m);
            } catch (IllegalArgumentException e) {
                throw new CliException("--adapter " + e.getMessage());
            }
        }
        return m;
    }

    /** The {@code --adapter} read and checked, or null without one; refused with a preset, whose weights are random. */
    PeftAdapter readAdapter() {
        if (adapter == null) return null;
        if (source.preset != null) throw new CliException("--adapter applies to a --model (a --preset has random weights to adapt)");
        try {
            return PeftAdapter.read(adapter);
        } catch (IllegalArgumentException e) {
            throw new CliException("--adapter " + e.getMessage());
        }
    }

    /**
     * The prompt format saved with the model, or with the {@code --adapter} when it has one (a LoRA fine-tuning run's,
     * which wins over its base model's: {@link SavedFormat#source}); null for a preset or a model with none.
     */
    PromptFormat savedFormat() {
        if (source.model == null) return null;
        Path from = SavedFormat.source(source.model, adapter);
        try {
            return SavedFormat.read(from);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CliException((from.equals(adapter) ? "--adapter: " : "--model: ") + Errors.oneLine(e));
        }
    }

    /**
     * Refuses {@code --adapter} for a model {@code what} cannot adapt (a classifier directory), and {@code --init} and the
     * shape overrides beside it: a classifier is used as saved.
     */
    void refuseAdapter(String what) {
        refuseInitWithModel();
        if (contextLength != null || qkvBias != null || tiedHead != null) {
            throw new CliException("--context-length, --qkv-bias and --tie-weights change a model's shape; a classifier (" + source.model
                    + ") is used as saved");
        }
        if (adapter != null) throw new CliException("--adapter: " + what);
    }
}
