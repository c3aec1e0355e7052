package dev.myllm.data;

import dev.myllm.util.IoErrors;
import dev.myllm.util.AtomicFiles;
import dev.myllm.util.Download;
import dev.myllm.util.MyllmHome;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Named corpora fetched once into {@code $MYLLM_HOME/datasets/NAME}: {@code verdict} copied from the jar (the pinned
 * file, so no network is needed; downloaded only if the jar lacks it), {@code tinyshakespeare} by URL with a size check, {@code austen} from Debian's {@code r-cran-janeaustenr} package: its {@code .deb} fetched
 * over HTTPS from the Debian archive, checked against a pinned sha256 and unpacked in Java, with
 * {@code apt-get download} as the fallback when that download fails.
 */
public final class NamedDatasets {
    /** A dataset fetched from one URL. */
    record UrlDataset(String url, String file, String sha256, long size) {
    }

    static final Map<String, UrlDataset> URLS = Map.of(
            "verdict", new UrlDataset(
                    "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt",
                    "the-verdict.txt", "b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f", 20479),
            // No sha256 could be verified offline for this one: its size is checked and its sha256 recorded on fetch.
            "tinyshakespeare", new UrlDataset(
                    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                    "input.txt", null, 1115394));
    static final List<String> AUSTEN_BOOKS = List.of("emma", "mansfieldpark", "northangerabbey", "persuasion",
            "prideprejudice", "sensesensibility");
    static final String AUSTEN_PACKAGE = "r-cran-janeaustenr";
    static final String AUSTEN_RDB = "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb";

    /** A Debian package file: its archive URLs (tried in order), file name, sha256 and size. */
    record DebFile(List<String> urls, String file, String sha256, long size) {
    }

    /**
     * Debian bookworm's {@code r-cran-janeaustenr_1.0.0-1_all.deb} (Packages: Filename, SHA256, Size). The pool URL
     * serves it while a Debian release carries this version; snapshot.debian.org keeps every file by its sha1 forever.
     */
    static final DebFile AUSTEN_DEB = new DebFile(List.of(
            "https://deb.debian.org/debian/pool/main/r/r-cran-janeaustenr/r-cran-janeaustenr_1.0.0-1_all.deb",
            "https://snapshot.debian.org/file/0526a5841219e475fbbf6e2d3bcd96e6fb0f479d"),
            "r-cran-janeaustenr_1.0.0-1_all.deb", "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95", 1626392);

    private final Path home;
    private final String baseUrl;
    private final boolean progress;
    private DebFile austenDeb = AUSTEN_DEB;
    private boolean aptFallback = true;

    /** Datasets under {@code home}; {@code baseUrl} (may be null) replaces each URL's folder, for mirrors and tests. */
    public NamedDatasets(Path home, String baseUrl, boolean progress) {
        this.home = home;
        this.baseUrl = baseUrl;
        this.progress = progress;
    }

    /** The standard cache ({@code MYLLM_HOME} or {@code ~/.cache/myllm}); {@code MYLLM_DATA_URL} overrides URLs. */
    public static NamedDatasets standard() {
        return new NamedDatasets(MyllmHome.dir(), System.getenv("MYLLM_DATA_URL"), true);
    }

    /** Tests: another {@code .deb} for austen, and whether {@code apt-get} may be tried when it cannot be downloaded. */
    NamedDatasets austenSource(DebFile deb, boolean allowApt) {
        this.austenDeb = deb;
        this.aptFallback = allowApt;
        return this;
    }

    /** The known names. */
    public static List<String> names() {
        return List.of("austen", "tinyshakespeare", "verdict");
    }

    public static boolean isKnown(String name) {
        return names().contains(name);
    }

    /** The folder of one dataset. */
    public Path dir(String name) {
        return home.resolve("datasets").resolve(name);
    }

    /** Fetches {@code name} unless cached; returns its text files (one document each) in order. */
    public List<Path> fetch(String name) {
        if (!isKnown(name)) throw new IllegalArgumentException("unknown dataset: " + name + " (known: " + String.join(", ", names()) + ")");
        if (name.equals("austen")) return fetchAusten();
        UrlDataset d = URLS.get(name);
        if (name.equals("verdict")) {
            Path bundled = copyBundled(name, d, VERDICT_RESOURCE);
            if (bundled != null) return List.of(bundled);
        }
        String url = baseUrl == null ? d.url() : baseUrl.replaceAll("/+$", "") + "/" + d.file();
        Download dl = Download.of(url, dir(name).resolve(d.file())).progress(progress);
        if (d.sha256() != null) dl.sha256(d.sha256());
        if (d.size() >= 0) dl.size(d.size());
        return List.of(dl.run());
    }

    /** The book's story ships in the jar (the simple tokenizer's vocabulary is built from it). */
    static final String VERDICT_RESOURCE = "/dev/myllm/data/the-verdict.txt";

    /**
     * Writes a dataset the jar carries into the cache, as a download would (with its {@code .sha256}), so it needs no
     * network; null when the resource is missing or not the pinned file (then it is downloaded).
     */
    private Path copyBundled(String name, UrlDataset d, String resource) {
        Path target = dir(name).resolve(d.file());
        byte[] bytes;
        try (var in = NamedDatasets.class.getResourceAsStream(resource)) {
            if (in == null) return null;
            bytes = in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
        String sha = Download.sha256Of(bytes);
        if (!sha.equals(d.sha256())) return null;
        if (Files.isRegularFile(target) && Download.sha256Of(target).equals(sha)) return target;
        AtomicFiles.write(target, out -> out.write(bytes));
        AtomicFiles.writeString(Download.checksumFile(target), sha + "  " + target.getFileName() + "\n");
        return target;
    }

    private List<Path> fetchAusten() {
        Path dir = dir("austen");
        List<Path> books = AUSTEN_BOOKS.stream().map(b -> dir.resolve(b + ".txt")).toList();
        if (books.stream().allMatch(Files::isRegularFile)) return books;
        Path deb;
        try {
            deb = downloadDeb(austenDeb);
        } catch (Download.DownloadException e) {
            // A wrong checksum or size is a warning sign, not an outage: stop rather than try elsewhere.
            if (!aptFallback || isMismatch(e)) throw e;
            try {
                return fetchAustenWithApt(dir, books);
            } catch (RuntimeException apt) {
                throw new IllegalStateException(e.getMessage() + "; the apt-get fallback failed too: " + apt.getMessage(), apt);
            }
        }
        writeAusten(DebArchive.readFile(deb, AUSTEN_RDB), deb + ":" + AUSTEN_RDB, dir);
        return books;
    }

    /** The first of the package's URLs that downloads ({@code baseUrl} replaces them all); the file is cached under {@code debs/}. */
    private Path downloadDeb(DebFile d) {
        List<String> urls = baseUrl == null ? d.urls() : List.of(baseUrl.replaceAll("/+$", "") + "/" + d.file());
        Download.DownloadException first = null;
        for (String url : urls) {
            try {
                return Download.of(url, home.resolve("debs").resolve(d.file())).sha256(d.sha256()).size(d.size())
                        .progress(progress).run();
            } catch (Download.DownloadException e) {
                if (isMismatch(e)) throw e;
                if (first == null) first = e;
            }
        }
        throw first;
    }

    private static boolean isMismatch(Download.DownloadException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("checksum mismatch") || m.contains(" bytes, expected ");
    }

    /** The route before the direct download: {@code apt-get download}, then {@code dpkg-deb -x}. */
    private List<Path> fetchAustenWithApt(Path dir, List<Path> books) {
        Path apt = home.resolve("apt");
        try {
            Path rdb = apt.resolve("pkg").resolve(AUSTEN_RDB);
            if (!Files.isRegularFile(rdb)) {
                Path deb = aptDownload(apt);
                run(List.of("dpkg-deb", "-x", deb.toString(), apt.resolve("pkg").toString()), apt, "dpkg-deb -x");
                AtomicFiles.writeString(Download.checksumFile(deb), Download.sha256Of(deb) + "  " + deb.getFileName() + "\n");
            }
            writeAusten(Files.readAllBytes(rdb), rdb.toString(), dir);
            return books;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the austen dataset: " + IoErrors.reason(e), e);
        }
    }

    /** Splits the six records of Rdata.rdb into one text file per novel, lines joined by newlines. */
    static void writeAusten(byte[] rdb, String source, Path dir) {
        List<List<String>> records = RData.readStringVectors(rdb, source);
        if (records.size() != AUSTEN_BOOKS.size()) {
            throw new IllegalArgumentException(source + ": expected " + AUSTEN_BOOKS.size() + " novels, found " + records.size());
        }
        for (int i = 0; i < records.size(); i++) {
            AtomicFiles.writeString(dir.resolve(AUSTEN_BOOKS.get(i) + ".txt"), String.join("\n", records.get(i)) + "\n");
        }
    }

    /** {@code apt-get download} with a private state folder: no root, no change to the system's apt state. */
    private static Path aptDownload(Path apt) throws IOException {
        if (!onPath("apt-get")) {
            throw new IllegalStateException("apt-get is missing here (not Debian/Ubuntu);"
                    + " use the verdict or tinyshakespeare dataset, or your own text files");
        }
        Files.createDirectories(apt.resolve("lists/partial"));
        Files.createDirectories(apt.resolve("cache/archives/partial"));
        Path debs = Files.createDirectories(apt.resolve("debs"));
        List<String> opts = List.of("-o", "Dir::State::Lists=" + apt.resolve("lists"), "-o", "Dir::Cache=" + apt.resolve("cache"),
                "-o", "Debug::NoLocking=1", "-q");
        List<String> update = new ArrayList<>(List.of("apt-get"));
        update.addAll(opts);
        update.add("update");
        run(update, debs, "apt-get update");
        List<String> download = new ArrayList<>(List.of("apt-get"));
        download.addAll(opts);
        download.addAll(List.of("download", AUSTEN_PACKAGE));
        run(download, debs, "apt-get download " + AUSTEN_PACKAGE);
        try (Stream<Path> s = Files.list(debs)) {
            return s.filter(p -> p.getFileName().toString().startsWith(AUSTEN_PACKAGE) && p.toString().endsWith(".deb"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("apt-get download left no " + AUSTEN_PACKAGE + " .deb in " + debs));
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) return true;
        }
        return false;
    }

    private static void run(List<String> cmd, Path dir, String what) throws IOException {
        Path log = Files.createTempFile("myllm-apt", ".log");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(what + " timed out");
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log);
                String last = lines.stream().filter(l -> l.startsWith("E:") || l.startsWith("Err")).reduce((a, b) -> b)
                        .orElse(lines.isEmpty() ? "" : lines.getLast());
                throw new IllegalStateException(what + " failed (exit " + p.exitValue() + "): " + last.strip() + " (offline?)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted");
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
