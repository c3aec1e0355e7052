package dev.myllm.cli;

import dev.myllm.io.GgufFile;
import dev.myllm.io.ModelFiles;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --dtype} of inference commands ({@code generate}, {@code score}, {@code chat},
 * {@code serve}, {@code eval instruct}, {@code bench generate|serve}): the type the weights are kept
 * in while the model runs. {@link #parse} is also how {@code export} reads its {@code --dtype}.
 */
final class WeightDtype {
    @Option(names = "--dtype", paramLabel = "TYPE",
            description = "Weights in memory while running: f32, f16, bf16, q8_0, q4_0 or q4_1 (default: as the model stores them, "
                    + "a GGUF file's Q5_0/Q5_1/K-quants as q8_0; f32 for a preset).")
    String dtype;

    @Option(names = "--mmap", negatable = true,
            description = "Weights a file already stores in the type asked for: --mmap reads them where the file is memory-mapped "
                    + "(starts at once), --no-mmap copies them into a faster layout (seconds more to load; decoding about 1.3x faster "
                    + "for F16/BF16, 1.1x for F32). Default: F16/BF16 --mmap (serve and bench serve: --no-mmap); F32 --no-mmap.")
    Boolean mmap;

    /** A weight type's name as the user wrote it ({@code float16}, {@code Q8}, ...) → f32, f16, bf16 or q8_0. */
    static String parse(String text) {
        // bench generate splits its list before it gets here: a comma anywhere else is a list given where one type goes
        if (text.contains(",")) throw new CliException("--dtype takes one type here, got '" + text + "'; a list of types is for bench generate --dtype");
        try {
            return PackedWeights.typeName(text);
        } catch (IllegalArgumentException e) {
            throw new CliException("--dtype: " + e.getMessage());
        }
    }

    private String used;

    /** Refuses a {@code --dtype} that names no type, or a list, before the command reads its input. */
    void check() {
        if (dtype != null) parse(dtype);
    }

    /** As {@link #build(ModelOptions, long, PackedMatrix.Halves)}, F16/BF16 files mapped unless {@code --no-mmap}. */
    GPTModel build(ModelOptions model, long seed) {
        return build(model, seed, PackedMatrix.Halves.MAPPED);
    }

    /**
     * The model for inference: {@code model}'s weights, kept in the type asked for. A GGUF file or
     * a model directory is loaded straight into that type, never as a float32 model first: float32
     * matrices stored so are used where the file is memory-mapped, F16/BF16 ones as {@code --mmap}
     * says or else as {@code byDefault} (a long-running server copies them: its decoding outweighs
     * the seconds of the copy), so they cost no heap either way. With {@code --adapter} the model is
     * loaded as float32, the adapter merged, and then packed.
     */
    GPTModel build(ModelOptions model, long seed, PackedMatrix.Halves byDefault) {
        PackedMatrix.Halves halves = mmap == null ? byDefault : mmap ? PackedMatrix.Halves.MAPPED : PackedMatrix.Halves.COPIED;
        String t = resolve(model);
        Path src = model.directory();
        boolean gguf = src != null && GgufFile.isGguf(src);
        // an adapter merges into float32 weights, which are packed after
        if (model.adapter == null && (gguf || (src != null && Files.isDirectory(src)))) {
            PackedMatrix.Format f = format(t);
            GPTModel m;
            try {
                m = ModelFiles.loadPacked(src, model.config(), f, halves, dtype == null);
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw new CliException("--model " + e.getMessage());
            }
            used = t;
            return m;
        }
        GPTModel m = model.build(seed);
        used = apply(m, model);
        return m;
    }

    /** The type {@link #build} kept the weights in. */
    String used() {
        return used;
    }

    /** The type asked for, or the one the model is stored in. */
    String resolve(ModelOptions model) {
        if (dtype != null) return parse(dtype);
        if (model.directory() == null) return "f32";
        String stored;
        try {
            stored = ModelFiles.storedType(model.directory());
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
        return stored;
    }

    /** Switches {@code m} (float32 weights) to the resolved type; returns its name. */
    String apply(GPTModel m, ModelOptions model) {
        String t = resolve(model);
        if (format(t) == PackedMatrix.Format.F32) return t; // --mmap asked for rows: the float32 tensors as they are
        // inference only from here: the weights are held once, packed. The float32 ones are
        // collected every 64 MB dropped, so that the packed copies take their place: packing all
        // first grew the heap, and the resident memory, by the model's size (gpt2-small F32_PANELS
        // peaked at 1.33 GB instead of 0.69)
        long[] collected = {0};
        PackedWeights.packAndDrop(m, format(t), bytes -> {
            if (bytes - collected[0] >= 64L << 20) {
                System.gc();
                collected[0] = bytes;
            }
        });
        return t;
    }

    /**
     * The in-memory format of type {@code t}: {@link PackedWeights#decodingFormat}, unless {@code --mmap}
     * asks for a file's float32 matrices where they are mapped.
     */
    private PackedMatrix.Format format(String t) {
        return t.equals("f32") && Boolean.TRUE.equals(mmap) ? PackedMatrix.Format.F32 : PackedWeights.decodingFormat(t);
    }
}
