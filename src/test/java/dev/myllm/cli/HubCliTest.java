package dev.myllm.cli;

import dev.myllm.io.FakeHub;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.myllm.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code myllm download} against a local fake hub, {@code myllm export}, and {@code --model DIR}, as a user runs them. */
@Timeout(120)
class HubCliTest {
    static final GPTConfig TINY = new GPTConfig(67, 16, 32, 4, 2, 0f, true, true, 1e-5f);

    @TempDir
    Path tmp;

    @AfterEach
    void restoreEnv() {
        DownloadCommand.env = System::getenv;
    }

    static GPTModel randomModel(long seed) {
        return RandomModels.uniform(TINY, seed);
    }

    static float[] logits(GPTModel m) {
        m.eval();
        try (var g = GradMode.noGrad()) {
            return m.forward(new int[]{1, 2, 3, 60, 61, 9}, 1, 6).toArray();
        }
    }

    @Test
    void downloadThenUseThenExport() throws Exception {
        GPTModel model = randomModel(11);
        Path src = tmp.resolve("src");
        ModelDirectory.save(model, src);
        try (FakeHub hub = new FakeHub(src, "gpt2")) {
            hub.drops.set(1);
            DownloadCommand.env = Map.of("HF_ENDPOINT", hub.endpoint(), "MYLLM_HOME", tmp.resolve("home").toString())::get;
            CliRun r = run("download", "gpt2", "-q");
            assertThat(r.code()).as(r.err()).isZero();
            Path dir = tmp.resolve("home/models/gpt2");
            assertThat(r.out()).isEqualTo("downloaded openai-community/gpt2 (" + String.format("%,d", TINY.parameterCount())
                    + " parameters) to " + dir + "\nuse it with: --model " + dir + "\n");
            assertThat(r.err()).contains("resuming (attempt 2 of 3)");
            assertThat(run("info", "--model", dir.toString()).code()).isZero();

            Path out = tmp.resolve("exported");
            CliRun e = run("export", "--model", dir.toString(), "--out", out.toString());
            assertThat(e.code()).as(e.err()).isZero();
            assertThat(e.out()).startsWith("wrote " + out + " (" + dir + ", " + String.format("%,d", TINY.parameterCount()) + " parameters, f32, model.safetensors ");
            for (String f : new String[]{ModelDirectory.CONFIG, ModelDirectory.WEIGHTS}) {
                assertThat(Files.readAllBytes(out.resolve(f))).as(f).isEqualTo(Files.readAllBytes(src.resolve(f)));
            }
            assertThat(logits(ModelDirectory.load(out))).containsExactly(logits(model));

            Path half = tmp.resolve("half");
            assertThat(run("export", "--model", out.toString(), "--out", half.toString(), "--dtype", "bf16").code()).isZero();
            assertThat(Files.size(half.resolve(ModelDirectory.WEIGHTS))).isLessThan(Files.size(out.resolve(ModelDirectory.WEIGHTS)) / 2 + 4096);
            assertThat(Files.readString(half.resolve(ModelDirectory.CONFIG))).contains("\"torch_dtype\": \"bfloat16\"");
            assertThat(ModelDirectory.load(half).config()).isEqualTo(TINY);
        }
    }

    @Test
    void exportsAPresetWithSeededWeights() {
        Path out = tmp.resolve("p");
        CliRun r = run("export", "--preset", "gpt2-tiny", "--seed", "3", "--out", out.toString(), "--dtype", "f16");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(ModelDirectory.load(out).config()).isEqualTo(GPTConfig.preset("gpt2-tiny"));
    }

    @Test
    void mistakesAreOneLine() throws Exception {
        DownloadCommand.env = Map.of("HF_ENDPOINT", "http://127.0.0.1:1")::get;
        assertOneLine(run("download", "gpt3"), "myllm: unknown model 'gpt3'; choose one of gpt2, gpt2-medium, gpt2-large, gpt2-xl");
        assertOneLine(run("download", "gpt2", "--out", tmp.resolve("o").toString()), "myllm: cannot reach http://127.0.0.1:1 for ");
        assertOneLine(run("download"), "myllm: Missing required parameter: 'NAME'");
        assertThat(run("download", "--help").out()).contains("HF_ENDPOINT", "--out");
        assertThat(run("export", "--help").out()).contains("--dtype", "--model");
        Path none = tmp.resolve("none");
        assertOneLine(run("export", "--model", none.toString(), "--out", tmp.resolve("x").toString()), "myllm: --model " + none + ": no such file or directory");
        assertOneLine(run("info", "--model", none.toString()), "myllm: --model " + none + ": no such file or directory");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertOneLine(run("info", "--model", empty.toString()), "myllm: --model " + empty + ": no config.json");
        // weights that would not load: info described the model and exited 0, where score (and every other command) fails
        Path hollow = tmp.resolve("hollow");
        ModelDirectory.save(randomModel(3), hollow);
        Path weights = hollow.resolve(ModelDirectory.WEIGHTS);
        Files.delete(weights);
        Files.createDirectory(weights);
        for (String command : new String[]{"info", "score"}) {
            CliRun r = command.equals("info") ? run("info", "--model", hollow.toString()) : run("score", "--model", hollow.toString(), "--text", "a b");
            assertOneLine(r, "myllm: --model " + weights + ": is a directory");
        }
        // a link loop: the message came without the --model prefix the others have
        Files.delete(weights);
        Files.createSymbolicLink(weights, weights.getFileName());
        for (String command : new String[]{"info", "score", "generate"}) {
            CliRun r = command.equals("info") ? run("info", "--model", hollow.toString())
                    : command.equals("score") ? run("score", "--model", hollow.toString(), "--text", "a b")
                    : run("generate", "--model", hollow.toString(), "--prompt", "a", "--max-new-tokens", "1");
            assertOneLine(r, "myllm: --model " + weights + ": ");
            assertThat(r.err()).as(command).containsIgnoringCase("symbolic links");
            assertThat(r.err().strip()).as(command).doesNotContain("\n");
        }
        Files.delete(weights);
        Files.write(weights, new byte[]{1, 2, 3});
        assertOneLine(run("info", "--model", hollow.toString()), "myllm: --model " + weights + ": file of 3 bytes is too short for a safetensors header");
        Files.delete(weights);
        assertOneLine(run("info", "--model", hollow.toString()), "myllm: --model " + hollow + ": no model.safetensors");
        assertOneLine(run("export", "--preset", "gpt2-tiny", "--out", tmp.resolve("y").toString(), "--dtype", "f8"), "myllm: --dtype: unknown type 'f8'");
        assertOneLine(run("export", "--preset", "gpt2-tiny"), "myllm: Missing required option: '--out=DIR|FILE'");
        // a missing choice of two read "myllm: Error: Missing required argument ...": picocli's own prefix after ours
        assertOneLine(run("export", "--out", tmp.resolve("z").toString()),
                "myllm: Missing required argument (specify one of these): (--preset=NAME | --model=DIR|FILE)");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertOneLine(run("export", "--preset", "gpt2-tiny", "--out", file.toString()), "myllm: --out " + file + " is a file; give a directory");
        try (FakeHub hub = new FakeHub(exported(), "gpt2")) {
            hub.lie = true;
            DownloadCommand.env = Map.of("HF_ENDPOINT", hub.endpoint())::get;
            assertOneLine(run("download", "gpt2", "-q", "--out", tmp.resolve("bad").toString()), "myllm: checksum mismatch for http://localhost:");
        }
    }

    @Test
    void anOutThatIsAFileIsRefusedBeforeAnyDownload() throws Exception {
        Path file = Files.writeString(tmp.resolve("taken"), "x");
        try (FakeHub hub = new FakeHub(exported(), "gpt2")) {
            DownloadCommand.env = Map.of("HF_ENDPOINT", hub.endpoint())::get;
            // it asked the hub first, then failed writing into the file's place with exit 1
            CliRun r = run("download", "gpt2", "-q", "--out", file.toString());
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("myllm: --out " + file + " is a file; give a directory\n");
            Path under = file.resolve("gpt2");
            CliRun below = run("download", "gpt2", "-q", "--out", under.toString());
            assertThat(below.code()).isEqualTo(2);
            assertThat(below.err()).isEqualTo("myllm: cannot write --out " + under + ": " + file + " is a file, not a directory\n");
            assertThat(hub.requests).isEmpty();
        }
        assertThat(file).hasContent("x");
    }

    private Path exported() {
        Path d = tmp.resolve("served");
        ModelDirectory.save(randomModel(2), d);
        return d;
    }

    private static void assertOneLine(CliRun r, String start) {
        assertThat(r.code()).as(r.err()).isNotZero();
        String first = r.err().lines().findFirst().orElse("");
        assertThat(first).startsWith(start);
        assertThat(r.err().lines().filter(l -> l.contains("\tat ") || l.contains("Exception")).toList()).isEmpty();
    }
}
