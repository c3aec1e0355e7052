package dev.myllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks, before minutes of work, that an output path can be written: a run that trains or generates
 * first and fails at its first write loses that work (and used to leave a run directory holding only
 * its metrics log).
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /** A directory the command writes into, made with its parents when missing. */
    static void directory(String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new CliException(option + " " + dir + " is a file; give a directory");
        writableFrom(option, dir, dir);
    }

    /**
     * A model directory the command writes whole: missing, empty, or one holding only a model's files, which it
     * replaces (a folder with anything else in it is refused, so that nothing of the user's is deleted).
     */
    static void modelDirectory(String option, Path dir) {
        directory(option, dir);
        try {
            dev.myllm.io.ModelDirectory.requireReplaceable(dir);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw new CliException(option + " " + e.getMessage());
        }
    }

    /** A file the command writes ({@code what}: "vocabulary file", ...), made with its missing parent directories. */
    static void file(String option, Path file, String what) {
        if (Files.isDirectory(file)) throw new CliException(option + " " + file + " is a directory; give the " + what + " to write");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) writableFrom(option, file, parent);
    }

    /** The nearest existing directory at or above {@code start} must be a directory we may write in. */
    private static void writableFrom(String option, Path given, Path start) {
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (!Files.exists(p)) continue;
            if (!Files.isDirectory(p)) throw new CliException("cannot write " + option + " " + given + ": " + p + " is a file, not a directory");
            if (!Files.isWritable(p)) throw new CliException("cannot write " + option + " " + given + ": " + p + " is not writable");
            return;
        }
    }
}
