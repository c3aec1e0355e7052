package dev.myllm.cli;

import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code myllm tokenizer}: tokenizer tools; {@code train} learns a BPE vocabulary from text. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Tokenizer tools.")
final class TokenizerCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }

    /** {@code myllm tokenizer train}: learns BPE merges (the book's algorithm) and saves the vocabulary as JSON. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Learn a byte-level BPE vocabulary from text (files, folders, globs or a dataset name).")
    static final class Train implements Runnable {
        @Option(names = "--vocab-size", required = true, paramLabel = "N",
                description = "Target vocabulary size: 256 bytes + the space symbol + specials + merges.")
        int vocabSize;

        @Option(names = "--special", paramLabel = "TOKEN",
                description = "A special token (repeatable; default <|endoftext|>).")
        List<String> specials;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the vocabulary (JSON).")
        Path out;

        @Option(names = "--replace-invalid", description = "Decode invalid UTF-8 as U+FFFD instead of failing.")
        boolean replaceInvalid;

        @Parameters(paramLabel = "INPUT", arity = "1..*", description = "Training text: files, folders, globs or a dataset name.")
        List<String> inputs = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            List<String> sp = specials == null ? List.of("<|endoftext|>") : specials;
            if (vocabSize < 257 + sp.size()) {
                throw new CliException("--vocab-size must be at least " + (257 + sp.size()) + " (bytes, space symbol, specials), got " + vocabSize);
            }
            OutputPaths.file("--out", out, "vocabulary file"); // before minutes of learning, not after
            List<String> texts = new CorpusInput("INPUT", replaceInvalid).texts(inputs);
            long bytes = texts.stream().mapToLong(t -> t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum();
            if (bytes == 0) throw new CliException("the training text is empty: " + String.join(" ", inputs));
            long t0 = System.nanoTime();
            int target = vocabSize - 257 - sp.size();
            TrainedBpe t;
            if (!dev.myllm.util.ProgressBars.shown()) {
                t = new BpeTrainer().train(texts, vocabSize, sp, (done, total) -> { });
            } else {
                try (ProgressBar bar = new ProgressBarBuilder().setTaskName("merges").setInitialMax(target)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                        .build()) {
                    t = new BpeTrainer().train(texts, vocabSize, sp, (done, total) -> {
                        bar.maxHint(total);
                        bar.stepTo(done);
                    });
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            t.save(out);
            if (t.mergeCount() < target) {
                spec.commandLine().getOut().printf("stopped after %d of %d merges: no mergeable pair is left in the text%n",
                        t.mergeCount(), target);
            }
            spec.commandLine().getOut().printf("learned %d merges (vocabulary %d) from %.2f MB in %.1f s; wrote %s%n",
                    t.mergeCount(), t.vocabSize(), bytes / 1e6, s, out);
        }
    }
}
