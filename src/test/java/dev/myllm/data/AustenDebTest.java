package dev.myllm.data;

import com.sun.net.httpserver.HttpServer;
import dev.myllm.util.Download;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The austen dataset from a {@code .deb} built here and served over local HTTP, as the Debian archive serves it. */
class AustenDebTest {
    static final List<List<String>> BOOKS = List.of(List.of("EMMA", "Emma Woodhouse, handsome"), List.of("MANSFIELD PARK"),
            List.of("NORTHANGER ABBEY"), List.of("PERSUASION"), List.of("PRIDE AND PREJUDICE", "It is a truth"),
            List.of("SENSE AND SENSIBILITY", "café"));
    static final String FILE = "r-cran-janeaustenr_1.0.0-1_all.deb";

    HttpServer server;
    String base;
    final Map<String, byte[]> served = new LinkedHashMap<>();
    final AtomicInteger hits = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            hits.incrementAndGet();
            byte[] body = served.get(ex.getRequestURI().getPath().substring(1));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** A Debian package: ar of debian-binary, control.tar.xz and DATA_MEMBER holding {@code files} under {@code ./}. */
    static byte[] deb(String dataMember, Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
        try (OutputStream c = compressor(dataMember, tarBytes); TarArchiveOutputStream tar = new TarArchiveOutputStream(c)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            for (var f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry("./" + f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        ByteArrayOutputStream control = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new XZCompressorOutputStream(control, 0))) {
            byte[] text = "Package: r-cran-janeaustenr\n".getBytes(StandardCharsets.US_ASCII);
            TarArchiveEntry e = new TarArchiveEntry("./control");
            e.setSize(text.length);
            tar.putArchiveEntry(e);
            tar.write(text);
            tar.closeArchiveEntry();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArArchiveOutputStream ar = new ArArchiveOutputStream(out)) {
            member(ar, "debian-binary", "2.0\n".getBytes(StandardCharsets.US_ASCII));
            member(ar, "control.tar.xz", control.toByteArray());
            member(ar, dataMember, tarBytes.toByteArray());
        }
        return out.toByteArray();
    }

    private static OutputStream compressor(String member, OutputStream out) throws IOException {
        return switch (member) {
            case "data.tar.xz" -> new XZCompressorOutputStream(out, 0);
            case "data.tar.gz" -> new GZIPOutputStream(out);
            default -> out;
        };
    }

    private static void member(ArArchiveOutputStream ar, String name, byte[] body) throws IOException {
        ar.putArchiveEntry(new ArArchiveEntry(name, body.length));
        ar.write(body);
        ar.closeArchiveEntry();
    }

    private static Map<String, byte[]> austenFiles() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("usr/share/doc/r-cran-janeaustenr/copyright", "Files: *\n".getBytes(StandardCharsets.US_ASCII));
        files.put(NamedDatasets.AUSTEN_RDB, CorpusTest.rdbFixture(BOOKS));
        return files;
    }

    private static NamedDatasets.DebFile debFile(byte[] deb, String sha256) {
        return new NamedDatasets.DebFile(List.of("https://deb.example.invalid/" + FILE), FILE, sha256, deb.length);
    }

    private static String sha256(byte[] bytes, Path dir) throws IOException {
        return Download.sha256Of(Files.write(dir.resolve("ref.bin"), bytes));
    }

    @Test
    void austenComesFromTheDebVerifiedAndUnpackedInJava(@TempDir Path dir) throws IOException {
        byte[] deb = deb("data.tar.xz", austenFiles());
        served.put(FILE, deb);
        NamedDatasets ds = new NamedDatasets(dir.resolve("home"), base, false).austenSource(debFile(deb, sha256(deb, dir)), false);
        List<Path> books = ds.fetch("austen");
        assertThat(books).extracting(p -> p.getFileName().toString()).containsExactly("emma.txt", "mansfieldpark.txt",
                "northangerabbey.txt", "persuasion.txt", "prideprejudice.txt", "sensesensibility.txt");
        assertThat(Files.readString(books.get(0))).isEqualTo("EMMA\nEmma Woodhouse, handsome\n");
        assertThat(Files.readString(books.get(5))).isEqualTo("SENSE AND SENSIBILITY\ncafé\n");
        Path cached = dir.resolve("home/debs/" + FILE);
        assertThat(cached).hasBinaryContent(deb);
        assertThat(Files.readString(Download.checksumFile(cached))).startsWith(sha256(deb, dir));
        // Cached: a second fetch does not go to the network.
        assertThat(ds.fetch("austen")).isEqualTo(books);
        assertThat(hits.get()).isEqualTo(1);
    }

    @Test
    void aChecksumMismatchIsOneLineAndLeavesNothing(@TempDir Path dir) throws IOException {
        byte[] deb = deb("data.tar.xz", austenFiles());
        served.put(FILE, deb);
        String wrong = "0".repeat(64);
        // apt-get allowed: a wrong file must not send us elsewhere
        NamedDatasets ds = new NamedDatasets(dir.resolve("home"), base, false).austenSource(debFile(deb, wrong), true);
        assertThatThrownBy(() -> ds.fetch("austen")).hasMessageStartingWith("checksum mismatch for " + base + "/" + FILE)
                .hasMessageContaining("expected " + wrong).message().doesNotContain("\n").doesNotContain("apt-get");
        assertThat(dir.resolve("home/debs/" + FILE)).doesNotExist();
        assertThat(ds.dir("austen").resolve("emma.txt")).doesNotExist();
    }

    @Test
    void aFailedDownloadWithoutAptSaysWhy(@TempDir Path dir) throws IOException {
        byte[] deb = deb("data.tar.xz", austenFiles());
        NamedDatasets ds = new NamedDatasets(dir.resolve("home"), base, false).austenSource(debFile(deb, sha256(deb, dir)), false);
        assertThatThrownBy(() -> ds.fetch("austen")).hasMessage("cannot download " + base + "/" + FILE + ": HTTP 404 (not found)");
    }

    @Test
    void gzipAndPlainDataMembersReadToo(@TempDir Path dir) throws IOException {
        for (String member : List.of("data.tar.gz", "data.tar")) {
            Path deb = Files.write(dir.resolve(member + ".deb"), deb(member, austenFiles()));
            assertThat(DebArchive.readFile(deb, NamedDatasets.AUSTEN_RDB)).isEqualTo(CorpusTest.rdbFixture(BOOKS));
            assertThat(DebArchive.readFile(deb, "/usr/share/doc/r-cran-janeaustenr/copyright")).asString().isEqualTo("Files: *\n");
        }
    }

    @Test
    void badPackagesAreOneLineNamingTheFile(@TempDir Path dir) throws IOException {
        Path deb = Files.write(dir.resolve("a.deb"), deb("data.tar.xz", austenFiles()));
        assertThatThrownBy(() -> DebArchive.readFile(deb, "usr/lib/missing")).hasMessage(deb + ": usr/lib/missing is not in the package");
        Path zst = Files.write(dir.resolve("z.deb"), deb("data.tar.zst", austenFiles()));
        assertThatThrownBy(() -> DebArchive.readFile(zst, NamedDatasets.AUSTEN_RDB))
                .hasMessage(zst + ": data.tar.zst is not supported (only xz, gzip or none)");
        Path text = Files.writeString(dir.resolve("t.deb"), "just text, not an archive");
        assertThatThrownBy(() -> DebArchive.readFile(text, NamedDatasets.AUSTEN_RDB)).hasMessageStartingWith(text + ": ");
        byte[] whole = deb("data.tar.xz", austenFiles());
        Path cut = Files.write(dir.resolve("cut.deb"), java.util.Arrays.copyOf(whole, whole.length - 200));
        assertThatThrownBy(() -> DebArchive.readFile(cut, NamedDatasets.AUSTEN_RDB)).hasMessageStartingWith(cut + ": ");
        // the reason was the exception's message, which for a missing file is the path again
        Path none = dir.resolve("none.deb");
        assertThatThrownBy(() -> DebArchive.readFile(none, NamedDatasets.AUSTEN_RDB))
                .hasMessage(none + ": cannot read the package: no such file or directory");
        Path folder = Files.createDirectory(dir.resolve("folder.deb"));
        assertThatThrownBy(() -> DebArchive.readFile(folder, NamedDatasets.AUSTEN_RDB))
                .hasMessage(folder + ": cannot read the package: Is a directory");
    }
}
