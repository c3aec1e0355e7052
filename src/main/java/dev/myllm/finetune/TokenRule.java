package dev.myllm.finetune;

import java.util.Locale;

/**
 * Which position of a padded sequence the classifier reads (chapter 6 and its bonus options):
 * the book's last position (a pad for short texts), the last non-pad token (the book's fix for
 * its issue #990, and Hugging Face's rule), the first position, or the mean over all positions.
 */
public enum TokenRule {
    /** Position T−1, the book's default ({@code model(x)[:, -1, :]}). */
    LAST,
    /** The last non-pad token: {@code count(ids != pad) − 1} per row (an all-pad row gives T−1), as the book's bonus code. */
    FLEXIBLE,
    /** Position 0. */
    FIRST,
    /** The mean over all T positions, pads included (the book's {@code --average_embeddings}). */
    MEAN;

    /** The rule named {@code last}, {@code flexible}, {@code first} or {@code mean}. */
    public static TokenRule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown token rule '" + name + "'; choose last, flexible, first or mean");
        }
    }

    /** The lower-case name used on the command line and in {@code config.json}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The position read in each row of a {@code (rows, cols)} id batch (not defined for {@link #MEAN}). */
    public int[] positions(int[] ids, int rows, int cols, int padId) {
        int[] at = new int[rows];
        for (int r = 0; r < rows; r++) {
            at[r] = switch (this) {
                case LAST -> cols - 1;
                case FIRST -> 0;
                case FLEXIBLE -> {
                    int n = 0;
                    for (int c = 0; c < cols; c++) if (ids[r * cols + c] != padId) n++;
                    yield n == 0 ? cols - 1 : n - 1; // Python's index -1 for an all-pad row
                }
                case MEAN -> throw new IllegalStateException("the mean rule reads every position");
            };
        }
        return at;
    }
}
