package dev.myllm.book;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.model.GPTConfig;
import dev.myllm.train.Trainer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code book ch05 --train} runs the book's {@code train_model_simple}: on a small model (1 layer,
 * width 32, context 32) its first 12 steps give the losses and evaluations of the book's own loop
 * run in PyTorch ({@code tools/book_train_reference.py}).
 */
class Ch05TrainTest {
    @Test
    void trainingMatchesTheBooksLoopInPyTorch(@TempDir Path tmp) throws Exception {
        GPTConfig book = GPTConfig.preset("book-124m-256");
        GPTConfig small = new GPTConfig(book.vocabSize(), 32, 32, 2, 1, book.dropRate(), book.qkvBias(), book.tiedHead(), book.layerNormEps());
        List<Trainer.StepReport> steps = new ArrayList<>();
        Report r = Ch05.train(small, 12, tmp.resolve("run"), new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport s) {
                steps.add(s);
            }
        });
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/book/ch05-train-reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        assertEquals(12, steps.size());
        for (int i = 0; i < 12; i++) assertEquals(ref.get("step_losses").get(i).asDouble(), steps.get(i).loss(), 2e-5, "step " + (i + 1));
        // evaluations at the book's steps 0, 5, 10, shown train / val beside the book's
        JsonNode e0 = ref.get("evals").get(0);
        assertEquals(String.format(java.util.Locale.ROOT, "%.3f / %.3f", e0.get(1).asDouble(), e0.get(2).asDouble()),
                FinetuneChaptersTest.row(r, "step 0 (train / val)").ours());
        JsonNode e10 = ref.get("evals").get(2);
        assertEquals(String.format(java.util.Locale.ROOT, "%.3f / %.3f", e10.get(1).asDouble(), e10.get(2).asDouble()),
                FinetuneChaptersTest.row(r, "step 10 (train / val)").ours());
        // a small model is not the book's: its numbers are notes, not differences
        assertTrue(r.allSame());
        assertTrue(FinetuneChaptersTest.row(r, "text after training (25 greedy tokens)").ours().startsWith("Every effort moves you"));
        assertTrue(Files.exists(tmp.resolve("run/model/model.safetensors")));
    }
}
