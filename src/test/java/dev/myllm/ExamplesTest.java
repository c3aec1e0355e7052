package dev.myllm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The programs under {@code examples/} compile with the tests and run on a tiny model. */
class ExamplesTest {
    /** Runs an example's {@code main} (they live in the unnamed package, so by name) and returns what it printed. */
    static String run(String example, String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Class.forName(example).getMethod("main", String[].class).invoke(null, (Object) args);
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** An example run in a JVM of its own, as the README runs it: a bad argument ends it with System.exit. */
    record Exit(int code, String out, String err) {
    }

    static Exit runAlone(String example, String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), example));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        String err = read(p.getErrorStream());
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // the JVM's note on the incubating module is not the example's
        return new Exit(p.exitValue(), out.get(), err.replaceAll("(?m)^WARNING: Using incubator modules.*\n", ""));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void badArgumentsAreOneLineAndANonZeroExit(@TempDir Path dir) throws Exception {
        String generate = "usage: GenerateText MODEL_DIR PROMPT [TOKENS]\n";
        // the usage was printed with exit 0; a missing model and a TOKENS that is no number were stack traces
        assertThat(runAlone("GenerateText", dir.toString())).isEqualTo(new Exit(2, "", generate));
        assertThat(runAlone("GenerateText", dir.toString(), "hi", "many")).isEqualTo(new Exit(2, "", generate));
        Path missing = dir.resolve("no-model");
        assertThat(runAlone("GenerateText", missing.toString(), "hi"))
                .isEqualTo(new Exit(2, "", "GenerateText: no such model directory or file: " + missing + "\n"));

        String finetune = "usage: FineTuneClassifier MODEL_DIR DATA.csv OUT_DIR [EPOCHS [LR]]\n";
        assertThat(runAlone("FineTuneClassifier", dir.toString(), "data.csv")).isEqualTo(new Exit(2, "", finetune));
        assertThat(runAlone("FineTuneClassifier", dir.toString(), "data.csv", dir.resolve("run").toString(), "five")).isEqualTo(new Exit(2, "", finetune));
        Path csv = java.nio.file.Files.writeString(dir.resolve("two.csv"), "label,text\nspam,win cash\nham,see you\n");
        assertThat(runAlone("FineTuneClassifier", missing.toString(), csv.toString(), dir.resolve("run").toString()))
                .isEqualTo(new Exit(2, "", "FineTuneClassifier: model: " + missing + ": no such file or directory\n"));
        // what the library refuses is said as it says it
        assertThat(runAlone("FineTuneClassifier", dir.toString(), csv.toString(), dir.resolve("run").toString(), "0"))
                .isEqualTo(new Exit(2, "", "FineTuneClassifier: epochs must be >= 1, got 0\n"));
        assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void generateText(@TempDir Path dir) throws Exception {
        Myllm llm = MyllmTest.tiny();
        llm.save(dir.resolve("model"));
        String out = run("GenerateText", dir.resolve("model").toString(), "Every effort moves you", "8");
        String greedy = llm.generate("Every effort moves you", dev.myllm.generate.GenerationConfig.greedy(8)).text();
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("Every effort moves you" + greedy);
        assertThat(lines[1]).startsWith("Every effort moves you").isNotEqualTo(lines[0]);
        Myllm.Score score = llm.score("Every effort moves you and");
        assertThat(lines[2]).isEqualTo(String.format("perplexity of the prompt: %.2f over 5 tokens", score.perplexity()));
    }

    @Test
    void fineTuneClassifier(@TempDir Path dir) throws Exception {
        MyllmTest.tiny().save(dir.resolve("model"));
        // an easy task: the last word tells the class
        StringBuilder csv = new StringBuilder("label,text\n");
        String[] spam = {"win a prize", "claim your cash prize", "free cash now", "you won cash"};
        String[] ham = {"see you at lunch", "dinner tonight", "call me after lunch", "are we still on for dinner"};
        for (int i = 0; i < 5; i++) {
            for (String s : spam) csv.append("spam,").append(s).append(" ").append(i).append(" winner\n");
            for (String h : ham) csv.append("ham,").append(h).append(" ").append(i).append(" thanks\n");
        }
        Path data = java.nio.file.Files.writeString(dir.resolve("msgs.csv"), csv);
        String out = run("FineTuneClassifier", dir.resolve("model").toString(), data.toString(), dir.resolve("run").toString(), "8", "3e-3");
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("labels [ham, spam]; accuracy on " + data + ": 1.000");
        TextClassifier loaded = TextClassifier.load(dir.resolve("run/model"));
        // the saved classifier pads as training did: it gets the whole file right too
        assertThat(loaded.accuracy(dev.myllm.data.LabelledFiles.read(data))).isEqualTo(1.0);
        TextClassifier.Prediction p = loaded.classify("Hey, just wanted to check if we're still on for dinner tonight?");
        assertThat(lines[2]).isEqualTo(String.format("%s (%.3f): %s", p.label(), p.probabilities().get(p.label()),
                "Hey, just wanted to check if we're still on for dinner tonight?"));
        assertThat(p.probabilities().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    }
    @Test
    void followInstructions(@TempDir Path dir) throws Exception {
        MyllmTest.tiny().save(dir.resolve("model"));
        java.util.List<java.util.Map<String, String>> records = new java.util.ArrayList<>();
        for (dev.myllm.finetune.InstructionExample e : dev.myllm.finetune.SyntheticTasks.generate(40, 2)) {
            records.add(java.util.Map.of("instruction", e.instruction(), "input", e.input(), "output", e.output()));
        }
        Path data = dir.resolve("records.json");
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(data.toFile(), records);
        String out = run("FollowInstructions", dir.resolve("model").toString(), data.toString(), dir.resolve("run").toString(), "1", "1e-3");
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).matches("tuned in the alpaca format; last validation loss [0-9]+\\.[0-9]{3}");
        Myllm tuned = Myllm.load(dir.resolve("run/model"));
        assertThat(tuned.promptFormat()).contains(dev.myllm.finetune.PromptFormat.ALPACA);
        assertThat(lines[1]).isEqualTo("Rewrite the sentence using a simile. -> " + tuned.respond("Rewrite the sentence using a simile.", "", 40, null));
        assertThat(lines[2]).startsWith("What is the capital of France? -> ");

        String usage = "usage: FollowInstructions MODEL_DIR DATA OUT_DIR [EPOCHS [LR]]\n";
        assertThat(runAlone("FollowInstructions", dir.toString(), "instructions")).isEqualTo(new Exit(2, "", usage));
        assertThat(runAlone("FollowInstructions", dir.resolve("model").toString(), data.toString(), dir.resolve("run").toString()))
                .isEqualTo(new Exit(2, "", "FollowInstructions: out: " + dir.resolve("run") + " already holds a run; give another directory\n"));
    }
}
