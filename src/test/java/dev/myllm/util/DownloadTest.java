package dev.myllm.util;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DownloadTest {
    static final byte[] BODY = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(1000).getBytes(StandardCharsets.US_ASCII);
    static final String SHA = "b5d9fa3e7ca2e7fa3dbd2e6b2be4f8b3c0e7fd7ae9a2f0f0ce1b6d2c2d8ef4a1"; // not the real one
    HttpServer server;
    String base;
    final List<String> ranges = new ArrayList<>();
    final List<String> auth = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/file.txt", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            int from = range == null ? 0 : Integer.parseInt(range.replaceAll("\\D+(\\d+)-.*", "$1"));
            if (from > 0) ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (BODY.length - 1) + "/" + BODY.length);
            ex.sendResponseHeaders(from > 0 ? 206 : 200, BODY.length - from);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(BODY, from, BODY.length - from);
            }
        });
        server.createContext("/secret", ex -> {
            ex.sendResponseHeaders(401, -1);
            ex.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void downloadsVerifiesAndRecordsTheChecksum(@TempDir Path dir) throws IOException {
        String sha = Download.sha256Of(write(dir.resolve("ref"), BODY));
        Path got = Download.of(base + "/file.txt", dir.resolve("sub/out.txt")).sha256(sha).size(BODY.length)
                .header("Authorization", "Bearer t0k").progress(false).run();
        assertThat(Files.readAllBytes(got)).isEqualTo(BODY);
        assertThat(Files.readString(Download.checksumFile(got))).startsWith(sha + "  out.txt");
        assertThat(auth).containsExactly("Bearer t0k");
        // A second run finds the complete file and does not ask the server again.
        Download.of(base + "/file.txt", got).sha256(sha).progress(false).run();
        assertThat(ranges).hasSize(1);
    }

    @Test
    void resumesAPartialFileWithARangeRequest(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("out.txt");
        Files.write(dir.resolve("out.txt.part"), java.util.Arrays.copyOf(BODY, 1000));
        String sha = Download.sha256Of(write(dir.resolve("ref"), BODY));
        Download.of(base + "/file.txt", target).sha256(sha).progress(false).run();
        assertThat(ranges).containsExactly("bytes=1000-");
        assertThat(Files.readAllBytes(target)).isEqualTo(BODY);
        assertThat(dir.resolve("out.txt.part")).doesNotExist();
    }

    @Test
    void failuresAreOneLineAndLeaveNoTarget(@TempDir Path dir) {
        Path target = dir.resolve("out.txt");
        assertThatThrownBy(() -> Download.of(base + "/file.txt", target).sha256(SHA).progress(false).run())
                .hasMessageStartingWith("checksum mismatch for " + base + "/file.txt").hasMessageNotContaining("\n");
        assertThat(target).doesNotExist();
        assertThatThrownBy(() -> Download.of(base + "/file.txt", target).size(5).progress(false).run())
                .hasMessageContaining("expected 5");
        assertThatThrownBy(() -> Download.of(base + "/secret", target).progress(false).run())
                .hasMessageContaining("HTTP 401").hasMessageContaining("HF_TOKEN");
        server.stop(0);
        assertThatThrownBy(() -> Download.of(base + "/file.txt", target).progress(false).run())
                .hasMessageContaining("cannot download").hasMessageContaining("offline");
        assertThat(target).doesNotExist();
        // nor an empty folder made for it (myllm data get NAME offline used to leave datasets/NAME/)
        Path inNewFolder = dir.resolve("datasets/new/out.txt");
        assertThatThrownBy(() -> Download.of(base + "/file.txt", inNewFolder).progress(false).run()).hasMessageContaining("offline");
        assertThat(dir.resolve("datasets/new")).doesNotExist();
    }

    private static Path write(Path p, byte[] b) throws IOException {
        return Files.write(p, b);
    }
}
