package dev.myllm.cli;

import dev.myllm.data.Corpus;
import dev.myllm.data.NamedDatasets;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.util.TextFiles;
import java.util.List;
import java.util.function.Supplier;

/**
 * A command's corpus argument (files, folders, globs, .bin files, dataset names) read through
 * {@link Corpus}: one that names nothing, or holds text the command cannot take, is a usage error
 * (exit 2) naming the argument, as a missing {@code --model} is, in every command that reads one.
 */
final class CorpusInput {
    private final String argument;
    private final Corpus corpus;

    /** {@code argument} is how the user gave it: {@code --data}, or a positional {@code INPUT}. */
    CorpusInput(String argument, boolean replaceInvalid) {
        this.argument = argument;
        this.corpus = new Corpus(NamedDatasets.standard(), replaceInvalid);
    }

    List<String> texts(List<String> specs) {
        return checked(() -> corpus.texts(specs));
    }

    int[] tokens(List<String> specs, Tokenizer tok) {
        return checked(() -> corpus.tokens(specs, tok));
    }

    /** Text that is not UTF-8, said to a command that has {@code --replace-invalid} (the library's advice is to save it as UTF-8). */
    static String offeringReplacement(TextFiles.InvalidUtf8Exception e) {
        return e.where() + " (use --replace-invalid to decode with replacement characters)";
    }

    private <T> T checked(Supplier<T> read) {
        try {
            return read.get();
        } catch (TextFiles.InvalidUtf8Exception e) {
            throw new CliException(argument + ": " + offeringReplacement(e));
        } catch (IllegalArgumentException e) {
            throw new CliException(argument + ": " + e.getMessage());
        }
    }
}
