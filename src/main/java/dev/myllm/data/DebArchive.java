package dev.myllm.data;

import dev.myllm.util.IoErrors;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads one file out of a Debian package without {@code dpkg}: a {@code .deb} is an {@code ar} archive whose
 * {@code data.tar.xz} (or {@code .gz}, or plain {@code data.tar}) member holds the installed files.
 */
public final class DebArchive {
    private DebArchive() {
    }

    /** The bytes of {@code path} (as installed, e.g. {@code usr/lib/...}) inside {@code deb}; a one-line error if absent. */
    public static byte[] readFile(Path deb, String path) {
        String wanted = strip(path);
        try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)))) {
            ArArchiveEntry member;
            while ((member = ar.getNextEntry()) != null) {
                String name = member.getName();
                if (!name.startsWith("data.tar")) continue;
                try (TarArchiveInputStream tar = new TarArchiveInputStream(decompress(ar, name, deb))) {
                    TarArchiveEntry e;
                    while ((e = tar.getNextEntry()) != null) {
                        if (e.isFile() && strip(e.getName()).equals(wanted)) return tar.readAllBytes();
                    }
                }
                throw new IllegalArgumentException(deb + ": " + wanted + " is not in the package");
            }
            throw new IllegalArgumentException(deb + ": not a Debian package (no data.tar member)");
        } catch (IOException e) {
            // the reason in words: a file exception's message is only the path, which would be named twice
            throw new UncheckedIOException(deb + ": cannot read the package: " + IoErrors.reason(e), e);
        }
    }

    private static InputStream decompress(InputStream member, String name, Path deb) throws IOException {
        return switch (name) {
            case "data.tar" -> member;
            case "data.tar.xz" -> new XZCompressorInputStream(member);
            case "data.tar.gz" -> new GZIPInputStream(member);
            // zstd would need a native library; Debian's own packages use xz
            default -> throw new IllegalArgumentException(deb + ": " + name + " is not supported (only xz, gzip or none)");
        };
    }

    /** Tar names are {@code ./usr/...}; compare without the leading {@code ./} or {@code /}. */
    private static String strip(String name) {
        String s = name;
        while (s.startsWith("./") || s.startsWith("/")) s = s.substring(s.startsWith("./") ? 2 : 1);
        return s;
    }
}
