package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GGUF file of llama-quantize's types (Q4_K, Q5_K, Q6_K, ...) generates, and info says what it holds and runs as. */
class KQuantCliTest {
    private static Path fixture(String name) {
        try {
            return Path.of(KQuantCliTest.class.getResource("/gguf/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void exportWritesQ4KQ5KAndQ6KFilesThatGenerate(@TempDir Path tmp) {
        for (String t : new String[]{"q4_k", "q5_k", "Q6_K"}) {
            Path f = tmp.resolve(t + ".gguf");
            CliRun e = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--dtype", t, "--out", f.toString());
            assertThat(e.code()).as(e.err()).isZero();
            // gpt2-tiny is 64 wide: only ffn_down's rows (256) are whole super-blocks, the others fall back to blocks of 32
            CliRun info = CliRun.run("info", "--model", f.toString());
            assertThat(info.out()).contains(switch (t) {
                case "q4_k" -> "F32 (19 tensors), Q5_0 (7 tensors), Q4_K (2 tensors); file type Q4_K_M";
                case "q5_k" -> "F32 (19 tensors), Q5_1 (7 tensors), Q5_K (2 tensors); file type Q5_K_M";
                default -> "F32 (19 tensors), Q8_0 (7 tensors), Q6_K (2 tensors); file type Q6_K";
            });
            CliRun g = CliRun.run("generate", "--model", f.toString(), "--prompt", "Hello", "--max-new-tokens", "3", "--temperature", "0", "--ids");
            assertThat(g.code()).as(g.err()).isZero();
        }
        CliRun st = CliRun.run("export", "--preset", "gpt2-tiny", "--dtype", "q4_k", "--out", tmp.resolve("dir").toString());
        assertThat(st.code()).isEqualTo(2);
        assertThat(st.err()).contains("--dtype q4_k needs --format gguf");
    }

    @Test
    void exportWritesTheQ4KMMixtureThatGenerates(@TempDir Path tmp) {
        Path f = tmp.resolve("m.gguf");
        CliRun e = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--dtype", "Q4_K_M", "--out", f.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains(", q4_k_m, tokenizer gpt2,");
        // as llama.cpp: the tied token table Q8_0 (64 is not a super-block), block 1's attn_qkv Q8_0 (Q6_K's stand-in) and
        // ffn_down Q6_K, block 0's ffn_down Q4_K, the other matrices Q5_0 (Q4_K's stand-in); GgufMixtureTest has every tensor
        CliRun info = CliRun.run("info", "--model", f.toString());
        assertThat(info.out()).contains("F32 (19 tensors), Q5_0 (5 tensors), Q8_0 (2 tensors), Q4_K (1 tensor), Q6_K (1 tensor); file type Q4_K_M\n");
        CliRun g = CliRun.run("generate", "--model", f.toString(), "--prompt", "Hello", "--max-new-tokens", "3", "--temperature", "0", "--ids");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out().trim().split("\\s+")).hasSizeGreaterThanOrEqualTo(3);
        CliRun st = CliRun.run("export", "--preset", "gpt2-tiny", "--dtype", "q4_k_m", "--out", tmp.resolve("dir").toString());
        assertThat(st.code()).isEqualTo(2);
        assertThat(st.err()).contains("--dtype q4_k_m needs --format gguf");
        CliRun bad = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--dtype", "q3_k_m", "--out", tmp.resolve("x.gguf").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--dtype: unknown type 'q3_k_m'; choose f32, f16, bf16, q8_0, q4_0, q4_1, q4_k, q5_k, q6_k, "
                + "q4_k_s, q4_k_m, q5_k_s or q5_k_m");
    }

    @Test
    void exportWritesTheQ5KMQ5KSAndQ4KSMixturesThatGenerate(@TempDir Path tmp) {
        // gpt2-tiny's types as llama.cpp's llama_model_quantize gave its F32 export (GgufMixtureTest has every tensor): rows of
        // 64 fall back to blocks of 32 (Q5_K to Q5_1, Q4_K to Q5_0, Q6_K and the head to Q8_0); ffn_down's rows of 256 do not
        String[][] cases = {
            {"q5_k_m", "F32 (19 tensors), Q5_1 (5 tensors), Q8_0 (2 tensors), Q5_K (1 tensor), Q6_K (1 tensor); file type Q5_K_M\n"},
            {"Q5_K_S", "F32 (19 tensors), Q5_1 (6 tensors), Q5_K (2 tensors), Q8_0 (1 tensor); file type Q5_K_S\n"},
            {"q4_k_s", "F32 (19 tensors), Q5_0 (4 tensors), Q5_1 (2 tensors), Q4_K (2 tensors), Q8_0 (1 tensor); file type Q4_K_S\n"}};
        for (String[] c : cases) {
            Path f = tmp.resolve(c[0] + ".gguf");
            CliRun e = CliRun.run("export", "--preset", "gpt2-tiny", "--format", "gguf", "--dtype", c[0], "--out", f.toString());
            assertThat(e.code()).as(e.err()).isZero();
            assertThat(e.out()).contains(", " + c[0].toLowerCase(java.util.Locale.ROOT) + ", tokenizer gpt2,");
            CliRun info = CliRun.run("info", "--model", f.toString());
            assertThat(info.out()).as(c[0]).contains(c[1]);
            CliRun g = CliRun.run("generate", "--model", f.toString(), "--prompt", "Hello", "--max-new-tokens", "3", "--temperature", "0", "--ids");
            assertThat(g.code()).as(g.err()).isZero();
            assertThat(g.out().trim().split("\\s+")).hasSizeGreaterThanOrEqualTo(3);
        }
        CliRun st = CliRun.run("export", "--preset", "gpt2-tiny", "--dtype", "q5_k_m", "--out", tmp.resolve("dir").toString());
        assertThat(st.code()).isEqualTo(2);
        assertThat(st.err()).contains("--dtype q5_k_m needs --format gguf");
    }

    @Test
    void aQ4KMFileGeneratesAndInfoNamesItsTypes() {
        String f = fixture("tiny256-q4_k_m.gguf").toString();
        CliRun g = CliRun.run("generate", "--model", f, "--prompt", "Hello the", "--max-new-tokens", "5", "--temperature", "0", "--ids");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out().trim().split("\\s+")).hasSizeGreaterThanOrEqualTo(5);
        CliRun f32 = CliRun.run("generate", "--model", f, "--dtype", "f32", "--prompt", "Hello the", "--max-new-tokens", "5", "--temperature", "0", "--ids");
        assertThat(f32.code()).as(f32.err()).isZero();

        CliRun info = CliRun.run("info", "--model", f);
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("  stored as         F32 (11 tensors), Q4_K (2 tensors), Q6_K (2 tensors), Q5_K (1 tensor); file type Q4_K_M\n")
                .contains("  runs as           q8_0 unless --dtype says otherwise\n");
        CliRun json = CliRun.run("info", "--model", f, "--json");
        assertThat(json.out()).contains("\"gguf_types\":{\"F32\":11,\"Q4_K\":2,\"Q6_K\":2,\"Q5_K\":1}", "\"gguf_file_type\":\"Q4_K_M\"", "\"runs_as\":\"q8_0\"");
    }
}
