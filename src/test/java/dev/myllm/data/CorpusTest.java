package dev.myllm.data;

import com.sun.net.httpserver.HttpServer;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CorpusTest {
    static final BpeTokenizer G = BpeTokenizer.gpt2();

    @Test
    void filesFoldersAndGlobsAreDocumentsJoinedByEndOfText(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("docs/sub"));
        Files.writeString(dir.resolve("docs/b.txt"), "Hello world");
        Files.writeString(dir.resolve("docs/sub/a.txt"), " again");
        Files.writeString(dir.resolve("docs/.hidden"), "no");
        Corpus c = new Corpus(new NamedDatasets(dir.resolve("home"), null, false), false);
        int[] t = c.tokens(List.of(dir.resolve("docs").toString()), G);
        assertThat(t).containsExactly(15496, 995, 50256, 757); // b.txt, then sub/a.txt
        int[] g = c.tokens(List.of(dir + "/docs/**.txt"), G);
        assertThat(g).containsExactly(t);
        assertThat(c.tokens(List.of(dir + "/docs/*.txt"), G)).containsExactly(15496, 995);
        assertThatThrownBy(() -> c.tokens(List.of(dir + "/docs/*.md"), G)).hasMessageContaining("no files match");
        assertThatThrownBy(() -> c.tokens(List.of(dir.resolve("missing.txt").toString()), G))
                .hasMessageContaining("missing.txt").hasMessageContaining("no such file");
        Files.writeString(dir.resolve("empty.txt"), "");
        assertThatThrownBy(() -> c.tokens(List.of(dir.resolve("empty.txt").toString()), G)).hasMessageContaining("empty");
    }

    @Test
    void invalidUtf8NamesTheByteOffsetUnlessReplacing(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("bad.txt"), new byte[]{'a', 'b', 'c', (byte) 0xC3, '(', 'd'});
        Corpus strict = new Corpus(new NamedDatasets(dir, null, false), false);
        assertThatThrownBy(() -> strict.tokens(List.of(f.toString()), G))
                .hasMessageContaining("bad.txt").hasMessageContaining("byte offset 3");
        Corpus lenient = new Corpus(new NamedDatasets(dir, null, false), true);
        assertThat(G.decode(lenient.tokens(List.of(f.toString()), G))).isEqualTo("abc\uFFFD(d");
    }

    @Test
    void binFilesRoundTripAndCorruptHeadersAreRefused(@TempDir Path dir) throws IOException {
        int[] tokens = {1, 50256, 65535, 7};
        Path llmc = dir.resolve("a.bin");
        TokenBin.writeLlmc(llmc, tokens, tokens.length);
        assertThat(Files.size(llmc)).isEqualTo(1024 + 8);
        assertThat(TokenBin.read(llmc)).containsExactly(tokens);
        Path raw = dir.resolve("b.bin");
        TokenBin.writeRaw(raw, new int[]{5, 6, 7});
        assertThat(TokenBin.read(raw)).containsExactly(5, 6, 7);
        byte[] bad = Files.readAllBytes(llmc);
        bad[8] = 9; // count 9, but only 4 tokens follow
        Path corrupt = Files.write(dir.resolve("c.bin"), bad);
        assertThatThrownBy(() -> TokenBin.read(corrupt)).hasMessageContaining("c.bin").hasMessageContaining("corrupt .bin header");
        Path odd = Files.write(dir.resolve("d.bin"), new byte[]{1, 2, 3});
        assertThatThrownBy(() -> TokenBin.read(odd)).hasMessageContaining("d.bin");
        Corpus c = new Corpus(new NamedDatasets(dir, null, false), false);
        assertThat(c.tokens(List.of(raw.toString()), G)).containsExactly(5, 6, 7);
        assertThatThrownBy(() -> c.tokens(List.of(llmc.toString()), G)).hasMessageContaining("outside gpt2's vocabulary");
    }

    /** A miniature Rdata.rdb: six zlib records, each an XDR string vector, as janeaustenr ships. */
    static byte[] rdbFixture(List<List<String>> books) throws IOException {
        ByteArrayOutputStream rdb = new ByteArrayOutputStream();
        for (List<String> lines : books) {
            ByteArrayOutputStream x = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(x);
            d.writeBytes("X\n");
            d.writeInt(3);
            d.writeInt(0x040201);
            d.writeInt(0x030500);
            d.writeInt(5);
            d.writeBytes("UTF-8");
            d.writeInt(16);
            d.writeInt(lines.size());
            for (String l : lines) {
                if (l == null) {
                    d.writeInt(9);
                    d.writeInt(-1);
                    continue;
                }
                byte[] b = l.getBytes(StandardCharsets.UTF_8);
                d.writeInt(0x00040009);
                d.writeInt(b.length);
                d.write(b);
            }
            byte[] raw = x.toByteArray();
            Deflater def = new Deflater();
            def.setInput(raw);
            def.finish();
            byte[] buf = new byte[raw.length + 64];
            int n = def.deflate(buf);
            new DataOutputStream(rdb).writeInt(raw.length);
            rdb.write(buf, 0, n);
        }
        return rdb.toByteArray();
    }

    @Test
    void austenRecordsBecomeOneFilePerNovel(@TempDir Path dir) throws IOException {
        List<List<String>> books = List.of(
                Arrays.asList("EMMA", "", "By Jane Austen", null, "Emma Woodhouse, handsome, clever, and rich"),
                List.of("MANSFIELD PARK"), List.of("NORTHANGER ABBEY"), List.of("PERSUASION"),
                List.of("PRIDE AND PREJUDICE", "It is a truth universally acknowledged"), List.of("SENSE AND SENSIBILITY", "café"));
        byte[] rdb = rdbFixture(books);
        NamedDatasets.writeAusten(rdb, "Rdata.rdb", dir.resolve("austen"));
        assertThat(Files.readString(dir.resolve("austen/emma.txt")))
                .isEqualTo("EMMA\n\nBy Jane Austen\n\nEmma Woodhouse, handsome, clever, and rich\n");
        assertThat(Files.readString(dir.resolve("austen/sensesensibility.txt"))).isEqualTo("SENSE AND SENSIBILITY\ncafé\n");
        // The cached files are what `austen` loads: no apt-get is run when they exist.
        NamedDatasets ds = new NamedDatasets(dir.getParent().resolve(dir.getFileName()).resolve("h"), null, false);
        Files.createDirectories(ds.dir("austen"));
        NamedDatasets.writeAusten(rdb, "Rdata.rdb", ds.dir("austen"));
        assertThat(ds.fetch("austen")).hasSize(6);
        byte[] cut = Arrays.copyOf(rdb, rdb.length - 5);
        assertThatThrownBy(() -> RData.readStringVectors(cut, "Rdata.rdb")).hasMessageContaining("Rdata.rdb");
    }

    @Test
    void theVerdictComesFromTheJarWithoutANetwork(@TempDir Path dir) throws IOException {
        // nothing listens on port 1: a download would fail
        NamedDatasets ds = new NamedDatasets(dir, "http://127.0.0.1:1", false);
        List<Path> files = ds.fetch("verdict");
        assertThat(files).containsExactly(dir.resolve("datasets/verdict/the-verdict.txt"));
        assertThat(Files.readString(files.get(0))).isEqualTo(Tokenizers.verdictText());
        assertThat(Files.readString(dir.resolve("datasets/verdict/the-verdict.txt.sha256")))
                .isEqualTo("b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f  the-verdict.txt\n");
        assertThat(new Corpus(ds, false).tokens(List.of("verdict"), G)).hasSize(5145);
        assertThat(ds.fetch("verdict")).isEqualTo(files);
    }

    @Test
    void urlDatasetsDownloadOnceWithTheirChecksum(@TempDir Path dir) throws IOException {
        byte[] story = new byte[1115394];
        Arrays.fill(story, (byte) 'a');
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int[] hits = {0};
        boolean[] wrongSize = {false};
        server.createContext("/input.txt", ex -> {
            hits[0]++;
            byte[] body = wrongSize[0] ? "abc".getBytes() : story;
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            NamedDatasets ds = new NamedDatasets(dir, base, false);
            Corpus c = new Corpus(ds, false);
            assertThat(c.texts(List.of("tinyshakespeare")).get(0)).hasSize(story.length);
            assertThat(c.texts(List.of("tinyshakespeare")).get(0)).hasSize(story.length);
            assertThat(hits[0]).isEqualTo(1);
            assertThat(Files.readString(dir.resolve("datasets/tinyshakespeare/input.txt.sha256")))
                    .startsWith(dev.myllm.util.Download.sha256Of(story));
            wrongSize[0] = true;
            NamedDatasets other = new NamedDatasets(dir.resolve("other"), base, false);
            assertThatThrownBy(() -> other.fetch("tinyshakespeare")).hasMessageContaining("3 bytes, expected 1115394");
            assertThatThrownBy(() -> ds.fetch("wikipedia")).hasMessageContaining("unknown dataset");
        } finally {
            server.stop(0);
        }
    }
}
