package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.Download;
import dev.myllm.util.Download.DownloadException;
import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Fetches OpenAI's GPT-2 weights from the Hugging Face hub into a model directory, as
 * {@code huggingface_hub} does: {@code {HF_ENDPOINT}/openai-community/{name}/resolve/main/{file}},
 * with {@code Authorization: Bearer $HF_TOKEN} when set.
 *
 * <p>A HEAD request to the resolve URL (redirects not followed) gives the file's metadata: for
 * LFS files the {@code X-Linked-Etag} is the sha256 and {@code X-Linked-Size} the size, and the
 * {@code Location} is the CDN's signed URL (fetched without the token, which is meant for the hub
 * only); for plain git files the ETag is the git blob sha1. Both are verified. A dropped
 * connection is resumed from the {@code .part} file (here up to {@code attempts} times, and on the
 * next run). {@code model.safetensors} comes first and {@code config.json} last, so a directory
 * with a config is complete; finally the directory is checked as {@link ModelDirectory#check}
 * does. Run again offline, files an earlier run completed are kept. The environment is a
 * function so tests can aim it at a local server.
 */
public final class HubDownload {
    /** The models this fetches, as the hub names them. */
    public static final List<String> MODELS = List.of("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl");
    static final String ORG = "openai-community";
    static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final int MAX_REDIRECTS = 5;

    private final Function<String, String> env;
    private boolean progress = true;
    private int attempts = 3;
    private Consumer<String> log = s -> { };
    private Duration timeout = Duration.ofSeconds(30);

    /** A downloader reading {@code HF_ENDPOINT}, {@code HF_TOKEN} and {@code MYLLM_HOME} through {@code env}. */
    public HubDownload(Function<String, String> env) {
        this.env = Objects.requireNonNull(env);
    }

    /** Shows (default) or hides the progress bars. */
    public HubDownload progress(boolean show) {
        this.progress = show;
        return this;
    }

    /** How many times a dropped connection is tried (resuming) before giving up; at least 1. */
    public HubDownload attempts(int n) {
        this.attempts = Math.max(1, n);
        return this;
    }

    /** How long to wait for a connection, a response or more data before giving up (or resuming). */
    public HubDownload timeout(Duration d) {
        this.timeout = Objects.requireNonNull(d);
        return this;
    }

    /** Where progress notes (a resumed download) go. */
    public HubDownload log(Consumer<String> sink) {
        this.log = Objects.requireNonNull(sink);
        return this;
    }

    /** The hub name of a model ({@code gpt2-small} is accepted for {@code gpt2}); one-line error otherwise. */
    public static String model(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith(ORG + "/")) n = n.substring(ORG.length() + 1);
        if (n.equals("gpt2-small")) n = "gpt2";
        if (!MODELS.contains(n)) throw new IllegalArgumentException("unknown model '" + name + "'; choose one of " + String.join(", ", MODELS));
        return n;
    }

    /** The hub's base URL: {@code HF_ENDPOINT} or https://huggingface.co. */
    public String endpoint() {
        String e = env.apply("HF_ENDPOINT");
        if (e == null || e.isBlank()) return DEFAULT_ENDPOINT;
        e = e.strip();
        while (e.endsWith("/")) e = e.substring(0, e.length() - 1);
        return e;
    }

    /** The default directory for a model: {@code $MYLLM_HOME/models/NAME} ({@code ~/.cache/myllm/models/NAME}). */
    public Path defaultDir(String name) {
        String home = env.apply("MYLLM_HOME");
        Path base = home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache", "myllm");
        return base.resolve("models").resolve(model(name));
    }

    /**
     * Downloads {@code name} into {@code dir} (resuming, skipping complete files) and returns its configuration. Each
     * file is fetched into {@code FILE.part} and checked; only when all are, they are renamed into place together, so a
     * failed or interrupted download leaves no file under its name (the {@code .part} files stay, to be resumed) and
     * an earlier download in {@code dir} as it was.
     */
    public GPTConfig fetch(String name, Path dir) {
        String model = model(name);
        Map<Path, Path> fetched = new LinkedHashMap<>(); // checked .part file -> its name; config.json last
        for (String file : List.of(ModelDirectory.WEIGHTS, ModelDirectory.CONFIG)) {
            Path target = dir.resolve(file);
            Remote r;
            try {
                r = head(ORG + "/" + model, file);
            } catch (DownloadException e) {
                // Offline, but an earlier run completed this file (its checksum record is written last): keep it.
                if (!(e.getCause() instanceof IOException) || !Files.isRegularFile(target)
                        || !Files.isRegularFile(Download.checksumFile(target))) {
                    throw e;
                }
                log.accept(e.getMessage() + "; keeping the complete " + target + " downloaded before");
                continue;
            }
            if (upToDate(target, r)) continue;
            for (int attempt = 1; ; attempt++) {
                try {
                    Download d = Download.of(r.url, target).progress(progress).timeout(timeout).sha256(r.sha256).size(r.size);
                    if (r.sameHost && token() != null) d.header("Authorization", "Bearer " + token());
                    Path part = d.fetchPart();
                    if (r.gitSha1 != null) checkGitSha1(part, r);
                    fetched.put(part, target);
                    break;
                } catch (DownloadException e) {
                    if (!(e.getCause() instanceof IOException) || attempt >= attempts) throw e;
                    log.accept(file + ": " + e.getMessage() + "; resuming (attempt " + (attempt + 1) + " of " + attempts + ")");
                }
            }
        }
        try {
            AtomicFiles.moveAll(fetched);
        } catch (IOException e) {
            throw new DownloadException("cannot put the download in " + dir + ": " + IoErrors.reason(e), e);
        }
        fetched.values().forEach(Download::recordChecksum);
        try {
            return ModelDirectory.check(dir);
        } catch (IllegalArgumentException e) {
            throw new DownloadException("the download from " + endpoint() + " is not a usable model: " + e.getMessage(), e);
        }
    }

    /** Whether {@code file} is there and what the hub announces: its size, and its sha256 or git sha1 where known. */
    private static boolean upToDate(Path file, Remote r) {
        if (!Files.isRegularFile(file)) return false;
        try {
            if (r.size >= 0 && Files.size(file) != r.size) return false;
        } catch (IOException e) {
            return false;
        }
        if (r.sha256 != null) return r.sha256.equals(Download.sha256Of(file));
        return r.gitSha1 == null || r.gitSha1.equals(gitBlobSha1(file));
    }

    /** What a HEAD request says about one file: where to fetch it and how to check it. */
    record Remote(String url, boolean sameHost, String sha256, long size, String gitSha1) {
    }

    Remote head(String repo, String file) {
        String url = endpoint() + "/" + repo + "/resolve/main/" + file;
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new DownloadException("HF_ENDPOINT '" + endpoint() + "' is not a URL", e);
        }
        if (uri.getScheme() == null || uri.getHost() == null) throw new DownloadException("HF_ENDPOINT '" + endpoint() + "' is not an http(s) URL", null);
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(timeout).header("Accept-Encoding", "identity").header("User-Agent", "myllm/0.1");
            if (token() != null) rb.header("Authorization", "Bearer " + token());
            HttpResponse<Void> resp = send(client, rb.build(), url);
            int status = resp.statusCode();
            var h = resp.headers();
            String etag = etag(h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null));
            String sha256 = etag != null && etag.matches("[0-9a-f]{64}") ? etag : null;
            String sha1 = etag != null && etag.matches("[0-9a-f]{40}") ? etag : null;
            long linked = h.firstValueAsLong("X-Linked-Size").orElse(-1);
            if (status >= 300 && status < 400) {
                URI next = uri.resolve(h.firstValue("Location").orElseThrow(
                        () -> new DownloadException(url + ": HTTP " + status + " without a Location", null)));
                boolean same = Objects.equals(next.getHost(), uri.getHost()) && next.getPort() == uri.getPort();
                if (same && linked < 0) { // the hub moved the repo or file: ask again there
                    uri = next;
                    continue;
                }
                return new Remote(next.toString(), same, sha256, linked, null);
            }
            if (status == 200) {
                long size = linked >= 0 ? linked : h.firstValueAsLong("Content-Length").orElse(-1);
                return new Remote(uri.toString(), true, sha256, size, sha256 == null ? sha1 : null);
            }
            throw new DownloadException("cannot download " + url + ": HTTP " + status + switch (status) {
                case 401, 403 -> " (not authorized; set HF_TOKEN if the repository needs a token)";
                case 404 -> " (not found; is HF_ENDPOINT right?)";
                default -> "";
            }, null);
        }
        throw new DownloadException("cannot download " + url + ": more than " + MAX_REDIRECTS + " redirects", null);
    }

    private HttpResponse<Void> send(HttpClient client, HttpRequest req, String url) {
        try {
            return client.send(req, HttpResponse.BodyHandlers.discarding());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("interrupted while contacting " + endpoint(), e);
        } catch (IOException e) {
            String why = e instanceof HttpConnectTimeoutException || e instanceof ConnectException || e.getCause() instanceof UnknownHostException
                    || e instanceof UnknownHostException ? "cannot connect (offline?)"
                    : e instanceof HttpTimeoutException ? "timed out" : String.valueOf(e.getMessage()).replace('\n', ' ');
            throw new DownloadException("cannot reach " + endpoint() + " for " + url + ": " + why, e);
        }
    }

    private String token() {
        String t = env.apply("HF_TOKEN");
        return t == null || t.isBlank() ? null : t.strip();
    }

    /** An ETag without its weak marker and quotes, lower-cased. */
    static String etag(String raw) {
        if (raw == null) return null;
        String e = raw.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.toLowerCase(Locale.ROOT);
    }

    /** Git's blob id of a file: sha1 of {@code "blob <size>\0"} and the bytes; the hub's ETag for non-LFS files. */
    static String gitBlobSha1(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(md.digest(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void checkGitSha1(Path file, Remote r) {
        String got = gitBlobSha1(file);
        if (!got.equals(r.gitSha1)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the error below is what matters
            }
            throw new DownloadException("checksum mismatch for " + r.url + ": git sha1 " + got + ", expected " + r.gitSha1, null);
        }
    }
}
