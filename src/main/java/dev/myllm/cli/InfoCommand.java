package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.io.ClassifierDirectory;
import dev.myllm.io.ModelTokenizer;
import dev.myllm.model.GPTConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code myllm info}: a model's or a classifier's configuration, parameter counts and memory, without loading weights. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Print a model's configuration, parameter counts and the memory its weights take.",
                "A classifier directory (finetune classify) is described too: its labels, head, training length and adapter."})
final class InfoCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S",
            description = "Seed a preset's random weights are drawn from (as in generate, score, train), shown with the initialisation; default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--num-classes", paramLabel = "N", description = "Count as a classifier with an N-class head (chapter 6) instead of the vocabulary head.")
    Integer numClasses;

    @Option(names = "--lora-rank", paramLabel = "R", description = "Count LoRA adapters of rank R on every linear map and the head (appendix E).")
    Integer loraRank;

    @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA alpha (only shown; it does not change the counts).")
    Double loraAlpha;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        java.nio.file.Path dir = model.directory();
        if (dir != null && java.nio.file.Files.isDirectory(dir) && ClassifierDirectory.isClassifier(dir)) {
            if (numClasses != null || loraRank != null || loraAlpha != null) {
                throw new CliException("--num-classes, --lora-rank and --lora-alpha count the fine-tuning of a language model; " + dir + " is a classifier");
            }
            if (model.contextLength != null || model.qkvBias != null || model.tiedHead != null) {
                throw new CliException("--context-length, --qkv-bias and --tie-weights change a model's shape; a classifier (" + dir + ") is described as saved");
            }
            model.refuseAdapter(dir + " is a classifier; its own LoRA adapter, if any, is described with it");
            ClassifierInfo.print(out, dir, json);
            return;
        }
        GPTConfig c = model.config();
        // a directory whose weights would not load is no model to describe: fail as every command using it does
        if (dir != null && java.nio.file.Files.isDirectory(dir)) ModelDirectories.check(dir);
        long total = c.parameterCount();
        long separate = c.withTiedHead(false).parameterCount();
        long kv = 2L * c.nLayers() * c.contextLength() * c.embDim() * Float.BYTES;
        if (numClasses != null && numClasses < 2) throw new CliException("--num-classes must be >= 2, got " + numClasses);
        if (loraRank != null && loraRank < 1) throw new CliException("--lora-rank must be >= 1, got " + loraRank);
        // a classifier replaces the vocabulary head by Linear(C, classes) with bias (the book's)
        long fineTotal = numClasses == null ? total : c.withTiedHead(true).parameterCount() + (long) c.embDim() * numClasses + numClasses;
        long fineTrainable = loraRank != null ? dev.myllm.finetune.LoRA.parameterCount(c, numClasses == null ? 0 : numClasses, loraRank)
                : numClasses != null ? c.blockParameterCount() + 2L * c.embDim() + (long) c.embDim() * numClasses + numClasses : -1;
        String fineWhat = loraRank != null ? "LoRA rank " + loraRank + (loraAlpha != null ? " alpha " + loraAlpha : "") + ", base frozen"
                : "last block + final norm + head";
        dev.myllm.finetune.PromptFormat format = model.savedFormat();
        dev.myllm.finetune.PeftAdapter adapter = model.readAdapter(); // its file checked; its fit to the model is checked when loading
        String adapterText = adapter == null ? null : adapter.directory() + " (PEFT LoRA on " + adapter.updates().size() + " modules, merged when loading)";
        Stored stored = dir != null && java.nio.file.Files.isRegularFile(dir) && dev.myllm.io.GgufFile.isGguf(dir) ? Stored.of(dir) : null;
        String[] tokenizer = model.isPreset() ? null : tokenizerUsed(dir); // {source, tokens, how it is said}
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", model.label());
            if (stored != null) {
                ObjectNode types = o.putObject("gguf_types");
                stored.counts.forEach((t, n) -> types.put(t.name(), n));
                if (stored.fileType != null) o.put("gguf_file_type", stored.fileType);
                o.put("runs_as", stored.runsAs);
            }
            if (model.isPreset()) o.put("init", model.initScheme()).put("seed", seed);
            putConfig(o, c);
            if (format != null) o.put("prompt_format", format.id());
            if (adapter != null) o.putObject("adapter").put("path", adapter.directory().toString()).put("modules", adapter.updates().size());
            if (tokenizer != null) o.putObject("tokenizer").put("source", tokenizer[0]).put("tokens", Integer.parseInt(tokenizer[1]));
            o.put("parameters", total).put("parameters_without_head", c.parameterCountWithoutHead())
                    .put("parameters_with_separate_head", separate).put("parameters_per_block", c.blockParameterCount())
                    .put("weight_bytes_f32", c.weightBytes()).put("kv_cache_bytes_f32", kv);
            if (fineTrainable >= 0) {
                o.putObject("fine_tuning").put("num_classes", numClasses == null ? 0 : numClasses).put("what", fineWhat)
                        .put("parameters", fineTotal).put("trainable", fineTrainable);
            }
            out.println(o);
            out.flush();
            return;
        }
        out.println("model: " + model.label());
        printShape(out, c, true);
        if (dir != null && java.nio.file.Files.isRegularFile(dir)) {
            // a GGUF file or llm.c checkpoint keeps no dropout rate: the 0 above is not the training run's
            out.println("  (the file stores no dropout rate: 0, what inference uses; train --init and finetune take --dropout)");
        }
        if (stored != null) {
            StringBuilder b = new StringBuilder();
            stored.counts.forEach((t, n) -> b.append(b.isEmpty() ? "" : ", ").append(t).append(" (").append(n).append(n == 1 ? " tensor)" : " tensors)"));
            out.printf("  stored as         %s%s%n", b, stored.fileType == null ? "" : "; file type " + stored.fileType);
            out.printf("  runs as           %s unless --dtype says otherwise%n", stored.runsAs);
        }
        if (model.isPreset()) out.printf("  initialisation    %s, seed %d%n", model.initScheme(), seed);
        if (adapterText != null) out.printf("  adapter           %s%n", adapterText);
        if (format != null) out.printf("  prompt format     %s (instruction-tuned: chat, generate and serve use it)%n", format.id());
        if (tokenizer != null) out.printf("  tokenizer         %s%n", tokenizer[2]);
        out.println("parameters");
        out.printf("  total             %,d%n", total);
        out.printf("  without the head  %,d%n", c.parameterCountWithoutHead());
        if (c.tiedHead()) out.printf("  separate head     %,d (if untied)%n", separate);
        out.printf("  per block         %,d%n", c.blockParameterCount());
        if (fineTrainable >= 0) {
            out.printf("fine-tuning%s (%s)%n", numClasses == null ? "" : " as a " + numClasses + "-class classifier", fineWhat);
            out.printf("  trainable         %,d of %,d%n", fineTrainable, fineTotal);
        }
        out.println("memory");
        out.printf("  weights (float32)           %s%n", bytes(c.weightBytes()));
        out.printf("  KV cache, full context      %s per sequence%n", bytes(kv));
        out.printf("  training with AdamW (≈4×)   %s plus activations%n", bytes(4 * c.weightBytes()));
        out.flush();
    }

    /** A GGUF file's tensor types, its llama.cpp file type, and the type its matrices run in by default. */
    private record Stored(java.util.Map<dev.myllm.io.GgufType, Integer> counts, String fileType, String runsAs) {
        static Stored of(java.nio.file.Path file) {
            try (dev.myllm.io.GgufFile g = dev.myllm.io.GgufFile.open(file)) {
                return new Stored(dev.myllm.io.GgufModel.typeCounts(g), dev.myllm.io.GgufModel.fileTypeName(g),
                        dev.myllm.io.GgufModel.runsAs(dev.myllm.io.ModelFiles.storedType(file), dev.myllm.io.GgufModel.matrixTypes(g)));
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new CliException("--model " + e.getMessage());
            }
        }
    }

    /**
     * The tokenizer every command reads the model with when no --tokenizer is given ({@link ModelTokenizer}): its source
     * ({@code tokenizer.json}, {@code embedded}, {@code gpt2}), its size and how a line says it; refused as they refuse it.
     */
    private String[] tokenizerUsed(java.nio.file.Path dir) {
        dev.myllm.tokenizer.Tokenizer own = TokenizerOption.of(null, "--model").load(dir);
        java.nio.file.Path file = ModelTokenizer.file(dir);
        String tokens = Integer.toString(own.vocabSize());
        if (file != null) return new String[]{file.getFileName().toString(), tokens, file.getFileName() + " (" + own.vocabSize() + " tokens)"};
        if (ModelTokenizer.of(dir) != null) return new String[]{"embedded", tokens, "embedded in the file (" + own.vocabSize() + " tokens)"};
        return new String[]{"gpt2", tokens, "gpt2 (built in; the " + (java.nio.file.Files.isDirectory(dir) ? "directory" : "file") + " has none)"};
    }

    /** The configuration's lines; {@code head} adds how the vocabulary head is made (a classifier has none). */
    static void printShape(java.io.PrintWriter out, GPTConfig c, boolean head) {
        out.printf("  vocab size        %,d%n", c.vocabSize());
        out.printf("  context length    %,d%n", c.contextLength());
        out.printf("  embedding width   %,d%n", c.embDim());
        out.printf("  heads             %d (width %d)%n", c.nHeads(), c.headDim());
        out.printf("  layers            %d%n", c.nLayers());
        out.printf("  dropout           %s%n", c.dropRate());
        out.printf("  qkv bias          %s%n", c.qkvBias() ? "yes" : "no");
        if (head) out.printf("  output head       %s%n", c.tiedHead() ? "tied to the token embedding" : "separate");
        out.printf("  layer norm eps    %s%n", c.layerNormEps());
    }

    /** The configuration as the JSON object {@code config} of {@code o}. */
    static void putConfig(ObjectNode o, GPTConfig c) {
        o.putObject("config").put("vocab_size", c.vocabSize()).put("context_length", c.contextLength()).put("emb_dim", c.embDim())
                .put("n_heads", c.nHeads()).put("n_layers", c.nLayers()).put("drop_rate", c.dropRate())
                .put("qkv_bias", c.qkvBias()).put("tied_head", c.tiedHead()).put("layer_norm_eps", c.layerNormEps());
    }

    static String bytes(long b) {
        return String.format("%,.1f MB (%,.1f MiB)", b / 1e6, b / (1024.0 * 1024));
    }
}
