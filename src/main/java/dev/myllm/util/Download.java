package dev.myllm.util;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads one URL to a file: a progress bar where the command line draws them ({@link ProgressBars}), resume of a
 * partial {@code .part} file with a Range request, optional size and sha256 checks (the checksum is recorded in
 * {@code FILE.sha256}), extra headers (e.g. a Hugging Face token), and an atomic rename so the target is either absent
 * or complete.
 */
public final class Download {
    /** Raised with a one-line message when a download cannot be completed. */
    public static final class DownloadException extends RuntimeException {
        public DownloadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String url;
    private final Path target;
    private String sha256;
    private long expectedSize = -1;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private boolean progress = true;
    private Duration timeout = Duration.ofSeconds(30);

    private Download(String url, Path target) {
        this.url = url;
        this.target = target;
    }

    /** A download of {@code url} into {@code target}. */
    public static Download of(String url, Path target) {
        return new Download(url, target);
    }

    /** Expects this sha256 (hex); a mismatch deletes the download and fails. */
    public Download sha256(String hex) {
        this.sha256 = hex == null ? null : hex.toLowerCase();
        return this;
    }

    /** Expects this many bytes. */
    public Download size(long bytes) {
        this.expectedSize = bytes;
        return this;
    }

    /** Adds a request header (e.g. {@code Authorization: Bearer $HF_TOKEN}). */
    public Download header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /** Shows (default; only where {@link ProgressBars} draws bars) or hides the progress bar. */
    public Download progress(boolean show) {
        this.progress = show;
        return this;
    }

    /** Connect and read-idle timeout. */
    public Download timeout(Duration d) {
        this.timeout = d;
        return this;
    }

    /** Where a download of {@code file} is kept until it is complete and checked. */
    public static Path partFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".part");
    }

    /** Records the checksum of a complete {@code file} in {@link #checksumFile}: a later run offline keeps the file. */
    public static void recordChecksum(Path file) {
        AtomicFiles.writeString(checksumFile(file), sha256Of(file) + "  " + file.getFileName() + "\n");
    }

    /** The file where the checksum of {@code file} is recorded. */
    public static Path checksumFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".sha256");
    }

    /**
     * Fetches the file unless it is already there and matches the expected checksum; returns the target.
     * A partial {@code TARGET.part} from an interrupted run is resumed.
     */
    public Path run() {
        if (Files.isRegularFile(target)) {
            try {
                if (matches(target)) return target;
            } catch (IOException e) {
                throw new DownloadException("cannot download " + url + ": " + describe(e), e);
            }
        }
        Path part = fetchPart();
        try {
            AtomicFiles.move(part, target);
        } catch (IOException e) {
            throw new DownloadException("cannot download " + url + ": " + describe(e), e);
        }
        recordChecksum(target);
        return target;
    }

    /**
     * Fetches the file into {@code TARGET.part} (resuming one, or keeping one that is complete already) and checks it;
     * returns it without renaming it, for a caller that puts several files in place together.
     */
    public Path fetchPart() {
        Path dir = target.toAbsolutePath().getParent();
        boolean madeDir = !Files.exists(dir);
        boolean done = false;
        try {
            Files.createDirectories(dir);
            Path part = partFile(target);
            // a run that failed after this file was complete kept it here, not under its name
            if (!(Files.isRegularFile(part) && expectedSize >= 0 && matches(part))) {
                fetch(part);
                verify(part);
            }
            done = true;
            return part;
        } catch (DownloadException e) {
            throw e;
        } catch (IOException e) {
            throw new DownloadException("cannot download " + url + ": " + describe(e), e);
        } finally {
            // a failed first download leaves no empty folder behind (a partial file stays, to be resumed)
            if (!done && madeDir) {
                try {
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // not empty: it holds the partial download
                }
            }
        }
    }

    private boolean matches(Path file) throws IOException {
        if (expectedSize >= 0 && Files.size(file) != expectedSize) return false;
        return sha256 == null || sha256.equals(sha256Of(file));
    }

    private void fetch(Path part) throws IOException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (expectedSize >= 0 && have > expectedSize) {
            Files.delete(part);
            have = 0;
        }
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofHours(6)).GET();
        headers.forEach(rb::header);
        if (have > 0) rb.header("Range", "bytes=" + have + "-");
        HttpResponse<InputStream> resp;
        try {
            resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        int status = resp.statusCode();
        boolean append = status == 206 && have > 0;
        if (status == 416 && have > 0) {
            // The server has nothing past what we hold: the .part file is complete.
            resp.body().close();
            return;
        }
        if (status != 200 && status != 206) {
            resp.body().close();
            throw new DownloadException("cannot download " + url + ": HTTP " + status + reason(status), null);
        }
        if (!append) have = 0;
        long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
        long total = length >= 0 ? have + length : expectedSize;
        try (InputStream in = resp.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
             ProgressBars.Bar bar = progress ? ProgressBars.start(target.getFileName().toString(), Math.max(total, 0), have) : null) {
            byte[] buf = new byte[1 << 16];
            int n;
            // HttpClient's timeouts end at the response headers; a body that stops arriving would
            // block read() for hours, so a watchdog closes the stream after `timeout` without data.
            AtomicLong lastData = new AtomicLong(System.nanoTime());
            AtomicBoolean stalled = new AtomicBoolean();
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Thread.sleep(Math.max(10, Math.min(1000, timeout.toMillis() / 4)));
                        if (System.nanoTime() - lastData.get() > timeout.toNanos()) {
                            stalled.set(true);
                            in.close();
                            return;
                        }
                    }
                } catch (InterruptedException | IOException e) {
                    // the download ended (or closing failed: the read will end anyway)
                }
            });
            try {
                while ((n = in.read(buf)) > 0) {
                    lastData.set(System.nanoTime());
                    out.write(buf, 0, n);
                    if (bar != null) bar.stepBy(n);
                }
            } catch (IOException e) {
                if (!stalled.get()) throw e;
            } finally {
                watchdog.interrupt();
            }
            // A closed stream reads as the end: without this the partial file would look complete.
            if (stalled.get()) throw new IOException("no data for "
                    + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms") + " (connection stalled)");
        }
    }

    private void verify(Path part) throws IOException {
        long size = Files.size(part);
        if (expectedSize >= 0 && size != expectedSize) {
            Files.deleteIfExists(part);
            throw new DownloadException("download of " + url + " has " + size + " bytes, expected " + expectedSize, null);
        }
        if (sha256 != null) {
            String got = sha256Of(part);
            if (!got.equals(sha256)) {
                Files.deleteIfExists(part);
                throw new DownloadException("checksum mismatch for " + url + ": sha256 " + got + ", expected " + sha256, null);
            }
        }
    }

    /** The sha256 of a file, as lower-case hex. */
    public static String sha256Of(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sha256 of some bytes, as lower-case hex. */
    public static String sha256Of(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 401, 403 -> " (not authorized; a token may be needed, e.g. HF_TOKEN)";
            case 404 -> " (not found)";
            default -> "";
        };
    }

    private static String describe(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException) return "host not found (offline?)";
            if (t instanceof ConnectException || t instanceof HttpConnectTimeoutException) return "cannot connect (offline?)";
        }
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.replace('\n', ' ');
    }

}
