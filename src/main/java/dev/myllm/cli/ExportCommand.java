package dev.myllm.cli;

import dev.myllm.io.DType;
import dev.myllm.io.GgufMixture;
import dev.myllm.io.GgufModel;
import dev.myllm.io.GgufType;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.util.AtomicFiles;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code myllm export}: writes a clean Hugging Face model directory, or a GGUF file for llama.cpp
 * and Ollama, from a model (directory, GGUF file, llm.c checkpoint or seeded preset).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model as a directory that Hugging Face transformers loads, or as one GGUF file for llama.cpp, Ollama and LM Studio.",
                "The directory has config.json with GPT2Config keys and model.safetensors with GPT-2 names (float32, float16 or "
                        + "bfloat16); the GGUF file (--format gguf) embeds the tokenizer."})
final class ExportCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE",
            description = "The directory to write (created, or replaced whole when it holds only a model's files); with --format gguf, the .gguf file.")
    Path out;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "safetensors",
            description = "safetensors (default: a Hugging Face model directory) or gguf (one file for llama.cpp and Ollama).")
    String format;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "How to store the weights: f32 (default), f16 or bf16; q8_0, q4_0, q4_1, q4_k, q5_k or q6_k too with --format gguf "
                    + "(every matrix in the one type), or llama.cpp's mixtures q4_k_m and q5_k_m (Q4_K or Q5_K, Q6_K for the head "
                    + "or tied token table and some blocks' attn_qkv and ffn_down), q4_k_s (Q4_K, Q6_K for the head, Q5_K for "
                    + "the first blocks' attn_qkv and ffn_down) or q5_k_s (Q5_K, Q6_K for the head).")
    String dtype;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--seed", paramLabel = "S", defaultValue = ModelOptions.DEFAULT_SEED, description = "Seed of a preset's random weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--modelfile", paramLabel = "FILE",
            description = "With --format gguf: also write an Ollama Modelfile (FROM the .gguf file; an instruction-tuned model's prompt "
                    + "format as its TEMPLATE and stop strings), for: ollama create NAME -f FILE.")
    Path modelfile;

    @Option(names = "--merge-lora", description = "Add a LoRA adapter's update into the base weights (W + scale·(A·B)ᵀ) and write a plain model without the adapter.")
    boolean mergeLora;

    @Override
    public void run() {
        if (modelfile != null && !format.toLowerCase(Locale.ROOT).equals("gguf")) throw new CliException("--modelfile applies to --format gguf only");
        Path dir = model.directory();
        if (dir != null && dev.myllm.io.ClassifierDirectory.isClassifier(dir)) {
            model.refuseAdapter(dir + " is a classifier; --merge-lora merges the adapter it keeps");
            exportClassifier(dir);
            return;
        }
        if (mergeLora && model.adapter != null) throw new CliException("--merge-lora merges a classifier's own adapter; --adapter is merged already");
        if (mergeLora) {
            // a mistyped --model is named as such, not as a model without an adapter
            if (dir != null) ModelDirectories.requireModel(dir);
            throw new CliException("--merge-lora: " + model.label() + " has no LoRA adapter (adapter_config.json)");
        }
        String f = format.toLowerCase(Locale.ROOT);
        if (f.equals("gguf")) {
            exportGguf();
            return;
        }
        if (!f.equals("safetensors")) throw new CliException("--format: unknown format '" + format + "'; choose safetensors or gguf");
        if (tokenizer.spec != null) throw new CliException("--tokenizer applies to --format gguf only");
        DType t = switch (ggufType(dtype)) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            case "q8_0", "q4_0", "q4_1", "q4_k", "q5_k", "q6_k", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m" -> throw new CliException("--dtype " + ggufType(dtype) + " needs --format gguf (safetensors has no block types)");
            default -> DType.F32;
        };
        OutputPaths.modelDirectory("--out", out); // before the model is built, and in the words of every other --out
        GPTModel m = model.build(seed);
        Path source = model.directory();
        Tokenizer tok = source != null ? tokenizer.load(model) : null;
        // what the source keeps beside its weights, so the copy tokenizes and chats as it does: a trained vocabulary (a GGUF
        // file's embedded one written out), taken before anything is written, and an instruction format
        TokenizerCopy kept = source != null ? tokenizer.toKeep(source, tok, m.config().vocabSize()) : null;
        dev.myllm.finetune.PromptFormat format = model.savedFormat(); // the adapter's, when it has one
        try {
            // made whole beside --out, then renamed into place: a failure leaves no model without its tokenizer or format
            AtomicFiles.writeDirectory(out, tmp -> {
                if (tok != null) ModelDirectory.writeInto(m, tmp, t, tok.eotId());
                else ModelDirectory.writeInto(m, tmp, t); // a preset: GPT-2's tokenizer
                if (kept != null) kept.writeInto(tmp);
                if (source != null && format != null) dev.myllm.finetune.SavedFormat.write(tmp, format);
            });
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CliException("--out " + e.getMessage(), 1);
        }
        long bytes;
        try {
            bytes = Files.size(out.resolve(ModelDirectory.WEIGHTS));
        } catch (java.io.IOException e) {
            bytes = -1;
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote %s (%s%s, %,d parameters, %s, model.safetensors %,.1f MB)%n", out, model.label(),
                model.adapter != null ? " + adapter " + model.adapter : "",
                m.config().parameterCount(), t.name().toLowerCase(Locale.ROOT), bytes / 1e6);
        Path trained = out.resolve(dev.myllm.io.ModelTokenizer.OWN_FILE);
        if (Files.isRegularFile(trained)) {
            // transformers finds no tokenizer.json here and builds one of the special tokens alone, without a word
            o.printf("note: %s is a vocabulary trained with myllm (the book's merge rules, which a tokenizer.json cannot express): "
                    + "transformers cannot tokenize as myllm does%n", trained);
        }
        o.flush();
    }

    /** A classifier directory: copied, or with its LoRA adapter merged into the weights. */
    private void exportClassifier(Path dir) {
        String f = format.toLowerCase(Locale.ROOT);
        if (f.equals("gguf")) {
            throw new CliException("--format gguf: " + dir + " is a classifier, and GGUF's gpt2 architecture has no classification head; "
                    + "export it as a safetensors directory (without --format)");
        }
        if (!f.equals("safetensors")) throw new CliException("--format: unknown format '" + format + "'; choose safetensors or gguf");
        if (tokenizer.spec != null) throw new CliException("--tokenizer applies to --format gguf only");
        if (!WeightDtype.parse(dtype).equals("f32")) throw new CliException("--dtype: a classifier is written in f32");
        OutputPaths.modelDirectory("--out", out); // before the classifier is loaded
        dev.myllm.finetune.GPTClassifier c = Classifiers.load(dir, -1);
        int length = c.maxLength();
        if (mergeLora) {
            if (c.lora() == null) throw new CliException("--merge-lora: " + dir + " has no LoRA adapter (adapter_config.json)");
            try {
                c.lora().merge(c.transformer());
            } catch (IllegalArgumentException e) {
                throw new CliException("--merge-lora: " + e.getMessage());
            }
            c = dev.myllm.finetune.GPTClassifier.of(c.transformer(), c.score().weight(), c.score().bias(), c.labels(), c.tokenRule(), c.padId());
            c.maxLength(length);
        }
        dev.myllm.finetune.GPTClassifier saved = c;
        Path tokFile = TokenizerOption.ownFile(dir);
        try {
            AtomicFiles.writeDirectory(out, tmp -> {
                dev.myllm.finetune.ClassifierStore.save(saved, tmp);
                if (tokFile != null) Files.copy(tokFile, tmp.resolve(tokFile.getFileName()));
            });
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CliException("--out " + e.getMessage(), 1);
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote %s (classifier %s, %,d parameters%s)%n", out, c.labels(), c.parameterCount(), mergeLora ? ", LoRA merged" : "");
        o.flush();
    }

    /** The K-quants and llama.cpp's mixtures of them a GGUF file may be written in: written by export, not run by the kernels. */
    private static final java.util.List<String> K_TYPES = java.util.List.of("q4_k", "q5_k", "q6_k", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m");

    /** The --dtype of export: the types a model runs in, and {@link #K_TYPES}. */
    private static String ggufType(String dtype) {
        String t = dtype.toLowerCase(Locale.ROOT);
        if (K_TYPES.contains(t)) return t;
        if (dtype.contains(",")) return WeightDtype.parse(dtype); // refuses a list in the words every command uses
        try {
            return PackedWeights.typeName(dtype);
        } catch (IllegalArgumentException e) {
            throw new CliException("--dtype: unknown type '" + dtype + "'; choose f32, f16, bf16, q8_0, q4_0, q4_1, q4_k, q5_k, q6_k, q4_k_s, q4_k_m, q5_k_s or q5_k_m");
        }
    }

    private void exportGguf() {
        String typeName = ggufType(dtype);
        GgufMixture mix = typeName.matches("q\\d_k_[sm]") ? GgufMixture.valueOf(typeName.toUpperCase(Locale.ROOT)) : null;
        GgufType t = mix != null ? mix.base : GgufType.valueOf(typeName.toUpperCase(Locale.ROOT));
        OutputPaths.file("--out", out, ".gguf file");
        if (modelfile != null) {
            if (modelfile.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new CliException("--modelfile " + modelfile + " is the --out file; give the Modelfile its own name");
            }
            OutputPaths.file("--modelfile", modelfile, "Modelfile");
        }
        Tokenizer tok = tokenizer.load(model);
        GPTModel m = model.build(seed);
        BpeVocab vocab;
        try {
            vocab = BpeVocab.of(tok, m.config().vocabSize());
        } catch (IllegalArgumentException e) {
            throw new CliException("cannot export to GGUF: " + e.getMessage());
        }
        String name = model.isPreset() ? model.label().replace("preset ", "") : model.directory().getFileName().toString().replaceFirst("\\.(gguf|bin)$", "");
        dev.myllm.finetune.PromptFormat format = model.savedFormat();
        String ollamaName = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        String modelfileText = null;
        if (modelfile != null) {
            try {
                modelfileText = OllamaModelfile.text(modelfile, out, ollamaName, format, m.config().contextLength()); // before minutes of writing
            } catch (IllegalArgumentException e) {
                throw new CliException("--modelfile " + modelfile + ": " + e.getMessage());
            }
        }
        // an instruction-tuned model's format: ours to read back, and as a chat template for llama.cpp
        java.util.Map<String, String> strings = new java.util.LinkedHashMap<>(GgufModel.tokenizerKeys(tok)); // how myllm reads the vocabulary back
        if (format != null) {
            strings.put("tokenizer.chat_template", dev.myllm.server.ChatTemplate.jinja(format));
            strings.put(dev.myllm.finetune.SavedFormat.GGUF_KEY, dev.myllm.finetune.SavedFormat.json(format));
        }
        // the file and its Modelfile are renamed into place together, after both are written: a failure leaves neither
        String text = modelfileText;
        try {
            java.util.Map<Path, AtomicFiles.Writer> files = new java.util.LinkedHashMap<>();
            files.put(out, mix != null ? GgufModel.writer(m, vocab, name, out, mix, strings) : GgufModel.writer(m, vocab, name, out, t, strings));
            if (modelfile != null) files.put(modelfile, w -> w.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            AtomicFiles.writeAll(files);
        } catch (IllegalArgumentException e) {
            throw new CliException("--out " + e.getMessage(), 1);
        } catch (java.io.IOException | UncheckedIOException e) {
            throw new CliException("cannot write --out " + out + (modelfile != null ? " and --modelfile " + modelfile : "") + ": "
                    + (e instanceof java.io.IOException io ? dev.myllm.util.IoErrors.reason(io) : Errors.oneLine(e)), 1);
        }
        long bytes;
        try {
            bytes = Files.size(out);
        } catch (java.io.IOException e) {
            bytes = -1;
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote %s (%s, %,d parameters, %s, tokenizer %s, %,.1f MB)%n", out, model.label(), m.config().parameterCount(),
                typeName, tok.name(), bytes / 1e6);
        String file = out.toString();
        o.printf("run it in llama.cpp:  llama-cli -m %s -p \"Every effort moves you\" -n 50 --temp 0%n", file);
        if (format != null) {
            // llama.cpp's non-Jinja chat path has no built-in for our formats and refuses the template (older builds default to it)
            o.printf("chat in llama.cpp:    llama-server -m %s --jinja   (the file's chat template renders the %s prompt)%n", file, format.id());
        }
        if (modelfile != null) {
            o.printf("wrote %s (Ollama%s)%n", modelfile, format == null ? "" : ", the " + format.id() + " prompt format as its TEMPLATE");
            o.printf("make an Ollama model: ollama create %s -f %s && ollama run %s%n", ollamaName, modelfile, ollamaName);
        } else {
            o.printf("make an Ollama model: printf 'FROM %s\\n' > Modelfile && ollama create %s -f Modelfile && ollama run %s%s%n",
                    out.toAbsolutePath(), ollamaName, ollamaName,
                    format == null ? "" : "   (--modelfile FILE writes one with the prompt format, which Ollama needs as its TEMPLATE)");
        }
        o.flush();
    }
}
