package dev.myllm.cli;

import dev.myllm.io.GgufFile;
import dev.myllm.io.ModelFiles;
import dev.myllm.io.ModelTokenizer;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.TokenizerCopy;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code -t/--tokenizer} option of every command that reads a model, and the one rule that
 * resolves it: the tokenizer named, else the model's own ({@link ModelTokenizer}: embedded in a GGUF
 * file, or the directory's {@code myllm-tokenizer.json}, else its Hugging Face {@code tokenizer.json}),
 * else GPT-2's.
 */
final class TokenizerOption {
    @Option(names = {"-t", "--tokenizer"}, paramLabel = "gpt2|simple|PATH",
            description = "Tokenizer; default: the model's own (embedded in a GGUF file, or the model directory's myllm-tokenizer.json, "
                    + "else its Hugging Face tokenizer.json), else gpt2.")
    String spec;
    /** How the command names the model the tokenizer goes with, in its errors: {@code --model}, or train's {@code --init}. */
    String modelOption = "--model";

    /** The rule for a command that keeps {@code -t/--tokenizer} as its own option ({@code train}, whose model is {@code --init}). */
    static TokenizerOption of(String spec, String modelOption) {
        TokenizerOption t = new TokenizerOption();
        t.spec = spec;
        t.modelOption = modelOption;
        return t;
    }

    /** The tokenizer for a model read from {@code model} (a directory or a model file; null for a preset). */
    Tokenizer load(Path model) {
        if (spec == null) {
            if (model != null && GgufFile.isGguf(model)) {
                // the file itself first: a truncated or malformed one is not a tokenizer's fault, and --tokenizer no remedy
                try {
                    GgufFile.open(model).close(); // opening checks the header and every tensor's place in the file
                } catch (IllegalArgumentException e) {
                    throw new CliException(modelOption + " " + e.getMessage());
                }
            }
            try {
                Tokenizer own = ModelTokenizer.of(model);
                return own != null ? own : Tokenizers.load("gpt2");
            } catch (IllegalArgumentException e) {
                // the model's own file, which the user did not name: say which, and how to choose another
                throw new CliException(modelOption + " " + e.getMessage() + "; name the tokenizer to use with --tokenizer");
            }
        }
        Path gguf = Path.of(spec);
        if (ModelFiles.isModelFile(gguf)) {
            try {
                Tokenizer embedded = ModelFiles.tokenizer(gguf); // a GGUF file's own tokenizer
                if (embedded != null) return embedded;
            } catch (IllegalArgumentException e) {
                throw new CliException("--tokenizer " + e.getMessage());
            }
        }
        try {
            return Tokenizers.load(spec);
        } catch (IllegalArgumentException e) {
            throw new CliException("--tokenizer: " + e.getMessage());
        }
    }

    /**
     * The tokenizer a command's {@code -t/--tokenizer} names when no model goes with it ({@code tokenize}, {@code data
     * prepare}, {@code train}): an unknown name or a missing file is a usage error naming the option, as where a model reads it.
     */
    static Tokenizer named(String spec) {
        // through load, so that a GGUF file lends its embedded tokenizer here too
        TokenizerOption t = new TokenizerOption();
        t.spec = spec;
        return t.load((Path) null);
    }

    /** The tokenizer for the model {@code model} picks. */
    Tokenizer load(ModelOptions model) {
        return load(model.directory());
    }

    /** The tokenizer file named or found beside {@code model}, or null for a built-in or embedded one. */
    Path file(Path model) {
        if (spec != null) {
            if (spec.equals("gpt2") || spec.equals("simple") || spec.equals("r50k_base")) return null; // built in, even beside a file of that name
            Path p = Path.of(spec);
            // only a JSON vocabulary is kept as it is: a GGUF file's tokenizer is embedded, and a .tiktoken file or a
            // tokenizer folder would not read back as myllm-tokenizer.json (toKeep writes those out)
            return Files.isRegularFile(p) && !writtenOut(p) ? p : null;
        }
        return ownFile(model);
    }

    /**
     * The tokenizer to keep beside every model a run saves, or null for GPT-2's: the option's JSON
     * file (named, or the model directory's own), read now, or a GGUF file's embedded tokenizer, a
     * named {@code .tiktoken} file or tokenizer folder written out in memory (a vocabulary trained
     * here as its own JSON, another as a {@code tokenizer.json}), so the saved directories read the
     * same ids. Nothing is written here: the copy goes only into the directories the run saves, so
     * a run that fails before its first save leaves none behind.
     */
    TokenizerCopy toKeep(Path model, Tokenizer tok, int rows) {
        Path file = file(model);
        if (file != null) return TokenizerCopy.read(file);
        Path source = spec != null ? Path.of(spec) : model;
        if (source == null || !writtenOut(source)) return null;
        try {
            // a vocabulary trained here (a GGUF file's myllm.tokenizer) as itself: tokenizer.json would split by GPT-2's rules;
            // another as the tokenizer.json transformers reads (the copy is kept under the name its content gives)
            return TokenizerCopy.of(tok, rows);
        } catch (IllegalArgumentException e) {
            throw new CliException(modelOption + " " + model + ": its tokenizer cannot be saved: " + e.getMessage());
        }
    }

    /** Whether the tokenizer at {@code p} is kept beside a saved model by writing it out (a GGUF file, a .tiktoken file, a folder), not by copying. */
    private boolean writtenOut(Path p) {
        return (Files.isRegularFile(p) && GgufFile.isGguf(p)) || (spec != null && (Files.isDirectory(p) || p.toString().endsWith(".tiktoken")));
    }

    /** The tokenizer file a model directory keeps, if there is one ({@link ModelTokenizer#file}). */
    static Path ownFile(Path model) {
        return ModelTokenizer.file(model);
    }
}
