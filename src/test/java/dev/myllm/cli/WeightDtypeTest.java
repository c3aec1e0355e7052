package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.nn.Embedding;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.PackedMatrix;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Which layout {@code --dtype f32} keeps the weights in: panels by default, a file's rows where mapped with {@code --mmap}. */
class WeightDtypeTest {
    @TempDir
    Path tmp;

    @Command
    static final class Options {
        @Mixin
        ModelOptions model;
        @Mixin
        WeightDtype weights;
    }

    private static GPTModel build(String... args) {
        Options o = new Options();
        new CommandLine(o).parseArgs(args);
        return o.weights.build(o.model, 7);
    }

    /** The format of every matrix the model computes from (null where a float32 tensor is used as it is). */
    private static List<PackedMatrix.Format> formats(Module m) {
        List<PackedMatrix.Format> out = new ArrayList<>();
        if (m instanceof Linear l) out.add(l.packed() == null ? null : l.packed().format());
        if (m instanceof Embedding e && e.weight().dim(0) > 1024) out.add(e.packed() == null ? null : e.packed().format()); // wte, not wpe
        for (Module c : m.children().values()) out.addAll(formats(c));
        return out;
    }

    @Test
    void float32KeepsItsWeightsInPanelsUnlessAFileIsMapped() {
        assertThat(formats(build("--preset", "gpt2-tiny"))).hasSize(4 * GPTConfig.preset("gpt2-tiny").nLayers() + 1).containsOnly(PackedMatrix.Format.F32_PANELS);
        // a preset has no file to map: --mmap leaves its float32 tensors as they are
        assertThat(formats(build("--preset", "gpt2-tiny", "--mmap"))).containsOnly((PackedMatrix.Format) null);

        GPTConfig c = GPTConfig.preset("gpt2-tiny");
        Path dir = tmp.resolve("m");
        ModelDirectory.save(RandomModels.uniform(c, 3), dir);
        assertThat(formats(build("--model", dir.toString()))).containsOnly(PackedMatrix.Format.F32_PANELS);
        assertThat(formats(build("--model", dir.toString(), "--no-mmap"))).containsOnly(PackedMatrix.Format.F32_PANELS);
        assertThat(formats(build("--model", dir.toString(), "--mmap"))).containsOnly(PackedMatrix.Format.F32);
        assertThat(formats(build("--model", dir.toString(), "--dtype", "f16"))).containsOnly(PackedMatrix.Format.F16);
    }

    @Test
    void aListOfTypesWhereOneGoesSaysWhereListsGo() {
        String message = "myllm: --dtype takes one type here, got 'f32,f16'; a list of types is for bench generate --dtype\n";
        String[][] commands = {
                {"score", "--preset", "gpt2-tiny", "--text", "hi"},
                {"generate", "--preset", "gpt2-tiny", "--prompt", "hi"},
                {"serve", "--preset", "gpt2-tiny", "--port", "0"},
                {"bench", "serve", "--preset", "gpt2-tiny"},
                {"export", "--preset", "gpt2-tiny", "--format", "gguf", "--out", tmp.resolve("x.gguf").toString()},
        };
        for (String[] command : commands) {
            String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--dtype", "f32,f16"))
                    .toArray(String[]::new);
            CliRun run = CliRun.run(args);
            assertThat(run.code()).as(command[0]).isEqualTo(2);
            assertThat(run.err()).as(command[0]).isEqualTo(message);
        }
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
        // where a list is taken, its types are read one by one
        assertThat(BenchGenerateRounds.types("f32, f16")).containsExactly("f32", "f16");
    }

    /** Whether a packed matrix keeps its halves in panels (HalfLayout.Layout.PANELS; a package-private field). */
    private static boolean inPanels(PackedMatrix p) {
        try {
            var f = PackedMatrix.class.getDeclaredField("halfPanels");
            f.setAccessible(true);
            return f.get(p) != null;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static List<PackedMatrix> matrices(Module m) {
        List<PackedMatrix> out = new ArrayList<>();
        if (m instanceof Linear l && l.packed() != null) out.add(l.packed());
        if (m instanceof Embedding e && e.packed() != null) out.add(e.packed());
        for (Module c : m.children().values()) out.addAll(matrices(c));
        return out;
    }

    @Test
    void halvesOfOurOwnMemoryAreInPanelsByDefault() throws ReflectiveOperationException {
        // a preset packed to f16/bf16, and a float32 directory streamed into f16, take panels of
        // halves: by default under the JVM settings the launcher and the tests use
        // (-XX:PerMethodTrapLimit=10000), -Dmyllm.packed.halfPanels=false for tiles
        var field = Class.forName("dev.myllm.tensor.HalfLayout").getDeclaredField("PANEL");
        field.setAccessible(true);
        boolean panels = field.getBoolean(null);
        if (System.getProperty("myllm.packed.halfPanels") == null) assertThat(panels).as("the default path of the test JVM").isTrue();
        for (String t : new String[]{"f16", "bf16"}) {
            List<PackedMatrix> ms = matrices(build("--preset", "gpt2-tiny", "--dtype", t));
            assertThat(ms).hasSize(4 * GPTConfig.preset("gpt2-tiny").nLayers() + 1);
            assertThat(ms).allMatch(p -> inPanels(p) == panels).extracting(PackedMatrix::format).containsOnly(PackedMatrix.Format.valueOf(t.toUpperCase()));
        }
        Path dir = tmp.resolve("h");
        ModelDirectory.save(RandomModels.uniform(GPTConfig.preset("gpt2-tiny"), 3), dir);
        assertThat(matrices(build("--model", dir.toString(), "--dtype", "f16"))).isNotEmpty().allMatch(p -> inPanels(p) == panels);
    }
}
