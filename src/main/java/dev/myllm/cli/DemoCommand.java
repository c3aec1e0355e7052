package dev.myllm.cli;

import dev.myllm.util.IoErrors;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code myllm demo}: the main job. Fetches Jane Austen's six novels, learns a small BPE
 * vocabulary on them, pretrains a small GPT sized for this machine within a time budget, writes
 * the model, the metrics log and the loss plot under {@code runs/demo}, and prints samples.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a small GPT on Jane Austen's novels for a few minutes and print samples.")
final class DemoCommand implements Runnable {
    static final String[] PROMPTS = {"It is a truth universally acknowledged", "Mr. Darcy", "Emma was", "\"My dear"};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--minutes", defaultValue = "10", description = "Time budget in minutes, setup included (default ${DEFAULT-VALUE}).")
    double minutes;
    @Option(names = "--out", defaultValue = "runs/demo", description = "Run directory; an earlier demo's run in it is replaced (default ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--data", defaultValue = "austen", description = "Corpus (default ${DEFAULT-VALUE}).")
    String data;
    // train's and bench's names for the shape
    @Option(names = "--n-layer", paramLabel = "N", description = "Transformer blocks (default ${DEFAULT-VALUE}).")
    int layers = 6; // no defaultValue: picocli would apply it after the hidden spelling below
    @Option(names = "--n-embd", paramLabel = "N", description = "Embedding width (default ${DEFAULT-VALUE}).")
    int width = 256; // no defaultValue: picocli would apply it after the hidden spelling below
    @Option(names = "--n-head", paramLabel = "N", description = "Attention heads (default ${DEFAULT-VALUE}).")
    int heads = 8; // no defaultValue: picocli would apply it after the hidden spelling below

    /** The demo's first spellings, kept working. */
    @Option(names = "--layers", hidden = true)
    void layersAlias(Integer n) {
        if (n != null) layers = n; // picocli resets options with null before each parse
    }

    @Option(names = "--width", hidden = true)
    void widthAlias(Integer n) {
        if (n != null) width = n;
    }

    @Option(names = "--heads", hidden = true)
    void headsAlias(Integer n) {
        if (n != null) heads = n;
    }
    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--replace-invalid", description = "Decode invalid UTF-8 in --data as U+FFFD instead of failing (as train).")
    boolean replaceInvalid;
    @Option(names = "--seed", defaultValue = "123", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public void run() {
        if (!(minutes > 0)) throw new CliException("--minutes must be positive, got " + minutes);
        // checked before the previous run is cleared and the vocabulary learned, so a typo costs nothing
        if (!(lr > 0)) throw new CliException("--lr must be positive, got " + lr);
        DemoSizing.config(layers, width, heads);
        OutputPaths.directory("--out", out); // before the corpus is fetched and the vocabulary learned, not after
        refuseOthersRun(out); // as early: a train run's checkpoints are not the demo's to delete
        long start = System.nanoTime();
        long budget = (long) (minutes * 60e9);
        // a missing corpus must not cost the previous run
        List<String> texts = new CorpusInput("--data", replaceInvalid).texts(List.of(data));
        long chars = texts.stream().mapToLong(String::length).sum();
        // as train says it, but before the previous run is cleared, a vocabulary learned and written and steps timed
        if (chars == 0) throw new CliException("--data: the corpus is empty: " + data);
        clearRun(out);
        Path tokFile = out.resolve(GptModelStore.TOKENIZER_FILE);
        long t0 = System.nanoTime();
        TrainedBpe bpe = new BpeTrainer().train(texts, DemoSizing.VOCAB, List.of("<|endoftext|>"), null);
        bpe.save(tokFile);
        System.err.printf(Locale.ROOT, "demo: %s: %d documents, %,d characters; BPE vocabulary of %d learned in %.1f s%n",
                data, texts.size(), chars, bpe.vocabSize(), (System.nanoTime() - t0) / 1e9);
        // keep ~25 s for tokenizing, the final evaluation, saving and the samples
        long left = budget - (System.nanoTime() - start) - 25_000_000_000L;
        DemoSizing.Plan plan = DemoSizing.plan(Math.max(left, 30_000_000_000L), layers, width, heads, lr);
        System.err.printf(Locale.ROOT, "demo: %s; %.0f ms per step measured, %d steps planned%n", plan.describe(), plan.stepMs(), plan.steps());
        List<String> args = new ArrayList<>(List.of("--data", data, "--out", out.toString(), "--preset", "gpt2-small",
                "--tokenizer", tokFile.toString(), "--steps", Long.toString(plan.steps()), "--seed", Long.toString(seed)));
        args.addAll(plan.trainArgs());
        if (replaceInvalid) args.add("--replace-invalid");
        CommandLine cl = new CommandLine(new TrainCommand());
        cl.setOut(spec.commandLine().getOut());
        cl.parseArgs(args.toArray(String[]::new));
        TrainCommand train = cl.getCommand();
        train.deadlineNanos = start + budget - 15_000_000_000L;
        train.run();
        GPTModel model = train.trainedModel;
        Tokenizer tok = train.trainedTokenizer;
        var o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%nvalidation loss %.3f -> %.3f (perplexity %.0f -> %.0f) after %.1f minutes%n", train.firstValLoss,
                train.finalValLoss, Math.exp(train.firstValLoss), Math.exp(train.finalValLoss), (System.nanoTime() - start) / 60e9);
        model.eval();
        Generator gen = new Generator(model, id -> tok.decodeBytes(new int[]{id}));
        for (int i = 0; i < PROMPTS.length; i++) {
            String p = PROMPTS[i];
            var r = gen.generate(tok.encode(p, Specials.ALLOW),
                    GenerationConfig.greedy(60).withSampling(0.7f, 25, 1f, seed + i).withEos(tok.eotId()));
            // the novels are wrapped at ~70 columns: print each sample as one paragraph
            o.printf("%n--- %s%s%n", p, r.text().replaceAll("\\s*\\n\\s*", " "));
        }
        o.printf("%nmodel: %s (with its tokenizer, %s), log: %s, plot: %s%n", out.resolve("model"), GptModelStore.TOKENIZER_FILE,
                out.resolve("metrics.jsonl"), out.resolve("loss.png"));
        o.flush();
    }

    /** The file that marks a run directory as the demo's: only such a run is the demo's to replace. */
    static final String MARKER = "demo-run";

    /**
     * Refuses a directory holding a run the demo did not make (no {@link #MARKER}): it deleted any run's checkpoints,
     * so {@code demo --out} a train run's directory lost hours of work without a word.
     */
    static void refuseOthersRun(Path dir) {
        if (!Files.isDirectory(dir) || Files.exists(dir.resolve(MARKER))) return;
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+")).sorted().forEach(found::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + IoErrors.reason(e), e);
        }
        for (String n : List.of(dev.myllm.train.Checkpoints.LATEST, "metrics.jsonl")) if (Files.exists(dir.resolve(n))) found.add(n);
        if (!found.isEmpty()) {
            throw new CliException("--out " + dir + " holds a training run that demo did not make (" + String.join(", ", found)
                    + "); give another --out or remove it");
        }
    }

    /**
     * Removes an earlier demo's checkpoints and logs, so this run's steps are not mixed with them, and marks the
     * directory as the demo's. Hidden leftovers are only removed when their writer is gone (a live one's may be there).
     */
    static void clearRun(Path dir) {
        refuseOthersRun(dir); // checked before the work too; here so that nothing else is ever cleared
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.matches("step-\\d+")) deleteTree(p);
                    else if (n.equals(dev.myllm.train.Checkpoints.LATEST) || n.equals("metrics.jsonl")) Files.delete(p);
                }
            }
            dev.myllm.util.AtomicFiles.removeAbandonedIn(dir);
            // before training: a demo killed midway is still the next demo's to replace
            Files.writeString(dir.resolve(MARKER), "This run was made by myllm demo, which replaces it when run again with this --out.\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
