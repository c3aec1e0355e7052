package dev.myllm.data;

import dev.myllm.util.IoErrors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.util.Download;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * An npm package's {@code .tgz} fetched as {@code npm pack NAME@VERSION} does: the registry's package metadata gives
 * {@code dist.tarball} and {@code dist.integrity} (a sha512 in Subresource Integrity form), which the download must match.
 */
final class NpmTarball {
    private NpmTarball() {
    }

    /**
     * Fetches {@code pkg@version} from {@code registry} into {@code target} unless a file there already has the
     * {@code pinned} integrity (which, when given, the registry's metadata must also state).
     */
    static Path fetch(String registry, String pkg, String version, String pinned, Path target, boolean progress) {
        try {
            if (pinned != null && Files.isRegularFile(target) && pinned.equals(sha512(target))) return target;
            Files.createDirectories(target.toAbsolutePath().getParent());
            String metaUrl = registry.replaceAll("/+$", "") + "/" + pkg.replace("/", "%2f");
            Path meta = target.resolveSibling(target.getFileName() + ".metadata.json");
            Files.deleteIfExists(meta);
            JsonNode doc;
            try {
                Download.of(metaUrl, meta).progress(false).run();
                doc = new ObjectMapper().readTree(meta.toFile());
            } finally {
                Files.deleteIfExists(meta);
                Files.deleteIfExists(Download.checksumFile(meta));
            }
            JsonNode dist = doc.path("versions").path(version).path("dist");
            String tarball = dist.path("tarball").asText(null);
            String integrity = sri512(dist.path("integrity").asText(""));
            if (tarball == null || integrity == null) {
                throw new IllegalArgumentException(metaUrl + ": no version " + version + " with a dist.tarball and a sha512 dist.integrity");
            }
            if (pinned != null && !pinned.equals(integrity)) {
                throw new IllegalArgumentException(metaUrl + ": " + pkg + "@" + version + " has integrity " + integrity + ", expected " + pinned);
            }
            Files.deleteIfExists(target);
            Download.of(tarball, target).progress(progress).run();
            String got = sha512(target);
            if (!got.equals(integrity)) {
                Files.deleteIfExists(target);
                Files.deleteIfExists(Download.checksumFile(target));
                throw new IllegalArgumentException("integrity mismatch for " + tarball + ": " + got + ", expected " + integrity);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + pkg + "@" + version + ": " + IoErrors.reason(e), e);
        }
    }

    /** The sha512 entry of an SRI string ({@code "sha512-BASE64 [other ...]"}), or null. */
    private static String sri512(String sri) {
        for (String s : sri.trim().split("\\s+")) if (s.startsWith("sha512-")) return s;
        return null;
    }

    /** {@code sha512-BASE64} of a file, as npm writes {@code dist.integrity}. */
    static String sha512(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-512");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            return "sha512-" + Base64.getEncoder().encodeToString(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
