package dev.myllm.io;

import dev.myllm.model.GPTModel;
import dev.myllm.util.Download.DownloadException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.myllm.io.ModelDirectoryTest.TINY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Downloading from a local fake of the Hugging Face hub: metadata, resume, checksums, tokens, errors. */
@org.junit.jupiter.api.Timeout(60)
class HubDownloadTest {
    @TempDir
    Path tmp;
    GPTModel model;
    Path src;
    FakeHub hub;
    long weightBytes;

    @BeforeEach
    void serve() throws IOException {
        model = ModelDirectoryTest.randomModel(TINY, 9);
        src = tmp.resolve("src");
        ModelDirectory.save(model, src);
        weightBytes = Files.size(src.resolve(ModelDirectory.WEIGHTS));
        hub = new FakeHub(src, "gpt2", "gpt2-medium");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubDownload downloader(String token) {
        Map<String, String> env = token == null ? Map.of("HF_ENDPOINT", hub.endpoint() + "/")
                : Map.of("HF_ENDPOINT", hub.endpoint(), "HF_TOKEN", token);
        return new HubDownload(env::get).progress(false);
    }

    @Test
    void downloadsVerifiesAndLoads() throws IOException {
        Path out = tmp.resolve("out");
        assertThat(downloader("t0k").fetch("gpt2", out)).isEqualTo(TINY);
        for (String f : List.of(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS)) {
            assertThat(Files.readAllBytes(out.resolve(f))).isEqualTo(Files.readAllBytes(src.resolve(f)));
        }
        assertThat(ModelDirectoryTest.logits(ModelDirectory.load(out))).containsExactly(ModelDirectoryTest.logits(model));
        String res = "/openai-community/gpt2/resolve/main/";
        assertThat(hub.requests).containsExactly(
                "HEAD " + res + "model.safetensors Bearer t0k null",
                "GET /cdn" + res + "model.safetensors null null",   // the token is not sent to the CDN
                "HEAD " + res + "config.json Bearer t0k null",
                "GET " + res + "config.json Bearer t0k null");
        // A second run finds both files complete: metadata only.
        hub.requests.clear();
        downloader("t0k").fetch("gpt2", out);
        assertThat(hub.requests).hasSize(2).allMatch(r -> r.startsWith("HEAD "));
    }

    @Test
    void resumesAfterADroppedConnection() {
        Path out = tmp.resolve("out");
        hub.drops.set(1);
        List<String> notes = new java.util.ArrayList<>();
        downloader(null).log(notes::add).fetch("gpt2", out);
        assertThat(notes).singleElement().asString().contains("model.safetensors", "resuming (attempt 2 of 3)");
        List<String> cdn = hub.requests.stream().filter(r -> r.startsWith("GET /cdn")).toList();
        assertThat(cdn).hasSize(2);
        assertThat(cdn.get(0)).endsWith(" null");
        assertThat(cdn.get(1)).endsWith(" bytes=" + weightBytes / 2 + "-");
        assertThat(ModelDirectory.check(out)).isEqualTo(TINY);
    }

    @Test
    void aStalledConnectionTimesOutAndResumes() {
        Path out = tmp.resolve("out");
        hub.stalls.set(1);
        List<String> notes = new java.util.ArrayList<>();
        long t0 = System.nanoTime();
        downloader(null).timeout(java.time.Duration.ofMillis(800)).log(notes::add).fetch("gpt2", out);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(4.5); // not the 5 s the server stalls
        assertThat(notes).singleElement().asString().contains("no data for 800 ms (connection stalled); resuming");
        assertThat(hub.requests).anyMatch(r -> r.endsWith("bytes=" + weightBytes / 2 + "-"));
        assertThat(ModelDirectory.check(out)).isEqualTo(TINY);
    }

    @Test
    void resumesOnTheNextRunWhenOutOfAttempts() throws IOException {
        Path out = tmp.resolve("out");
        hub.drops.set(1);
        Throwable t = catchThrowable(() -> downloader(null).attempts(1).fetch("gpt2-medium", out));
        assertThat(t).isInstanceOf(DownloadException.class).hasMessageContaining("cannot download http://localhost:");
        assertThat(Files.size(out.resolve("model.safetensors.part"))).isEqualTo(weightBytes / 2);
        assertThat(out.resolve("config.json")).doesNotExist();
        downloader(null).fetch("gpt2-medium", out);
        assertThat(hub.requests).last().asString().startsWith("GET /openai-community/gpt2-medium/resolve/main/config.json");
        assertThat(hub.requests).anyMatch(r -> r.endsWith("bytes=" + weightBytes / 2 + "-"));
        assertThat(out.resolve("model.safetensors.part")).doesNotExist();
        assertThat(ModelDirectory.load(out).config()).isEqualTo(TINY);
    }

    @Test
    void aCompleteDownloadIsKeptWhenOffline() {
        Path out = tmp.resolve("out");
        downloader(null).fetch("gpt2", out);
        List<String> notes = new java.util.ArrayList<>();
        var offline = new HubDownload(Map.of("HF_ENDPOINT", "http://127.0.0.1:1")::get).progress(false).log(notes::add);
        assertThat(offline.fetch("gpt2", out)).isEqualTo(TINY);
        assertThat(notes).hasSize(2).allMatch(n -> n.contains("cannot connect (offline?); keeping the complete"));
        Throwable t = catchThrowable(() -> offline.fetch("gpt2", tmp.resolve("elsewhere")));
        assertThat(t).hasMessageContaining("cannot connect (offline?)");
    }

    @Test
    void wrongChecksumFailsAndKeepsNothing() {
        hub.lie = true;
        Path out = tmp.resolve("out");
        Throwable t = catchThrowable(() -> downloader(null).fetch("gpt2", out));
        assertThat(t).isInstanceOf(DownloadException.class).hasMessageContaining("checksum mismatch")
                .hasMessageContaining("expected " + "0".repeat(64));
        assertThat(out.resolve("model.safetensors")).doesNotExist();
        assertThat(out.resolve("model.safetensors.part")).doesNotExist();
    }

    @Test
    void aStaleConfigIsReplaced() throws IOException {
        Path out = tmp.resolve("out");
        downloader(null).fetch("gpt2", out);
        String good = Files.readString(out.resolve("config.json"));
        Files.writeString(out.resolve("config.json"), good.replace("\"n_head\": 4", "\"n_head\": 8")); // same size
        downloader(null).fetch("gpt2", out);
        assertThat(out.resolve("config.json")).hasContent(good);
    }

    @Test
    void aDownloadThatFailsPartWayLeavesNoFileUnderItsName() throws IOException {
        Path out = tmp.resolve("out");
        hub.configFails = true;
        Throwable t = catchThrowable(() -> downloader(null).fetch("gpt2", out));
        assertThat(t).isInstanceOf(DownloadException.class).hasMessageEndingWith("config.json: HTTP 500");
        // before: model.safetensors was in place, a directory that is no model
        assertThat(out.resolve(ModelDirectory.WEIGHTS)).doesNotExist();
        assertThat(out.resolve(ModelDirectory.CONFIG)).doesNotExist();
        assertThat(out.resolve("model.safetensors.part")).hasSize(weightBytes); // complete, kept for the next run
        // the next run puts both in place without fetching the weights again
        hub.configFails = false;
        hub.requests.clear();
        downloader(null).fetch("gpt2", out);
        assertThat(hub.requests).noneMatch(r -> r.startsWith("GET /cdn"));
        assertThat(Files.readAllBytes(out.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(src.resolve(ModelDirectory.WEIGHTS)));
        try (var s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted()).containsExactly("config.json", "config.json.sha256",
                    "model.safetensors", "model.safetensors.sha256");
        }
        assertThat(ModelDirectory.check(out)).isEqualTo(TINY);
    }

    @Test
    void aFailedUpdateKeepsTheEarlierDownload() throws IOException {
        Path out = tmp.resolve("out");
        downloader(null).fetch("gpt2", out);
        String stale = Files.readString(out.resolve("config.json")).replace("\"n_head\": 4", "\"n_head\": 8");
        Files.writeString(out.resolve("config.json"), stale);
        hub.configFails = true;
        assertThat(catchThrowable(() -> downloader(null).fetch("gpt2", out))).isInstanceOf(DownloadException.class);
        // before: the stale config was deleted before its replacement came, leaving weights without a config
        assertThat(out.resolve("config.json")).hasContent(stale);
        assertThat(Files.readAllBytes(out.resolve(ModelDirectory.WEIGHTS))).isEqualTo(Files.readAllBytes(src.resolve(ModelDirectory.WEIGHTS)));
    }

    @Test
    void errorsAreOneLine() {
        Path out = tmp.resolve("out");
        Throwable offline = catchThrowable(() -> new HubDownload(Map.of("HF_ENDPOINT", "http://127.0.0.1:1")::get).fetch("gpt2", out));
        assertThat(offline).isInstanceOf(DownloadException.class)
                .hasMessage("cannot reach http://127.0.0.1:1 for http://127.0.0.1:1/openai-community/gpt2/resolve/main/model.safetensors: cannot connect (offline?)");
        Throwable missing = catchThrowable(() -> downloader(null).fetch("gpt2-xl", out));
        assertThat(missing).hasMessageEndingWith("gpt2-xl/resolve/main/model.safetensors: HTTP 404 (not found; is HF_ENDPOINT right?)");
        assertThat(catchThrowable(() -> HubDownload.model("gpt3"))).hasMessage("unknown model 'gpt3'; choose one of gpt2, gpt2-medium, gpt2-large, gpt2-xl");
        assertThat(catchThrowable(() -> new HubDownload(Map.of("HF_ENDPOINT", "not a url")::get).fetch("gpt2", out))).hasMessageContaining("HF_ENDPOINT 'not a url'");
    }

    @Test
    void aLocalCopyThatCannotBeReadIsNamedOnceWithTheReason() throws IOException {
        // it said "D/loop: cannot read: D/loop: Too many levels of symbolic links ..."
        Path loop = tmp.resolve("loop");
        Files.createSymbolicLink(loop, loop);
        Throwable t = catchThrowable(() -> HubDownload.gitBlobSha1(loop));
        assertThat(t).isInstanceOf(java.io.UncheckedIOException.class).hasMessageStartingWith(loop + ": cannot read: ")
                .hasMessageContaining("symbolic links");
        assertThat(t.getMessage().indexOf(loop.toString(), 1)).as(t.getMessage()).isEqualTo(-1);
    }

    @Test
    void namesEndpointsAndEtags() {
        assertThat(HubDownload.model("GPT2-Small")).isEqualTo("gpt2");
        assertThat(HubDownload.model("openai-community/gpt2-xl")).isEqualTo("gpt2-xl");
        assertThat(new HubDownload(k -> null).endpoint()).isEqualTo("https://huggingface.co");
        assertThat(new HubDownload(Map.of("MYLLM_HOME", "/data/m")::get).defaultDir("gpt2-large")).isEqualTo(Path.of("/data/m/models/gpt2-large"));
        assertThat(HubDownload.etag("W/\"ABC\"")).isEqualTo("abc");
        assertThat(HubDownload.etag("\"248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707\""))
                .isEqualTo("248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707");
    }
}
