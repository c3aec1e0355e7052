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
}
