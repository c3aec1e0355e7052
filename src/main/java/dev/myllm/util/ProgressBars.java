package dev.myllm.util;

/**
 * Whether the progress bars of long commands (downloads, learning a vocabulary) are drawn: only for
 * the command line ({@link #enable()}; a program using the library hears nothing on stderr), and only
 * in a terminal, where they redraw in place. In a pipe or a CI log they would be hundreds of
 * carriage-return redraws; there the commands' own closing lines say what was done.
 */
public final class ProgressBars {
    private static volatile boolean enabled;

    private ProgressBars() {
    }

    /** Lets this process draw progress bars (the command line's entry point calls it). */
    public static void enable() {
        enabled = true;
    }

    /** Whether bars are enabled and this program runs in a terminal (standard input and output), so a bar on stderr is seen redrawn. */
    public static boolean shown() {
        if (!enabled) return false;
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }
}
