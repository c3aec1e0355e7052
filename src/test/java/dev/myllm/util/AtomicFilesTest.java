package dev.myllm.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files, sets of files and directories appear whole or not at all, and a failed write leaves what was there. */
class AtomicFilesTest {

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static AtomicFiles.Writer text(String s) {
        return out -> out.write(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aFileThatFailsToBeWrittenLeavesTheOldOne(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.txt");
        AtomicFiles.writeString(f, "old");
        assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
            out.write("half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("No space left on device");
        })).isInstanceOf(UncheckedIOException.class).hasMessage("cannot write " + f + ": No space left on device");
        assertThat(f).hasContent("old");
        try (AutoCloseable x = AtomicFiles.failWritesOf("a.txt")) {
            assertThatThrownBy(() -> AtomicFiles.writeString(f, "new")).hasMessageContaining("No space left on device");
        }
        assertThat(f).hasContent("old");
        AtomicFiles.writeString(f, "new");
        assertThat(f).hasContent("new");
        assertThat(names(dir)).containsExactly("a.txt");
        // a link is written through and kept; a loop is an error
        Path link = Files.createSymbolicLink(dir.resolve("link.txt"), f.getFileName());
        AtomicFiles.writeString(link, "through the link");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(f).hasContent("through the link");
        Path loop = Files.createSymbolicLink(dir.resolve("loop"), Path.of("loop"));
        assertThatThrownBy(() -> AtomicFiles.writeString(loop, "x")).hasMessageStartingWith("cannot write " + loop + ": ");
        assertThat(Files.isSymbolicLink(loop)).isTrue();
        Files.delete(link);
        Files.delete(loop);
        // a directory in a file's place is not replaced by the file
        Files.createDirectory(dir.resolve("d"));
        assertThatThrownBy(() -> AtomicFiles.writeString(dir.resolve("d"), "x")).hasMessage("cannot write " + dir.resolve("d") + ": Is a directory");
        assertThat(dir.resolve("d")).isDirectory();
    }

    @Test
    void filesWrittenTogetherAppearTogetherOrNotAtAll(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("model.gguf"), b = dir.resolve("Modelfile");
        AtomicFiles.writeString(a, "old model");
        Map<Path, AtomicFiles.Writer> both = new LinkedHashMap<>();
        both.put(a, text("new model"));
        both.put(b, text("FROM ./model.gguf"));
        try (AutoCloseable x = AtomicFiles.failWritesOf("Modelfile")) {
            assertThatThrownBy(() -> AtomicFiles.writeAll(both)).isInstanceOf(IOException.class);
        }
        assertThat(a).hasContent("old model");
        assertThat(names(dir)).containsExactly("model.gguf");
        AtomicFiles.writeAll(both);
        assertThat(a).hasContent("new model");
        assertThat(b).hasContent("FROM ./model.gguf");
        assertThat(names(dir)).containsExactly("Modelfile", "model.gguf");
    }

    @Test
    void aDirectoryIsReplacedWholeAndKeptWhenItsWriteFails(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        AtomicFiles.DirectoryWriter two = d -> {
            AtomicFiles.writeString(d.resolve("weights"), "w2");
            AtomicFiles.writeString(d.resolve("config"), "c2");
        };
        // new: nothing under the name after a failure part-way
        try (AutoCloseable x = AtomicFiles.failWritesOf("config")) {
            assertThatThrownBy(() -> AtomicFiles.writeDirectory(out, two)).isInstanceOf(UncheckedIOException.class)
                    .hasMessageStartingWith("cannot write " + out + ": ");
        }
        assertThat(names(dir)).isEmpty();
        // existing: as it was after a failure, replaced whole (its other files gone) after a success
        Files.createDirectories(out);
        Files.writeString(out.resolve("weights"), "w1");
        Files.writeString(out.resolve("tokenizer"), "t1");
        try (AutoCloseable x = AtomicFiles.failWritesOf("config")) {
            assertThatThrownBy(() -> AtomicFiles.writeDirectory(out, two)).isInstanceOf(UncheckedIOException.class);
        }
        assertThatThrownBy(() -> AtomicFiles.writeDirectory(out, d -> {
            throw new IllegalStateException("the model cannot be built");
        })).hasMessage("the model cannot be built");
        assertThat(names(out)).containsExactly("tokenizer", "weights");
        assertThat(out.resolve("weights")).hasContent("w1");
        assertThat(names(dir)).containsExactly("out");
        AtomicFiles.writeDirectory(out, two);
        assertThat(names(out)).containsExactly("config", "weights");
        assertThat(out.resolve("weights")).hasContent("w2");
        assertThat(names(dir)).containsExactly("out");
        // a file in the directory's place is refused, not replaced
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> AtomicFiles.writeDirectory(file, two)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": exists and is not a directory");
        assertThat(file).hasContent("x");
    }
}
