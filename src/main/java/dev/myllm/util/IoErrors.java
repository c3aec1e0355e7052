package dev.myllm.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** What went wrong in a failed file operation, in words: Java's file exceptions carry only the path as their message. */
public final class IoErrors {
    private IoErrors() {
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
