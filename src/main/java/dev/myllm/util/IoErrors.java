package dev.myllm.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** What went wrong in a failed file operation, in words: Java's file exceptions carry only the path as their message. */
public final class IoErrors {
    private IoErrors() {
    }

    /**
     * Why {@code file} is no file to read, or null when it is one: "is a directory", "no such file or directory",
     * or the system's reason ("Too many levels of symbolic links" for a link loop), for a message naming it.
     * {@link Files#isRegularFile} says only false, and a caller's "no such file" would then be wrong.
     */
    public static String notAFile(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (a.isRegularFile()) return null;
            return a.isDirectory() ? "is a directory" : "is not a regular file";
        } catch (IOException e) {
            return reason(e);
        }
    }

    /**
     * Why what is at {@code file} is no file to read ("is a directory", a link loop's "Too many levels of symbolic
     * links"), or null when it is a regular file or nothing is there: a caller that reports a missing file its own way
     * then does not call a directory in its place missing.
     */
    public static String inPlaceOfFile(Path file) {
        String why = notAFile(file);
        return why != null && Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? why : null;
    }

    /**
     * The reason ("no such file or directory", "permission denied") for a message that names the file the user gave:
     * the path in the exception may be a temporary file of ours.
     */
    public static String reason(IOException e) {
        String what;
        if (e instanceof NoSuchFileException) what = "no such file or directory";
        else if (e instanceof AccessDeniedException) what = "permission denied";
        else if (e instanceof FileAlreadyExistsException) what = "not a directory (a file is in its place)";
        else if (e instanceof NotDirectoryException) what = "not a directory";
        else if (e instanceof DirectoryNotEmptyException) what = "directory not empty";
        else if (e instanceof FileSystemException f && f.getReason() != null) what = f.getReason();
        else if (e instanceof java.nio.charset.CharacterCodingException) what = "not UTF-8 text"; // its own message: "Input length = 1"
        else return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
        return what;
    }
}
