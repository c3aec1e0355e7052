package dev.myllm.data;

import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.util.IntList;
import dev.myllm.util.TextFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Turns corpus specs into documents and tokens: text files, folders (all files inside, sorted), globs,
 * pre-tokenized {@code .bin} files and named datasets. Text documents are joined by {@code <|endoftext|>}.
 */
public final class Corpus {
    /** One source after expansion: a text file or a pre-tokenized file. */
    public record Source(Path path, boolean pretokenized) {
    }

    private final NamedDatasets datasets;
    private final boolean replaceInvalid;

    /** A loader fetching named datasets through {@code datasets}; {@code replaceInvalid} decodes bad UTF-8 as U+FFFD. */
    public Corpus(NamedDatasets datasets, boolean replaceInvalid) {
        this.datasets = datasets;
        this.replaceInvalid = replaceInvalid;
    }

    /** The standard loader (cache under {@code MYLLM_HOME}); invalid UTF-8 is an error. */
    public static Corpus standard() {
        return new Corpus(NamedDatasets.standard(), false);
    }

    /** Expands specs into sources, in order; a spec that matches nothing is an error naming it. */
    public List<Source> sources(List<String> specs) {
        if (specs.isEmpty()) throw new IllegalArgumentException("no corpus given (files, folders, globs, .bin files or a dataset name)");
        List<Source> out = new ArrayList<>();
        for (String spec : specs) {
            Path p = Path.of(spec);
            List<Path> files;
            if (Files.isDirectory(p)) files = walk(p, null);
            else if (Files.exists(p)) files = List.of(p);
            else if (spec.matches(".*[*?\\[{].*")) files = glob(spec);
            else if (NamedDatasets.isKnown(spec)) files = datasets.fetch(spec);
            else throw new IllegalArgumentException("no such file, folder or dataset: " + spec
                        + " (datasets: " + String.join(", ", NamedDatasets.names()) + ")");
            if (files.isEmpty()) throw new IllegalArgumentException("no files match " + spec);
            for (Path f : files) {
                if (!Files.isReadable(f)) throw new UncheckedIOException(new java.nio.file.AccessDeniedException(f.toString()));
                out.add(new Source(f, TokenBin.isBin(f)));
            }
        }
        return out;
    }

    /** The text of every text source, in order (pre-tokenized sources are refused here). */
    public List<String> texts(List<String> specs) {
        List<String> docs = new ArrayList<>();
        for (Source s : sources(specs)) {
            if (s.pretokenized()) throw new IllegalArgumentException(s.path() + ": pre-tokenized; text is needed here");
            docs.add(TextFiles.readUtf8(s.path(), replaceInvalid));
        }
        return docs;
    }

    /**
     * All tokens of the corpus: text documents encoded (special-token text in them is the special token)
     * and separated by the end-of-text id, pre-tokenized files appended as they are.
     */
    public int[] tokens(List<String> specs, Tokenizer tokenizer) {
        IntList out = new IntList(1 << 16);
        boolean first = true;
        for (Source s : sources(specs)) {
            if (s.pretokenized()) {
                int[] t = TokenBin.read(s.path());
                for (int id : t) {
                    if (id >= tokenizer.vocabSize()) {
                        throw new IllegalArgumentException(s.path() + ": token id " + id + " is outside " + tokenizer.name()
                                + "'s vocabulary of " + tokenizer.vocabSize());
                    }
                }
                out.addAll(t);
                first = false;
                continue;
            }
            String text = TextFiles.readUtf8(s.path(), replaceInvalid);
            if (!first && tokenizer.eotId() >= 0) out.add(tokenizer.eotId());
            encode(tokenizer, text, out);
            first = false;
        }
        if (out.size() == 0) throw new IllegalArgumentException("the corpus is empty: " + String.join(" ", specs));
        return out.toArray();
    }

    private static void encode(Tokenizer tokenizer, String text, IntList out) {
        if (tokenizer instanceof BpeTokenizer b) b.encodeInto(text, Specials.ALLOW, out);
        else out.addAll(tokenizer.encode(text, Specials.ALLOW));
    }

    private static List<Path> glob(String spec) {
        // Walk from the longest folder prefix without glob characters.
        String norm = spec.replace('\\', '/');
        int firstMeta = norm.length();
        for (int i = 0; i < norm.length(); i++) if ("*?[{".indexOf(norm.charAt(i)) >= 0) {
            firstMeta = i;
            break;
        }
        int slash = norm.lastIndexOf('/', firstMeta);
        Path base = slash < 0 ? Path.of(".") : Path.of(norm.substring(0, slash + 1));
        String pattern = slash < 0 ? norm : norm.substring(slash + 1);
        if (!Files.isDirectory(base)) throw new IllegalArgumentException("no files match " + spec + " (no folder " + base + ")");
        return walk(base, FileSystems.getDefault().getPathMatcher("glob:" + pattern));
    }

    private static List<Path> walk(Path dir, PathMatcher matcher) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith("."))
                    .filter(f -> matcher == null || matcher.matches(dir.relativize(f)))
                    .sorted()
                    .toList();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such folder: " + dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
