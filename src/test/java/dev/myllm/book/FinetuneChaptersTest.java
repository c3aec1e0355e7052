package dev.myllm.book;

import static org.junit.jupiter.api.Assertions.*;

import dev.myllm.data.LabelledServer;
import dev.myllm.finetune.InstructionDatasets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chapters 6 and 7 fetch their data from a local server (the real download code) and reproduce
 * the book's counts, splits, collate outputs and loss toys.
 */
class FinetuneChaptersTest {
    static Report.Row row(Report r, String what) {
        return r.rows().stream().filter(x -> x.what().equals(what)).findFirst().orElseThrow(() -> new AssertionError("no row " + what));
    }

    static void same(Report r, String what) {
        Report.Row x = row(r, what);
        assertEquals(Report.Mark.SAME, x.mark(), what + " = " + x.ours() + ", book " + x.book());
    }

    /**
     * 5,572 rows with the SMS collection's label sequence; each text is "Row N" except row 2,087 (the
     * first of the book's training set), which is 120 tokens long as the longest real training message.
     */
    static byte[] smsLikeCollection() throws IOException {
        String seq;
        try (InputStream in = FinetuneChaptersTest.class.getResourceAsStream("/data/sms-spam-labels.txt")) {
            seq = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < seq.length(); i++) {
            String text = i == 2087 ? "a" + " a".repeat(119) : "Row " + i;
            sb.append(seq.charAt(i) == 's' ? "spam" : "ham").append('\t').append(text).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void chapter6CountsSplitsAndBatches(@TempDir Path home) throws IOException {
        byte[] entry = smsLikeCollection();
        try (LabelledServer server = new LabelledServer()) {
            server.serve("/sms.zip", LabelledServer.zip(Map.of("SMSSpamCollection", entry, "readme", "x".getBytes(StandardCharsets.UTF_8))));
            Report r = Ch06.run(server.datasets(home, java.util.List.of("/sms.zip"), LabelledServer.sha256(entry), entry.length, "unused"));
            for (String what : new String[]{"messages", "ham / spam", "balanced ham / spam", "train / validation / test", "tokenizer.encode(\"<|endoftext|>\")",
                    "train_dataset.max_length", "input batch dimensions", "label batch dimensions", "training / validation / test batches",
                    "\"Do you have time\""}) {
                same(r, what);
            }
            assertTrue(r.allSame());
            assertEquals(Report.Mark.NOTE, row(r, "accuracy before fine-tuning (train / val / test)").mark());
        }
    }

    @Test
    void chapter6WithoutTheDataSaysSoAndKeepsTheRest(@TempDir Path home) {
        try (LabelledServer server = new LabelledServer()) {
            Report r = Ch06.run(server.datasets(home, java.util.List.of("/missing.zip"), "0".repeat(64), 1, "unused"));
            assertEquals(Report.Mark.NOTE, row(r, "SMS Spam Collection").mark());
            assertTrue(row(r, "SMS Spam Collection").ours().startsWith("not available"), row(r, "SMS Spam Collection").ours());
            same(r, "\"Do you have time\"");
        }
    }

    @Test
    void chapter7DataPromptsCollateAndLoader(@TempDir Path home) throws IOException {
        byte[] data;
        try (InputStream in = getClass().getResourceAsStream("/finetune/instruction-data.json")) {
            data = in.readAllBytes();
        }
        try (LabelledServer server = new LabelledServer()) {
            server.serve("/instruction-data.json", data);
            Report r = Ch07.run(new InstructionDatasets(home, server.base(), false));
            for (Report.Row x : r.rows()) assertNotEquals(Report.Mark.DIFFERENT, x.mark(), x.what() + " = " + x.ours() + ", book " + x.book());
            for (String what : new String[]{"collated inputs", "collated targets", "loss of two rows", "loss of three rows", "third target -100",
                    "number of entries", "data[50] formatted with its response", "data[999] (no input)", "training / validation / test set length",
                    "masked targets of data[43] (width 64)", "training batches per epoch", "first training batch (inputs)"}) {
                same(r, what);
            }
            assertEquals(3, r.rows().stream().filter(x -> x.mark() == Report.Mark.NOTE).count());
        }
    }
}
