package dev.myllm.data;

import java.util.Arrays;

/** Train/validation splits by fraction, of tokens or (as the book's chapter 5 does) of characters. */
public final class Splits {
    /** Two halves of a split. */
    public record Pair<T>(T train, T validation) {
    }

    private Splits() {
    }

    private static int cut(int length, double trainFraction) {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("train fraction must be between 0 and 1 (exclusive), got " + trainFraction);
        }
        return (int) (trainFraction * length); // Python's int(ratio * len) truncates the same way
    }

    /** The first {@code trainFraction} of the tokens for training, the rest for validation. */
    public static Pair<int[]> tokens(int[] tokens, double trainFraction) {
        int k = cut(tokens.length, trainFraction);
        return new Pair<>(Arrays.copyOfRange(tokens, 0, k), Arrays.copyOfRange(tokens, k, tokens.length));
    }

    /** The book's split: by characters of the text, each part tokenized separately afterwards. */
    public static Pair<String> text(String text, double trainFraction) {
        int k = cut(text.length(), trainFraction);
        return new Pair<>(text.substring(0, k), text.substring(k));
    }
}
