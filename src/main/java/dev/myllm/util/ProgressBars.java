package dev.myllm.util;

import java.util.Objects;

/**
 * Whether the progress bars of long commands (downloads, learning a vocabulary) are drawn, and what draws a download's:
 * only the command line ({@link #enable(Drawer)}, with its own drawer on stderr; a program using the library hears
 * nothing), and only in a terminal, where they redraw in place. In a pipe or a CI log they would be hundreds of
 * carriage-return redraws; there the commands' own closing lines say what was done.
 */
public final class ProgressBars {
    /** One bar's progress, reported as the work goes and closed when it ends (done or failed). */
    public interface Bar extends AutoCloseable {
        /**
         * Reports more of the work done.
         *
         * @param bytes how many more bytes are done
         */
        void stepBy(long bytes);

        @Override
        void close();
    }

    /** Starts the bar of one download: the command line gives one that draws it on stderr. */
    @FunctionalInterface
    public interface Drawer {
        /**
         * A bar for one file.
         *
         * @param task  what is fetched (the file's name)
         * @param total its size in bytes (0: not known)
         * @param start the bytes already there (a resumed download)
         * @return the bar to report to
         */
        Bar start(String task, long total, long start);
    }

    private static volatile Drawer drawer;

    private ProgressBars() {
    }

    /**
     * Lets this process draw progress bars with {@code drawer} (the command line's entry point calls it).
     *
     * @param drawer draws a download's bar
     */
    public static void enable(Drawer drawer) {
        ProgressBars.drawer = Objects.requireNonNull(drawer, "drawer must not be null");
    }

    /** Whether bars are enabled and this program runs in a terminal (standard input and output), so a bar on stderr is seen redrawn. */
    public static boolean shown() {
        if (drawer == null) return false;
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** The bar of a download of {@code total} bytes (0: not known) from {@code start}, or null when none is shown. */
    static Bar start(String task, long total, long start) {
        Drawer d = drawer;
        return d != null && shown() ? d.start(task, total, start) : null;
    }
}
