package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;
import static dev.myllm.cli.ModelCliTest.assertOneLineError;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code export --format gguf} and {@code --model FILE.gguf} / llm.c {@code .bin} on the command line. */
class GgufCliTest {
    @TempDir
    Path dir;

    private static String fixture(String name) {
        try {
            return Path.of(GgufCliTest.class.getResource("/gguf/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void exportedGgufGeneratesWhatTheSourceModelGenerates() {
        Path f = dir.resolve("tiny.gguf");
        CliRun ex = run("export", "--model", fixture("tiny-f32.gguf"), "--format", "gguf", "--dtype", "f32", "--out", f.toString());
        assertThat(ex.code()).as(ex.err()).isZero();
        assertThat(ex.out()).contains("wrote " + f, "f32", "llama-cli -m " + f, "ollama create tiny-f32");
        String[] gen = {"generate", "--prompt", "Hello the world", "--max-new-tokens", "12", "--ids", "--model"};
        CliRun a = run(append(gen, fixture("tiny-f32.gguf")));
        CliRun b = run(append(gen, f.toString()));
        assertThat(a.code()).as(a.err()).isZero();
        // llama.cpp (node-llama-cpp 3.21.1) gave these greedy ids for this file and prompt
        assertThat(a.out().strip()).isEqualTo("42 96 212 129 17 39 51 106 148 54 231 95");
        assertThat(b.out()).isEqualTo(a.out());
        Path q = dir.resolve("tiny-q8.gguf");
        assertThat(run("export", "--model", f.toString(), "--format", "gguf", "--dtype", "q8_0", "--out", q.toString()).code()).isZero();
        assertThat(run(append(gen, q.toString())).code()).isZero();
        CliRun llmc = run("generate", "--prompt", "Hello the world", "--max-new-tokens", "12", "--ids", "--tokenizer", fixture("tiny-f32.gguf"),
                "--model", fixture("tiny-llmc-v3.bin"));
        assertThat(llmc.out()).isEqualTo(a.out());
    }

    @Test
    void halvesMappedOrCopiedGenerateTheSameTokens() {
        // an F16 file read where it is mapped (--mmap, generate's default) and copied into tiles
        // (--no-mmap, serve's default) holds the same weights: the same greedy ids
        Path f = dir.resolve("tiny-f16.gguf");
        assertThat(run("export", "--model", fixture("tiny-f32.gguf"), "--format", "gguf", "--dtype", "f16", "--out", f.toString()).code()).isZero();
        String[] gen = {"generate", "--prompt", "Hello the world", "--max-new-tokens", "12", "--ids", "--model", f.toString()};
        CliRun byDefault = run(gen), mapped = run(append(gen, "--mmap")), copied = run(append(gen, "--no-mmap"));
        assertThat(byDefault.code()).as(byDefault.err()).isZero();
        assertThat(copied.code()).as(copied.err()).isZero();
        assertThat(byDefault.out().strip().split(" ")).hasSize(12);
        assertThat(mapped.out()).isEqualTo(byDefault.out());
        assertThat(copied.out()).isEqualTo(byDefault.out());
        for (String[] cmd : new String[][]{{"serve"}, {"generate"}, {"score"}, {"bench", "generate"}}) {
            assertThat(run(append(cmd, "--help")).out()).as(String.join(" ", cmd)).contains("--[no-]mmap");
        }
    }

    @Test
    void everyInferenceCommandTakesDtype() {
        for (String[] cmd : new String[][]{{"serve"}, {"chat"}, {"eval", "instruct"}, {"bench", "serve"}, {"generate"}, {"score"}}) {
            assertThat(run(append(cmd, "--help")).out()).as(String.join(" ", cmd)).contains("--dtype");
        }
        CliRun q8 = run("chat", "--preset", "gpt2-tiny", "--dtype", "q8_0", "--max-new-tokens", "4", "--instruction", "Name a colour.");
        assertThat(q8.code()).as(q8.err()).isZero();
        CliRun f32 = run("chat", "--preset", "gpt2-tiny", "--dtype", "F32", "--max-new-tokens", "4", "--instruction", "Name a colour.");
        assertThat(f32.code()).as(f32.err()).isZero();
        assertOneLineError(run("chat", "--preset", "gpt2-tiny", "--dtype", "f8", "--instruction", "x"), "--dtype", "unknown type 'f8'");
        assertOneLineError(run("serve", "--preset", "gpt2-tiny", "--dtype", "int4"), "--dtype", "unknown type 'int4'");
    }

    @Test
    void badArgumentsAndFilesAreOneLineErrors() throws Exception {
        Path f = dir.resolve("x.gguf");
        // read, not written; the choices listed are export's own, the K-quants and their mixtures among them
        assertOneLineError(run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--dtype", "q3_k", "--out", f.toString()), "--dtype", "q3_k",
                "choose f32, f16, bf16, q8_0, q4_0, q4_1, q4_k, q5_k, q6_k, q4_k_s, q4_k_m, q5_k_s or q5_k_m");
        assertOneLineError(run("export", "--preset", "gpt2-tiny", "--format", "onnx", "--out", f.toString()), "--format", "onnx");
        assertOneLineError(run("export", "--preset", "gpt2-tiny", "--dtype", "q8_0", "--out", dir.resolve("d").toString()), "needs --format gguf");
        assertOneLineError(run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--tokenizer", "simple", "--out", f.toString()),
                "cannot export to GGUF", "not byte-level BPE");
        assertThat(Files.exists(f)).isFalse();
        Path junk = dir.resolve("junk.gguf");
        Files.write(junk, "GGUF\u0003\u0000\u0000\u0000garbage".getBytes());
        assertOneLineError(run("generate", "--model", junk.toString(), "--prompt", "x"), junk.toString());
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        assertOneLineError(run("generate", "--model", text.toString(), "--prompt", "x"), "not a model directory, GGUF file or llm.c checkpoint");
        assertOneLineError(run("generate", "--model", dir.resolve("none.gguf").toString(), "--prompt", "x"), "none.gguf: no such file or directory");
    }

    private static String[] append(String[] a, String x) {
        String[] b = java.util.Arrays.copyOf(a, a.length + 1);
        b[a.length] = x;
        return b;
    }
}
