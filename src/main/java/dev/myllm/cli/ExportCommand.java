package dev.myllm.cli;

import dev.myllm.io.DType;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
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

/** {@code myllm export}: writes a clean Hugging Face model directory from a model directory (or a seeded preset). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a clean model directory (config.json with GPT2Config keys, model.safetensors with GPT-2 names) "
                + "that Hugging Face transformers loads; optionally in float16 or bfloat16.")
final class ExportCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The directory to write (created, or its two files replaced).")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32", description = "How to store the weights: f32 (default), f16 or bf16.")
    String dtype;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of a preset's random weights (default 0).")
    long seed;

    @Override
    public void run() {
        DType t = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "f16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new CliException("--dtype: unknown type '" + dtype + "'; choose f32, f16 or bf16");
        };
        GPTModel m = model.build(seed);
        try {
            ModelDirectory.save(m, out, t);
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
        o.printf("wrote %s (%s, %,d parameters, %s, model.safetensors %,.1f MB)%n", out, model.label(),
                m.config().parameterCount(), t.name().toLowerCase(Locale.ROOT), bytes / 1e6);
        o.flush();
    }
}
