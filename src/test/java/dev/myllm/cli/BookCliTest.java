package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One vocabulary for the options that shape or seed a model, and the book's presets on the command line. */
class BookCliTest {
    @Test
    void bookPresetsDefaultToTheBooksInitialisation() {
        CliRun r = run("info", "--preset", "book-124m", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"init\":\"book\""), r.out());
        assertTrue(r.out().contains("\"parameters\":163009536"), r.out());
        assertTrue(run("info", "--preset", "gpt2-small", "--json").out().contains("\"init\":\"gpt2\""));
        assertTrue(run("info", "--preset", "book-124m", "--init", "gpt2", "--json").out().contains("\"init\":\"gpt2\""));
    }

    @Test
    void tieWeightsIsTheSpellingAndTiedHeadStillWorks() {
        String a = run("info", "--preset", "gpt2-small", "--no-tie-weights", "--json").out();
        String b = run("info", "--preset", "gpt2-small", "--no-tied-head", "--json").out();
        assertTrue(a.contains("\"tied_head\":false"), a);
        assertEquals(a, b);
        assertFalse(run("info", "--help").out().contains("tied-head"));
        assertTrue(run("generate", "--help").out().contains("--[no-]tie-weights"));
    }

    @Test
    void badInitIsOneLine() {
        CliRun r = run("info", "--preset", "book-124m", "--init", "xavier");
        assertNotEquals(0, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--init"), r.err());
    }

    @Test
    void trainWithoutValidation(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "one two three four five six seven eight nine ten ".repeat(40));
        CliRun r = run("train", "--preset", "gpt2-tiny", "--data", text.toString(), "--val-fraction", "0", "--context-length", "16",
                "--batch-size", "2", "--steps", "2", "--sample-every", "-1", "--out", tmp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("shorter than one window"), r.err());
        assertTrue(Files.exists(tmp.resolve("run/model/model.safetensors")));
    }

    @Test
    void oneSeedDefaultInEveryCommand() {
        // every --seed defaults to the book's 123, so a book preset gives the book's model without it
        for (String[] cmd : new String[][]{{"train"}, {"info"}, {"generate"}, {"score"}, {"chat"}, {"serve"}, {"export"}, {"bench", "train"},
                {"bench", "generate"}, {"bench", "finetune"}, {"bench", "serve"}, {"finetune", "classify"}, {"finetune", "instruct"}, {"eval", "classify"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            String help = run(args).out();
            assertTrue(help.contains("--seed"), String.join(" ", cmd) + " has no --seed");
            assertTrue(help.replaceAll("\\s+", " ").contains("default 123") || help.replaceAll("\\s+", " ").contains("(default 123"),
                    String.join(" ", cmd) + ": " + help);
        }
        String info = run("info", "--preset", "book-124m", "--json").out();
        assertTrue(info.contains("\"seed\":123"), info);
        String ids = run("generate", "--preset", "book-124m", "--prompt", "Hello, I am", "--max-new-tokens", "3", "--ids").out();
        assertTrue(ids.contains("27018 24086 47843"), ids);
        CliRun bench = run("bench", "train", "--preset", "book-124m", "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--vocab-size", "64",
                "--batch-size", "1", "--context-length", "8", "--steps", "5", "--warmup", "0", "--init", "gpt2", "--seed", "5");
        assertEquals(0, bench.code(), bench.err());
        assertNotEquals(0, run("bench", "train", "--init", "xavier").code());
    }

    @Test
    void bookCommandJsonAndTrainOnlyWithChapter5() {
        CliRun r = run("book", "ch03", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"chapter\":\"ch03\""), r.out());
        assertTrue(r.out().contains("\"mark\":\"same\""), r.out());
        CliRun bad = run("book", "ch02", "--train");
        assertNotEquals(0, bad.code());
        assertEquals("myllm: --train applies to ch05", bad.err().strip());
        assertTrue(run("book", "ch08").err().contains("ch06, ch07"));
    }

    @Test
    void theSummaryCountsTheResultsCheckedNotTheNotes() {
        // appendix D: eight learning rates checked, and the book's GPU run shown as a note; it said "8 of 9 as printed"
        CliRun r = run("book", "appendix-d");
        assertEquals(0, r.code(), r.err());
        assertEquals(8, r.out().lines().filter(l -> l.startsWith("  ✓ ")).count(), r.out());
        assertEquals(1, r.out().lines().filter(l -> l.startsWith("  · ")).count(), r.out());
        String summary = r.out().lines().filter(l -> l.contains(" of ")).reduce((a, b) -> b).orElse("");
        assertTrue(summary.matches("  8 of 8 results as printed in the book \\(and 1 note\\), \\d+\\.\\d s"), summary);
    }
}
