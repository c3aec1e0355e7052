package dev.myllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The process's peak resident memory, as the bench commands report it beside their speeds. */
final class PeakMemory {
    private PeakMemory() {
    }

    /** The process's peak resident memory so far (VmHWM) on Linux, else 0. */
    static long bytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        } catch (Exception ignored) {
            // not Linux: no figure
        }
        return 0;
    }

    /** {@link #bytes()} in MiB, as the JSON outputs give it ({@code peak_rss_mb}). */
    static double mib() {
        return bytes() / (1024.0 * 1024.0);
    }

    /** The report's line, {@code "  peak RSS           812 MiB (the whole process so far[, what])"}, or empty where unknown. */
    static String line(String what) {
        long b = bytes();
        return b == 0 ? "" : String.format(Locale.ROOT, "  peak RSS           %.0f MiB (the whole process so far%s)%n",
                b / (1024.0 * 1024.0), what.isEmpty() ? "" : ", " + what);
    }
}
