package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help names its option values for a person, and a typo is reported before a missing option. */
class HelpTextTest {

    @Test
    void noHelpShowsJavaFieldNames() {
        checkHelp(Main.commandLine());
    }

    private static void checkHelp(CommandLine command) {
        StringWriter help = new StringWriter();
        command.usage(new PrintWriter(help));
        assertThat(help.toString()).as(command.getCommandSpec().qualifiedName()).doesNotContain("=<");
        command.getSubcommands().values().forEach(HelpTextTest::checkHelp);
    }

    @Test
    void noHelpLineBreaksAWordAtItsDot() {
        // picocli wraps where java.text.BreakIterator allows, which includes after the dot of
        // "model.safetensors" or "llama.cpp": the line then ends like a sentence ("... + model.")
        // and the next begins "safetensors)". Help is worded so that no such word meets a line's end.
        List<String> broken = new ArrayList<>();
        collectBrokenWords(Main.commandLine(), broken);
        assertThat(broken).isEmpty();
    }

    @Test
    void aWordCutAtItsDotMovesWholeToTheNextLine() {
        String nl = System.lineSeparator();
        assertThat(HelpWrapping.mend("One two three model." + nl + "    safetensors and more words", 24))
                .isEqualTo("One two three" + nl + "    model.safetensors" + nl + "    and more words");
        assertThat(HelpWrapping.mend("a server, e.g. http:" + nl + "    //localhost:11434.", 30)).isEqualTo("a server, e.g." + nl + "    http://localhost:11434.");
        // a new entry of a command list is no continuation; a sentence's end before a capital neither
        String list = "  download   Get a model." + nl + "  export     Write it." + nl + "Then. Next";
        assertThat(HelpWrapping.mend(list, 80)).isEqualTo(list);
    }

    private static void collectBrokenWords(CommandLine command, List<String> broken) {
        StringWriter help = new StringWriter();
        command.usage(new PrintWriter(help));
        List<String> lines = help.toString().lines().toList();
        for (int i = 0; i + 1 < lines.size(); i++) {
            String a = lines.get(i).stripTrailing(), b = lines.get(i + 1);
            String next = b.strip();
            boolean commandListEntry = b.startsWith("  ") && !b.startsWith("   "); // "  train  Pretrain a GPT ...": a new entry
            boolean cut = a.endsWith(".") && !next.isEmpty() && Character.isLowerCase(next.charAt(0)) // "model." | "safetensors"
                    || a.endsWith(":") && next.startsWith("/"); // "http:" | "//localhost"
            if (cut && !commandListEntry) {
                broken.add(command.getCommandSpec().qualifiedName() + ": " + a.strip() + " | " + next);
            }
        }
        command.getSubcommands().values().forEach(sub -> collectBrokenWords(sub, broken));
    }

    @Test
    void placeholdersAreTheOptionNamesInCapitals() {
        assertThat(CliRun.run("bench", "finetune", "--help").out())
                .contains("--batch-size=BATCH_SIZE", "--context-length=CONTEXT_LENGTH", "--init=book|gpt2");
    }

    @Test
    void optionsAreListedInTheOrderTheyAreDeclared() {
        // the placeholders were set by taking each option out and adding it again at the end: train listed --n-layer after
        // --resume, and the training commands' --steps (which names its placeholder) far from --minutes (which does not)
        assertThat(optionsInHelp("train")).containsSubsequence("--data", "--preset", "--n-layer", "--n-embd", "--n-head", "--init")
                .containsSequence("--epochs", "--steps", "--minutes", "--lr");
        assertThat(optionsInHelp("finetune", "classify")).containsSequence("--epochs", "--steps", "--minutes", "--batch-size")
                .containsSequence("--lr", "--warmup-steps", "--min-lr", "--weight-decay");
        for (String kind : List.of("instruct", "dpo")) {
            assertThat(optionsInHelp("finetune", kind)).as(kind).containsSequence("--checkpoint-every", "--steps", "--minutes", "--warmup-steps");
        }
    }

    /** The long names of the options {@code myllm ARGS... --help} lists, in its order. */
    private static List<String> optionsInHelp(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("--help");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^ {2,6}(?:-\\w, )?(--[\\w-]+|--\\[no-\\][\\w-]+)").matcher(CliRun.run(a.toArray(String[]::new)).out());
        List<String> names = new ArrayList<>();
        while (m.find()) names.add(m.group(1));
        return names;
    }

    @Test
    void anUnknownOptionIsNamedBeforeAMissingRequiredOne() {
        CliRun run = CliRun.run("generate", "--promt", "Hello");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).startsWith("myllm: Unknown option: '--promt'");
    }

    @Test
    void aMistypedCommandIsCalledOne() {
        CliRun run = CliRun.run("trian", "--steps", "3");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).startsWith("myllm: unknown command 'trian' for myllm; choose one of demo, train, generate,");
        run = CliRun.run("finetune", "clasify");
        assertThat(run.err()).startsWith("myllm: unknown command 'clasify' for myllm finetune; choose one of classify, instruct, dpo\n");
    }

    @Test
    void noCommandIsAUsageErrorWithTheUsageOnStderr() {
        CliRun run = CliRun.run();
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("myllm: missing command for myllm\nUsage: myllm [-hV] [COMMAND]").contains("  train ");
        for (String group : new String[]{"finetune", "bench", "eval", "data", "tokenizer"}) {
            run = CliRun.run(group);
            assertThat(run.code()).as(group).isEqualTo(2);
            assertThat(run.out()).as(group).isEmpty();
            assertThat(run.err()).as(group).startsWith("myllm: missing command for myllm " + group + "\nUsage: myllm " + group + " ");
        }
        // asked for, the usage is no error
        run = CliRun.run("--help");
        assertThat(run.code()).isZero();
        assertThat(run.out()).startsWith("Usage: myllm [-hV] [COMMAND]");
        assertThat(CliRun.run("finetune", "--help").code()).isZero();
    }

    @Test
    void relabelledOptionsStillSetTheirFields() {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs("bench", "matmul", "--rows", "7");
        BenchMatmulCommand matmul = parsed.subcommand().subcommand().commandSpec().commandLine().getCommand();
        assertThat(matmul.rows).isEqualTo(7);
        assertThat(CliRun.run("bench", "matmul", "--rows", "x").err()).startsWith("myllm: Invalid value for option '--rows'");
    }

    @Test
    void everyCommandsFirstDescriptionLineIsAWholeSentence() {
        // the first line is what the parent's command list shows: one cut mid-sentence read "... write the"
        checkFirstLine(Main.commandLine());
    }

    private static void checkFirstLine(CommandLine command) {
        String[] d = command.getCommandSpec().usageMessage().description();
        if (command.getParent() != null) {
            assertThat(d).as(command.getCommandSpec().qualifiedName()).isNotEmpty();
            assertThat(d[0].strip()).as(command.getCommandSpec().qualifiedName()).endsWith(".");
        }
        command.getSubcommands().values().forEach(HelpTextTest::checkFirstLine);
    }

    @Test
    void trainsPresetHelpListsThePresets() {
        String help = CliRun.run("train", "--help").out().replaceAll("\\s+", " ");
        assertThat(help).contains("gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, gpt2-tiny, gpt2-mini, book-124m, book-124m-256.")
                .doesNotContain("Model shape: ...");
        assertThat(CliRun.run("eval", "--help").out().replaceAll("\\s+", " ")).contains("print exact match (synthetic data, or --exact-match).");
    }

    @Test
    void theDemoTakesTrainsNamesForTheModelShape(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs("demo", "--n-layer", "3", "--n-embd", "64", "--n-head", "4");
        DemoCommand demo = parsed.subcommand().commandSpec().commandLine().getCommand();
        assertThat(new int[]{demo.layers, demo.width, demo.heads}).containsExactly(3, 64, 4);
        parsed = Main.commandLine().parseArgs("demo", "--layers", "2", "--width", "32", "--heads", "2");
        demo = parsed.subcommand().commandSpec().commandLine().getCommand();
        assertThat(new int[]{demo.layers, demo.width, demo.heads}).containsExactly(2, 32, 2);
        // a shape that cannot be is refused before the previous run is cleared
        java.nio.file.Path latest = java.nio.file.Files.writeString(java.nio.file.Files.createDirectories(tmp.resolve("demo")).resolve("latest"), "step-000010");
        java.nio.file.Files.writeString(tmp.resolve("demo").resolve(DemoCommand.MARKER), ""); // an earlier demo's run
        CliRun bad = CliRun.run("demo", "--out", tmp.resolve("demo").toString(), "--n-embd", "256", "--n-head", "3");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("myllm: embedding width 256 must be a positive multiple of the 3 heads\n");
        assertThat(latest).hasContent("step-000010");
        assertThat(CliRun.run("demo", "--out", tmp.resolve("demo").toString(), "--lr", "-1").err()).isEqualTo("myllm: --lr must be positive, got -1.0\n");
        assertThat(latest).hasContent("step-000010");
        // a corpus that is not UTF-8 points to an option the demo takes
        java.nio.file.Path latin1 = java.nio.file.Files.write(tmp.resolve("latin1.txt"), new byte[]{'c', 'a', 'f', (byte) 0xe9});
        assertThat(CliRun.run("demo", "--out", tmp.resolve("demo").toString(), "--data", latin1.toString()).err()).contains("--replace-invalid");
        assertThat(Main.commandLine().parseArgs("demo", "--replace-invalid").subcommand().matchedOption("--replace-invalid")).isNotNull();
        assertThat(latest).hasContent("step-000010");
        // nor does a corpus that is not there clear it (it used to be cleared first)
        CliRun missing = CliRun.run("demo", "--out", tmp.resolve("demo").toString(), "--data", tmp.resolve("none.txt").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("myllm: --data: no such file, folder or dataset: " + tmp.resolve("none.txt"));
        assertThat(latest).hasContent("step-000010");
    }

    @Test
    void anEmptyDemoCorpusIsRefusedBeforeTheWork(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        // it cleared the previous run, learned a 258-token vocabulary, wrote it, timed training steps, and only then
        // said "--data: the corpus is empty"
        java.nio.file.Path run = java.nio.file.Files.createDirectories(tmp.resolve("demo"));
        java.nio.file.Path latest = java.nio.file.Files.writeString(run.resolve("latest"), "step-000010");
        java.nio.file.Path metrics = java.nio.file.Files.writeString(run.resolve("metrics.jsonl"), "{}\n");
        java.nio.file.Files.writeString(run.resolve(DemoCommand.MARKER), ""); // an earlier demo's run
        java.nio.file.Path empty = java.nio.file.Files.writeString(tmp.resolve("empty.txt"), "");
        CliRun r = CliRun.runCapturingStderr("demo", "--out", run.toString(), "--data", empty.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --data: the corpus is empty: " + empty + "\n");
        assertThat(latest).hasContent("step-000010");
        assertThat(metrics).exists();
        assertThat(run.resolve("myllm-tokenizer.json")).doesNotExist();
    }

    @Test
    void aDemoRunDirectoryThatCannotBeWrittenIsRefusedBeforeTheWork(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(tmp.resolve("afile"), "x");
        // refused before the corpus is read (a missing one is not reached) and the vocabulary learned: it said
        // "cannot write FILE/myllm-tokenizer.json: not a directory" with exit 1, after the BPE training
        CliRun r = CliRun.run("demo", "--out", file.toString(), "--data", tmp.resolve("none.txt").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --out " + file + " is a file; give a directory\n");
        java.nio.file.Path under = file.resolve("demo");
        CliRun below = CliRun.run("demo", "--out", under.toString(), "--data", tmp.resolve("none.txt").toString());
        assertThat(below.code()).isEqualTo(2);
        assertThat(below.err()).isEqualTo("myllm: cannot write --out " + under + ": " + file + " is a file, not a directory\n");
        try (var files = java.nio.file.Files.list(tmp)) {
            assertThat(files).containsExactly(file);
        }
        assertThat(file).hasContent("x");
    }

    @Test
    void aCorpusThatIsNotThereIsAUsageErrorNamingItsArgumentInEveryCommand(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws java.io.IOException {
        String none = tmp.resolve("none.txt").toString(), out = tmp.resolve("out").toString();
        String text = java.nio.file.Files.writeString(tmp.resolve("text.txt"), "Every effort moves you. ".repeat(200)).toString();
        String what = ": no such file, folder or dataset: " + none + " (datasets: ";
        // (train, tokenizer train and data prepare exited 1 with no argument named; tokenize and --model said 2)
        String[][] cases = {
                {"--data", "train", "--preset", "gpt2-tiny", "--steps", "1", "--out", out, "--data", none},
                {"--val-data", "train", "--preset", "gpt2-tiny", "--steps", "1", "--out", out, "--data", text, "--val-data", none},
                {"INPUT", "tokenizer", "train", "--vocab-size", "300", "--out", tmp.resolve("t.json").toString(), none},
                {"INPUT", "data", "prepare", "--out", tmp.resolve("t.bin").toString(), none}};
        for (String[] c : cases) {
            CliRun r = CliRun.run(java.util.Arrays.copyOfRange(c, 1, c.length));
            assertThat(r.code()).as(String.join(" ", c)).isEqualTo(2);
            assertThat(r.err().lines().filter(l -> l.startsWith("myllm: ")).toList()).as(r.err())
                    .singleElement().matches(l -> l.startsWith("myllm: " + c[0] + what));
        }
        assertThat(tmp.resolve("t.json")).doesNotExist();
        assertThat(tmp.resolve("t.bin")).doesNotExist();
    }

    @Test
    void benchFinetuneSaysSlowerWhenTheFineTuningStepIsSlower() {
        assertThat(BenchFinetuneCommand.speed(100, 420)).isEqualTo("4.2× faster");
        // LoRA on gpt2-tiny: the adapters cost more than the frozen body saves; it printed "0.8× faster"
        assertThat(BenchFinetuneCommand.speed(216, 173)).isEqualTo("1.2× slower");
    }
}
