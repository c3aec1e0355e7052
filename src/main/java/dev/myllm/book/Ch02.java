package dev.myllm.book;

import dev.myllm.data.SlidingWindowDataset;
import dev.myllm.tensor.TorchGenerator;
import dev.myllm.tokenizer.SimpleTokenizer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.HashSet;

/** Chapter 2, working with text data: the short story, the simple tokenizers, GPT-2's BPE, sliding windows, embeddings. */
final class Ch02 {
    private Ch02() {
    }

    static Report run() {
        Report r = new Report("ch02", "Working with text data");
        String rawText = Tokenizers.verdictText();
        r.same("the-verdict.txt characters", String.format("%,d", rawText.length()), "20,479");

        // 2.2–2.3: split on punctuation and whitespace, build the vocabulary
        var preprocessed = SimpleTokenizer.split(rawText);
        r.same("tokens after the regex split", String.format("%,d", preprocessed.size()), "4,690");
        r.same("distinct tokens (vocabulary)", String.format("%,d", new HashSet<>(preprocessed).size()), "1,130");
        SimpleTokenizer v1 = SimpleTokenizer.v1(rawText);
        String text = "\"It's the last he painted, you know,\" Mrs. Gisburn said with pardonable pride.";
        r.ints("SimpleTokenizerV1 ids", v1.encode(text, Specials.ERROR),
                "[1, 56, 2, 850, 988, 602, 533, 746, 5, 1126, 596, 5, 1, 67, 7, 38, 851, 1108, 754, 793, 7]");

        // 2.4: <|unk|> and <|endoftext|>
        SimpleTokenizer v2 = SimpleTokenizer.v2(rawText);
        r.same("vocabulary with the two special tokens", String.format("%,d", v2.vocabSize()), "1,132");
        String text2 = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace.";
        r.ints("SimpleTokenizerV2 ids", v2.encode(text2, Specials.ALLOW), "[1131, 5, 355, 1126, 628, 975, 10, 1130, 55, 988, 956, 984, 722, 988, 1131, 7]");

        // 2.5: byte pair encoding
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        String text3 = "Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.";
        r.ints("GPT-2 BPE ids", tokenizer.encode(text3, Specials.ALLOW),
                "[15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13]");
        r.ints("\"Akwirw ier\"", tokenizer.encode("Akwirw ier", Specials.ERROR), "[33901, 86, 343, 86, 220, 959]");
        int[] encText = tokenizer.encode(rawText, Specials.ALLOW);
        r.same("the-verdict in GPT-2 tokens", String.format("%,d", encText.length), "5,145");

        // 2.6: input-target pairs with a sliding window
        SlidingWindowDataset ds = new SlidingWindowDataset(encText, 4, 1);
        int[] x = new int[4], y = new int[4];
        ds.copyInputs(0, x, 0);
        ds.copyTargets(0, y, 0);
        r.ints("first window (max_length 4, stride 1): x", x, "[40, 367, 2885, 1464]");
        r.ints("first window: y", y, "[367, 2885, 1464, 1807]");
        SlidingWindowDataset ds4 = new SlidingWindowDataset(encText, 4, 4);
        ds4.copyInputs(7, x, 0);
        r.ints("8th window with stride 4: x", x, "[284, 3285, 326, 11]");

        // 2.7: token embeddings, torch.manual_seed(123); nn.Embedding(6, 3)
        float[] embedding = new TorchGenerator(123).randn(6 * 3);
        r.numbers("Embedding(6, 3) row 0 (seed 123)", Arrays.copyOf(embedding, 3), "[0.3374, -0.1778, -0.1690]");
        return r;
    }
}
