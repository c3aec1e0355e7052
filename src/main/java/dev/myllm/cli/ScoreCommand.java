package dev.myllm.cli;

import dev.myllm.io.Npy;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.util.TextFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code myllm score}: how well a model predicts a sequence: the mean cross-entropy of ids 2..n
 * given their prefixes, and the perplexity; optionally the logits of every position as {@code .npy}.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Mean cross-entropy and perplexity of a model on a text or a sequence of token ids.")
final class ScoreCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to score (tokenized with --tokenizer).")
        String text;

        @Option(names = "--ids-file", paramLabel = "FILE",
                description = "Token ids: whitespace-separated integers (as `myllm tokenize` prints), or an integer .npy file.")
        Path idsFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--logits-out", paramLabel = "FILE.npy", description = "Write the float32 logits of all n positions, shape (n, vocab).")
    Path logitsOut;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S", description = "Seed of a preset's random weights, default ${DEFAULT-VALUE}.")
    long seed;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        weights.check(); // an option's mistake is named before the input's
        if (logitsOut != null) OutputPaths.file("--logits-out", logitsOut, "logits file"); // before the model is built and run, not after
        Tokenizer tok = input.text != null ? tokenizer.load(model) : null;
        int[] ids = tok != null ? tok.encode(input.text, Specials.ALLOW) : readIds(input.idsFile);
        String from = input.text != null ? "--text" : "--ids-file " + input.idsFile; // what each line below names
        int n = ids.length;
        // before the model is loaded, not after
        if (n < 2) throw new CliException(from + ": the sequence has " + n + " token" + (n == 1 ? "" : "s") + "; scoring needs at least 2");
        GPTModel m = weights.build(model, seed);
        if (tok != null) GenerateCommand.checkVocab(tok, m); // as generate says it, rather than an id "outside the vocabulary"
        String dtypeUsed = weights.used();
        int vocab = m.config().vocabSize();
        if (n > m.config().contextLength()) {
            throw new CliException(from + ": the sequence has " + n + " tokens but the model's context length is " + m.config().contextLength());
        }
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new CliException(from + ": token id " + ids[i] + " at position " + i + " is outside the vocabulary of " + vocab);
            }
        }
        double loss;
        m.eval();
        try (GradMode g = GradMode.noGrad()) {
            int[] targets = new int[n];
            for (int i = 0; i < n - 1; i++) targets[i] = ids[i + 1];                   // position i predicts id i+1
            targets[n - 1] = Ops.IGNORE_INDEX;                                          // nothing follows the last
            if (logitsOut != null) {
                Tensor logits = m.forward(ids, 1, n).reshape(n, vocab);                // (n, V), written out
                loss = Ops.crossEntropy(logits, targets).item();
                Npy.write(logitsOut, logits);
            } else {
                // the head fused with the loss: a chunk of logits at a time, never all n
                loss = dev.myllm.train.LanguageModel.of(m).loss(ids, 1, n, targets).item();
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.printf("{\"tokens\":%d,\"predicted\":%d,\"dtype\":\"%s\",\"cross_entropy\":%s,\"perplexity\":%s}%n", n, n - 1, dtypeUsed, loss, Math.exp(loss));
        } else {
            out.printf("tokens         %d (%d predicted)%n", n, n - 1);
            out.printf("weights        %s%n", dtypeUsed);
            out.printf("cross-entropy  %.6f nats/token%n", loss);
            out.printf("perplexity     %.4f%n", Math.exp(loss));
            if (logitsOut != null) out.printf("logits         %s (%d, %d) float32%n", logitsOut, n, vocab);
        }
        out.flush();
    }

    static int[] readIds(Path file) {
        if (Files.isDirectory(file)) throw new CliException("--ids-file " + file + " is a directory; give a file of token ids");
        String why = dev.myllm.util.IoErrors.notAFile(file); // a link loop is not "no such file"
        if (why != null) throw new CliException("--ids-file " + file + ": " + why);
        if (file.toString().endsWith(".npy")) {
            try {
                // one sequence, as the help and the output speak of: rows are not flattened into one
                int[] shape = Npy.readHeader(file).shape();
                if (shape.length != 1) {
                    String dims = Arrays.stream(shape).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(", ", "(", ")"));
                    throw new CliException("--ids-file " + file + " has shape " + dims + "; give one sequence of token ids (a 1-D array)");
                }
                return Npy.readInts(file);
            } catch (IllegalArgumentException | UncheckedIOException e) {
                throw new CliException("--ids-file: " + e.getMessage());
            }
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CliException("--ids-file: cannot read " + file + ": " + dev.myllm.util.IoErrors.reason(e));
        }
        String s;
        try {
            s = TextFiles.decodeUtf8Strictly(bytes, file.toString()).strip();
        } catch (IllegalArgumentException e) {
            // a binary file (a .bin of tokens, say) said "Input length = 1"
            throw new CliException("--ids-file " + file + " is not UTF-8 text of token ids; give whitespace-separated ids or an integer .npy file");
        }
        if (s.isEmpty()) return new int[0];
        String[] parts = s.split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new CliException("--ids-file " + file + ": '" + parts[i] + "' (item " + (i + 1) + ") is not a token id");
            }
        }
        return Arrays.copyOf(ids, ids.length);
    }
}
