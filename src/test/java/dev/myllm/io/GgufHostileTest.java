package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Malformed and hostile GGUF files and llm.c checkpoints: each loads or is one clear one-line error naming the file. */
class GgufHostileTest {
    @TempDir
    Path dir;
    private int count;

    private Path write(byte[] b) throws IOException {
        Path f = dir.resolve("hostile" + (count++) + ".gguf");
        Files.write(f, b);
        return f;
    }

    /** Everything --model does with a file: configuration, weights, embedded tokenizer. */
    private static void loadAll(Path f) {
        GPTConfig c = ModelDirectory.readConfig(f);
        ModelDirectory.load(f, c);
        ModelFiles.tokenizer(f);
    }

    private static void rejects(Path f, String fragment) {
        Throwable t = catchThrowable(() -> loadAll(f));
        assertThat(t).as("file %s", f).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.getMessage()).startsWith(f.toString() + ": ").contains(fragment).doesNotContain("\n");
    }

    /** Either loads or fails with one IllegalArgumentException line naming the file. */
    private static void loadsOrRejects(Path f) {
        Throwable t = catchThrowable(() -> loadAll(f));
        if (t == null) return;
        assertThat(t).as("file %s: %s", f, t).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.getMessage()).startsWith(f.toString() + ": ").doesNotContain("\n");
    }

    private static byte[] fixtureBytes() throws IOException {
        return Files.readAllBytes(GgufModelTest.fixture("tiny-q8_0.gguf"));
    }

    @Test
    void truncatedFilesAreRejected() throws IOException {
        byte[] full = fixtureBytes();
        Random r = new Random(1);
        for (int len = 0; len < full.length; len += len < 4500 ? 1 + r.nextInt(23) : 1999) {
            Path f = write(Arrays.copyOf(full, len));
            Throwable t = catchThrowable(() -> loadAll(f));
            assertThat(t).as("length %d", len).isInstanceOf(IllegalArgumentException.class);
            assertThat(t.getMessage()).startsWith(f.toString() + ": ").doesNotContain("\n");
            Files.delete(f);
        }
    }

    @Test
    void randomCorruptionLoadsOrIsOneLine() throws IOException {
        byte[] full = fixtureBytes();
        Random r = new Random(42);
        int headerEnd = 4200; // keys, tokens, merges and tensor infos of the fixture lie before this
        for (int i = 0; i < 200; i++) {
            byte[] b = full.clone();
            int edits = 1 + r.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = r.nextInt(headerEnd);
                switch (r.nextInt(3)) {
                    case 0 -> b[at] = (byte) r.nextInt(256);
                    case 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                    default -> b[at] = (byte) (r.nextBoolean() ? 0xFF : 0);
                }
            }
            Path f = write(b);
            loadsOrRejects(f);
            Files.delete(f);
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void headerFieldsAreChecked() throws IOException {
        byte[] full = fixtureBytes();
        byte[] b = full.clone();
        b[0] = 'X';
        rejects(write(b), "not a model directory, GGUF file or llm.c checkpoint");
        b = full.clone();
        le(b).putInt(4, 1);
        rejects(write(b), "GGUF version 1 is not supported");
        b = full.clone();
        le(b).putLong(8, Long.MAX_VALUE);
        rejects(write(b), "tensor count");
        b = full.clone();
        le(b).putLong(16, 1L << 40);
        rejects(write(b), "metadata count");
        rejects(write(Arrays.copyOf(full, 20)), "too short for a GGUF header");
        rejects(write(Arrays.copyOf(full, full.length - 1)), "runs past the end of the file");
    }

    /** Replaces the first occurrence of {@code from} (the same length as {@code to}) in the fixture. */
    private Path patched(String from, byte[] to) throws IOException {
        byte[] b = fixtureBytes();
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + f.length <= b.length; i++) {
            for (int j = 0; j < f.length; j++) {
                if (b[i + j] != f[j]) continue outer;
            }
            System.arraycopy(to, 0, b, i, to.length);
            return write(b);
        }
        throw new AssertionError("not found: " + from);
    }

    @Test
    void keysAndTensorsAreChecked() throws IOException {
        rejects(patched("gpt2.context_length\u0004", "gpt2.context_length\u0005".getBytes(StandardCharsets.UTF_8)),
                "gpt2.context_length has type i32, expected u32");
        rejects(patched("gpt2.attention.layer_norm_epsilon\u0006", "gpt2.attention.layer_norm_epsilon\u0005".getBytes(StandardCharsets.UTF_8)),
                "layer_norm_epsilon has type i32, expected f32");
        rejects(patched("\u0004\u0000\u0000\u0000\u0000\u0000\u0000\u0000gpt2\u000c", "\u0004\u0000\u0000\u0000\u0000\u0000\u0000\u0000gemm\u000c".getBytes(StandardCharsets.UTF_8)),
                "architecture 'gemm' is not supported");
        rejects(patched("gpt2.embedding_length", "gpt2.embedding_lengtX".getBytes(StandardCharsets.UTF_8)), "missing key gpt2.embedding_length");
        rejects(patched("tokenizer.ggml.merges", "tokenizer.ggml.mergeX".getBytes(StandardCharsets.UTF_8)), "missing key tokenizer.ggml.merges");
        rejects(patched("blk.0.ffn_up.weight", "blk.0.ffn_up.weigXt".getBytes(StandardCharsets.UTF_8)), "unexpected tensor 'blk.0.ffn_up.weigXt'");
        rejects(patched("tokenizer.ggml.eos_token_id", "tokenizer.ggml.bos_token_id".getBytes(StandardCharsets.UTF_8)), "key 'tokenizer.ggml.bos_token_id' appears twice");
        // the block count says 3 layers but the file has 2
        byte[] b = fixtureBytes();
        int at = indexOf(b, "gpt2.block_count") + "gpt2.block_count".length() + 4;
        le(b).putInt(at, 3);
        rejects(write(b), "missing tensors blk.2.");
        // the first tensor's ggml type becomes 16 (IQ2_XXS), which we do not read; 12 (Q4_K) we read, but not in rows of 32
        b = fixtureBytes();
        at = indexOf(b, "token_embd.weight") + "token_embd.weight".length() + 4 + 16;
        le(b).putInt(at, 16);
        rejects(write(b), "ggml type 16, which is not supported (F32, F16, Q4_0, Q4_1, Q8_0, BF16, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL)");
        le(b).putInt(at, 12);
        rejects(write(b), "tensor 'token_embd.weight' has rows of 32, not a multiple of Q4_K's block of 256");
        le(b).putInt(at, 0);
        le(b).putLong(at + 4, 3);
        rejects(write(b), "not a multiple of the alignment");
        // strings must be UTF-8: a lone continuation byte and a cut two-byte sequence are refused,
        // a real U+FFFD (EF BF BD) is a character like any other
        b = fixtureBytes();
        at = indexOf(b, "tokenizer.ggml.model");
        b[at + 3] = (byte) 0x80;
        rejects(write(b), "metadata key at byte " + (at) + " is not UTF-8");
        b = fixtureBytes();
        at = indexOf(b, "tokenizer.ggml.model");
        b[at + 19] = (byte) 0xC3;
        rejects(write(b), "metadata key at byte " + (at) + " is not UTF-8");
        b = fixtureBytes();
        at = indexOf(b, "general.name") + "general.name".length() + 4 + 8; // the name's bytes
        b[at] = (byte) 0xEF;
        b[at + 1] = (byte) 0xBF;
        b[at + 2] = (byte) 0xBD;
        try (GgufFile g = GgufFile.open(write(b))) {
            assertThat(g.string("general.name")).startsWith("\uFFFD");
        }
    }

    @Test
    void aHeaderIsParsedOnceUntilTheFileChanges() throws Exception {
        byte[] b = fixtureBytes();
        Path f = write(b);
        GgufFile.Value first;
        try (GgufFile g = GgufFile.open(f)) {
            first = g.get("general.name");
        }
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.get("general.name")).isSameAs(first); // the header kept from the last open
            assertThat(g.array("tokenizer.ggml.tokens", GgufFile.STRING)).isUnmodifiable();
        }
        // the same file rewritten in place, the same size: read again (its time moved on explicitly: a
        // file system's clock may tick more coarsely than this test runs)
        int at = indexOf(b, "tiny-fixture");
        b[at] = 'T';
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(f);
        Files.write(f, b);
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(before.toMillis() + 2000));
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.string("general.name")).isEqualTo("Tiny-fixture");
        }
    }

    private static int indexOf(byte[] b, String s) {
        byte[] f = s.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + f.length <= b.length; i++) {
            for (int j = 0; j < f.length; j++) {
                if (b[i + j] != f[j]) continue outer;
            }
            return i;
        }
        throw new AssertionError("not found: " + s);
    }

    @Test
    void wrongShapesAndHostileValuesAreOneLine() {
        // our own writer with a tensor of the wrong shape
        Path f = dir.resolve("shape.gguf");
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "gpt2");
        w.putU32("gpt2.context_length", 8);
        w.putU32("gpt2.embedding_length", 32);
        w.putU32("gpt2.block_count", 1);
        w.putU32("gpt2.attention.head_count", 2);
        w.putF32("gpt2.attention.layer_norm_epsilon", 1e-5f);
        w.addTensor("token_embd.weight", new long[]{32, 10}, GgufType.F32, new float[320], 0);
        w.addTensor("position_embd.weight", new long[]{16, 8}, GgufType.F32, new float[128], 0);
        w.write(f);
        rejects(f, "tensor 'position_embd.weight' has ne [16, 8], expected [32, 8]");
        Path g = dir.resolve("heads.gguf");
        w = new GgufWriter();
        w.putString("general.architecture", "gpt2");
        w.putU32("gpt2.context_length", 8);
        w.putU32("gpt2.embedding_length", 32);
        w.putU32("gpt2.block_count", 1);
        w.putU32("gpt2.attention.head_count", 5);
        w.putF32("gpt2.attention.layer_norm_epsilon", 1e-5f);
        w.addTensor("token_embd.weight", new long[]{32, 10}, GgufType.F32, new float[320], 0);
        w.write(g);
        rejects(g, "must be a positive multiple of the 5 heads");
        Path h = dir.resolve("bigctx.gguf");
        w = new GgufWriter();
        w.putString("general.architecture", "gpt2");
        w.putU32("gpt2.context_length", 0xFFFFFFFFL);
        w.putU32("gpt2.embedding_length", 32);
        w.putU32("gpt2.block_count", 1);
        w.putU32("gpt2.attention.head_count", 2);
        w.putF32("gpt2.attention.layer_norm_epsilon", 1e-5f);
        w.addTensor("token_embd.weight", new long[]{32, 10}, GgufType.F32, new float[320], 0);
        w.write(h);
        rejects(h, "out of range");
    }

    @Test
    void aFileThatCannotBeReadIsNamedOnceWithTheReason() throws IOException {
        // they said "D/loop.gguf: cannot read: D/loop.gguf: Too many levels of symbolic links ..."
        Path loop = dir.resolve("loop.gguf");
        Files.createSymbolicLink(loop, loop);
        for (Throwable t : List.of(catchThrowable(() -> GgufFile.open(loop)), catchThrowable(() -> LlmcCheckpoint.config(loop)))) {
            assertThat(t).isInstanceOf(UncheckedIOException.class).hasMessageStartingWith(loop + ": cannot read: ")
                    .hasMessageContaining("symbolic links");
            assertThat(t.getMessage().indexOf(loop.toString(), 1)).as(t.getMessage()).isEqualTo(-1);
        }
    }

    @Test
    void llmcCheckpointsAreChecked() throws IOException {
        byte[] full = Files.readAllBytes(GgufModelTest.fixture("tiny-llmc-v3.bin"));
        byte[] b = full.clone();
        le(b).putInt(4, 4);
        rejects(write(b), "llm.c checkpoint version 4 is not supported");
        rejects(write(Arrays.copyOf(full, full.length - 4)), "bytes of parameters, expected");
        rejects(write(Arrays.copyOf(full, 100)), "too short for an llm.c header");
        b = full.clone();
        le(b).putInt(24, 31); // channels 31 with 2 heads
        rejects(write(b), "");
        b = full.clone();
        le(b).putInt(28, 10); // padded vocab smaller than the vocabulary
        rejects(write(b), "impossible sizes");
    }
}
