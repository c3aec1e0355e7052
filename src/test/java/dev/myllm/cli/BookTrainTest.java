package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --preset book-124m-256} against the book's own training loop run in PyTorch
 * ({@code tools/book_train_reference.py}, a 1-layer, width-32 model at context 32 on the
 * verdict's 90/10 character split, 12 steps): the same weights, batch orders, dropout masks and
 * evaluation draws give the same loss at every step and evaluation, to float rounding.
 */
class BookTrainTest {
    @Test
    void trainingDrawsAsTheBooksCpuRunDoes(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("the-verdict.txt");
        try (InputStream in = getClass().getResourceAsStream("/dev/myllm/data/the-verdict.txt")) {
            Files.copy(in, text);
        }
        CliRun r = run("train", "--preset", "book-124m-256", "--data", text.toString(), "--n-layer", "1", "--n-embd", "32",
                "--n-head", "2", "--context-length", "32", "--steps", "12", "--sample-every", "-1", "--out", tmp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/book/ch05-train-reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> steps = new ArrayList<>();
        for (String line : Files.readAllLines(tmp.resolve("run/metrics.jsonl"))) steps.add(m.readTree(line));
        assertEquals(ref.get("step_losses").size(), steps.size());
        for (int i = 0; i < steps.size(); i++) {
            assertEquals(ref.get("step_losses").get(i).asDouble(), steps.get(i).get("loss").asDouble(), 2e-5, "step " + (i + 1));
        }
        // the book evaluates after steps 1, 6, 11 (its counter starts at -1); train first, then validation
        int k = 0;
        for (JsonNode s : steps) {
            if (!s.has("val_loss")) continue;
            if (k == ref.get("evals").size()) {
                assertEquals(12, s.get("step").asInt(), "the final step evaluates too");
                continue;
            }
            JsonNode e = ref.get("evals").get(k++);
            assertEquals(e.get(0).asInt() + 1, s.get("step").asInt());
            assertEquals(e.get(1).asDouble(), s.get("train_eval_loss").asDouble(), 2e-5);
            assertEquals(e.get(2).asDouble(), s.get("val_loss").asDouble(), 2e-5);
        }
        assertEquals(ref.get("evals").size(), k);
    }
}
