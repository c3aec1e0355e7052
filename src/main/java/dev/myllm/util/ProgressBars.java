package dev.myllm.util;

/**
 * Whether the progress bars of long commands (downloads, learning a vocabulary) are drawn: only in
 * a terminal, where they redraw in place. In a pipe or a CI log they would be hundreds of
 * carriage-return redraws; there the commands' own closing lines say what was done.
 */
public final class ProgressBars {
    private ProgressBars() {
    }

    /** Whether this program runs in a terminal (standard input and output), so a bar on stderr is seen redrawn. */
    public static boolean shown() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }
}
