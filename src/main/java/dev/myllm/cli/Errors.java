package dev.myllm.cli;

import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Turns any exception into the single line a person reads. */
final class Errors {
    private Errors() {
    }

    static String oneLine(Throwable ex) {
        Throwable t = ex;
        while ((t instanceof UncheckedIOException || t.getClass() == RuntimeException.class)
                && t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        // an UncheckedIOException made with a message of its own names the file the user gave ("cannot write OUT: ...");
        // one that only wraps names what its cause names
        if (t instanceof UncheckedIOException u && u.getCause() != null && !explicitMessage(u)) t = u.getCause();
        String msg;
        if (t instanceof NoSuchFileException e) msg = "file not found: " + e.getFile();
        else if (t instanceof AccessDeniedException e) msg = "permission denied: " + e.getFile();
        else if (t instanceof FileNotFoundException e) msg = "file not found: " + e.getMessage();
        else if (t instanceof OutOfMemoryError) msg = HeapAdvice.outOfMemory();
        else if (t.getMessage() == null || t.getMessage().isBlank()) msg = t.getClass().getSimpleName();
        else msg = t.getMessage();
        return msg.replace('\n', ' ').strip();
    }

    private static boolean explicitMessage(UncheckedIOException u) {
        return u.getMessage() != null && !u.getMessage().equals(u.getCause().toString());
    }
}
