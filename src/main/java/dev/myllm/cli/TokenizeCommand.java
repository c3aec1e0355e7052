package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.data.NamedDatasets;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.util.TextFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code myllm tokenize}: prints the token ids (or tokens, or a count) of files or standard input. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Turn text into token ids; reads standard input when no FILE is given.")
final class TokenizeCommand implements Runnable {
    enum Format { ids, tokens, count, json }

    enum SpecialsOpt { allow, text, error }

    @Option(names = {"-t", "--tokenizer"}, defaultValue = "gpt2", paramLabel = "simple|gpt2|PATH",
            description = "Tokenizer: gpt2 (default), simple (the book's regex tokenizer), a vocabulary file/folder or a GGUF file (its embedded one).")
    String tokenizer;

    @Option(names = "--specials", defaultValue = "allow", paramLabel = "allow|text|error",
            description = "<|endoftext|> in the input is the special token (allow, default), ordinary text (text), or an error.")
    SpecialsOpt specials;

    @Option(names = {"-f", "--format"}, paramLabel = "ids|tokens|count",
            description = "ids: whitespace-separated ids (default); tokens: one id and token text per line; count: the number of tokens.")
    String format; // a String: "json", its first spelling of --json, is still read but not offered

    @Option(names = "--json", description = "One JSON object per input: file, tokenizer, count and ids.")
    boolean json;

    @Option(names = "--replace-invalid", description = "Decode invalid UTF-8 as U+FFFD instead of failing.")
    boolean replaceInvalid;

    @Parameters(paramLabel = "FILE", arity = "0..*",
            description = "Text files, or dataset names as train and data prepare take them (austen, tinyshakespeare, verdict); default: standard input.")
    List<Path> files = new ArrayList<>();

    /** Where dataset names are fetched; tests point it at a folder of their own. */
    static java.util.function.Supplier<NamedDatasets> datasets = NamedDatasets::standard;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        Format fmt = format();
        Tokenizer tok = TokenizerOption.named(tokenizer);
        Specials mode = switch (specials) {
            case allow -> Specials.ALLOW;
            case text -> Specials.TEXT;
            case error -> Specials.ERROR;
        };
        List<String> names = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        if (files.isEmpty()) {
            names.add("<stdin>");
            try {
                texts.add(utf8(System.in.readAllBytes(), "<stdin>"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            for (Path f : files) {
                if (!Files.exists(f) && NamedDatasets.isKnown(f.toString())) {
                    // a dataset name, as every other command that reads a corpus takes one: its files in order
                    for (Path p : datasets.get().fetch(f.toString())) {
                        names.add(p.toString());
                        texts.add(utf8(p));
                    }
                    continue;
                }
                if (!Files.isRegularFile(f)) {
                    throw new CliException(Files.isDirectory(f) ? "not a file: " + f
                            : "no such file or dataset: " + f + " (datasets: " + String.join(", ", NamedDatasets.names()) + ")");
                }
                names.add(f.toString());
                texts.add(utf8(f));
            }
        }
        // every input is encoded before any is printed: a later one that fails leaves no partial output
        List<int[]> encoded = new ArrayList<>();
        for (int k = 0; k < texts.size(); k++) {
            try {
                encoded.add(tok.encode(texts.get(k), mode));
            } catch (IllegalArgumentException e) {
                // --specials error: the input that holds the token is named, as a corpus argument's text is
                throw new CliException(names.get(k) + ": " + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper();
        long total = 0;
        for (int k = 0; k < texts.size(); k++) {
            int[] ids = encoded.get(k);
            total += ids.length;
            switch (fmt) {
                case ids -> {
                    StringBuilder sb = new StringBuilder(ids.length * 6);
                    for (int i = 0; i < ids.length; i++) sb.append(i == 0 ? "" : " ").append(ids[i]);
                    out.println(sb);
                }
                case tokens -> {
                    for (int id : ids) out.println(id + "\t" + quote(om, tokenText(tok, id)));
                }
                case count -> out.println(texts.size() > 1 ? ids.length + "\t" + names.get(k) : String.valueOf(ids.length));
                case json -> {
                    ObjectNode o = om.createObjectNode();
                    o.put("file", names.get(k));
                    o.put("tokenizer", tok.name());
                    o.put("count", ids.length);
                    ArrayNode a = o.putArray("ids");
                    for (int id : ids) a.add(id);
                    out.println(o);
                }
            }
        }
        if (fmt == Format.count && texts.size() > 1) out.println(total + "\ttotal");
        out.flush();
    }

    /** A file's text; bad UTF-8 is said with the offer of {@code --replace-invalid}, as the other commands that read text say it. */
    private String utf8(Path file) {
        try {
            return TextFiles.readUtf8(file, replaceInvalid);
        } catch (TextFiles.InvalidUtf8Exception e) {
            throw new CliException(CorpusInput.offeringReplacement(e));
        }
    }

    /** As {@link #utf8(Path)} for bytes from {@code source}. */
    private String utf8(byte[] bytes, String source) {
        try {
            return TextFiles.decodeUtf8(bytes, source, replaceInvalid);
        } catch (TextFiles.InvalidUtf8Exception e) {
            throw new CliException(CorpusInput.offeringReplacement(e));
        }
    }

    /** --format's value, or json for --json (the name every other command uses; --format json was tokenize's first). */
    private Format format() {
        Format f;
        try {
            f = format == null ? Format.ids : Format.valueOf(format);
        } catch (IllegalArgumentException e) {
            throw new CliException("--format must be ids, tokens or count (or --json), got '" + format + "'");
        }
        if (json && format != null && f != Format.json) throw new CliException("give --json or --format " + format + ", not both");
        return json ? Format.json : f;
    }

    private static String tokenText(Tokenizer tok, int id) {
        return new String(tok.decodeBytes(new int[]{id}), StandardCharsets.UTF_8);
    }

    private static String quote(ObjectMapper om, String s) {
        try {
            return om.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
