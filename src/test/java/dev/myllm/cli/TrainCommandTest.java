package dev.myllm.cli;

import static dev.myllm.cli.CliRun.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.io.ModelDirectory;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.GptModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {


    static List<Double> losses(Path log) throws Exception {
        List<Double> out = new ArrayList<>();
        ObjectMapper om = new ObjectMapper();
        for (String line : Files.readAllLines(log)) out.add(om.readTree(line).get("loss").asDouble());
        return out;
    }

    static String[] tiny(Path data, Path out, int steps) {
        return new String[]{"train", "--data", data.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple", "--out", out.toString(),
                "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--context-length", "16", "--batch-size", "2",
                "--steps", Integer.toString(steps), "--dropout", "0.1", "--warmup-steps", "2", "--lr", "1e-3",
                "--eval-every", "2", "--eval-batches", "2", "--sample-every", "-1", "--checkpoint-every", "3", "--seed", "5"};
    }

    /** The-verdict written into {@code tmp}, the corpus every run here trains on. */
    static Path verdict(Path tmp) throws java.io.IOException {
        return Files.writeString(tmp.resolve("verdict.txt"), Tokenizers.verdictText());
    }

    /** {@link #tiny}'s first three steps run into {@code out} (a checkpoint at step 3); returns {@code out}. */
    static Path threeSteps(Path data, Path out) {
        CliRun r = run(tiny(data, out, 3));
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    /** The verdict in {@code tmp}, and {@link #tiny}'s six steps run whole into {@code tmp/a}: the run others must equal; returns the data file. */
    static Path uninterruptedRun(Path tmp) throws Exception {
        Path data = verdict(tmp);
        CliRun a = run(tiny(data, tmp.resolve("a"), 6));
        assertThat(a.code()).as(a.err()).isZero();
        return data;
    }

    @Test
    void resumeFromTheCommandLineContinuesExactly(@TempDir Path tmp) throws Exception {
        Path data = uninterruptedRun(tmp);
        CliRun c1 = run(tiny(data, tmp.resolve("c"), 6));
        assertThat(c1.code()).isZero();
        Path c = tmp.resolve("c");
        // roll the run directory back to step 3, as if it had been killed there
        Files.writeString(c.resolve("latest"), "step-000003\n");
        CliRun c2 = run("train", "--resume", c.toString());
        assertThat(c2.code()).as(c2.err()).isZero();
        assertThat(losses(c.resolve("metrics.jsonl"))).containsExactlyElementsOf(losses(tmp.resolve("a/metrics.jsonl")));
        var cfg = new ObjectMapper().readTree(c.resolve("model/config.json").toFile());
        assertThat(cfg.get("n_embd").asInt()).isEqualTo(32);
        assertThat(cfg.get("n_layer").asInt()).isEqualTo(1);
        assertThat(c.resolve("loss.png")).exists();
    }

    @Test
    void aRunStartedWithRelativePathsResumesFromAnotherDirectory(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp), out = threeSteps(data, tmp.resolve("r"));
        Path state = out.resolve("step-000003/trainer_state.json");
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(state.toFile());
        var options = (com.fasterxml.jackson.databind.node.ObjectNode) json.get("options");
        assertThat(options.get("working_directory").asText()).isEqualTo(Path.of("").toAbsolutePath().toString());
        // as if typed "--data verdict.txt" in tmp: from here (the test's directory) the relative path names nothing,
        // and --resume said so instead of reading the data from where the run was started
        options.putArray("data").add("verdict.txt");
        options.put("working_directory", tmp.toString());
        Files.writeString(state, json.toString());
        Files.writeString(out.resolve("latest"), "step-000003\n");
        CliRun r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(losses(out.resolve("metrics.jsonl"))).hasSize(4);
    }

    @Test
    void minutesStopsAtTheBudgetWithACheckpointResumeContinues(@TempDir Path tmp) throws Exception {
        Path data = uninterruptedRun(tmp);
        // a budget of 6 microseconds: over after the first step, which is saved as --resume expects
        Path b = tmp.resolve("b");
        List<String> args = new ArrayList<>(List.of(tiny(data, b, 6)));
        args.addAll(List.of("--minutes", "1e-7"));
        // train reports its progress on System.err, which CliRun does not capture
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        CliRun b1;
        try {
            System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
            b1 = run(args.toArray(String[]::new));
        } finally {
            System.setErr(before);
        }
        assertThat(b1.code()).as(b1.err()).isZero();
        assertThat(b.resolve("latest")).hasContent("step-000001");
        assertThat(progress.toString(java.nio.charset.StandardCharsets.UTF_8)).endsWith("stopped at step 1 of 6: --minutes 1.0E-7 used up; continue with: myllm train --resume " + b + "\n");
        assertThat(b.resolve("model/model.safetensors")).exists();
        assertThat(losses(b.resolve("metrics.jsonl"))).hasSize(1);
        // resumed, the saved budget is the default again: one more step
        assertThat(run("train", "--resume", b.toString()).code()).isZero();
        assertThat(b.resolve("latest")).hasContent("step-000002");
        // without a budget the run ends where the uninterrupted one did, step for step
        CliRun b3 = run("train", "--resume", b.toString(), "--minutes", "0");
        assertThat(b3.code()).as(b3.err()).isZero();
        assertThat(b.resolve("latest")).hasContent("step-000006");
        assertThat(losses(b.resolve("metrics.jsonl"))).containsExactlyElementsOf(losses(tmp.resolve("a/metrics.jsonl")));
        assertThat(Files.readAllBytes(b.resolve("model/model.safetensors"))).isEqualTo(Files.readAllBytes(tmp.resolve("a/model/model.safetensors")));

        CliRun bad = run("train", "--data", data.toString(), "--preset", "gpt2-tiny", "--out", tmp.resolve("c").toString(), "--minutes", "-1");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("myllm: --minutes must be >= 0, got -1.0\n");
    }

    @Test
    void aModelTrainedWithItsOwnVocabularyGeneratesWithoutNamingTheTokenizer(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path vocab = tmp.resolve("vocab.json");
        CliRun v = run("tokenizer", "train", "--vocab-size", "300", "--special", "<|endoftext|>", "--out", vocab.toString(), data.toString());
        assertThat(v.code()).as(v.err()).isZero();
        String[] args = tiny(data, tmp.resolve("run"), 2);
        for (int i = 0; i < args.length; i++) if (args[i].equals("simple")) args[i] = vocab.toString();
        CliRun t = run(args);
        assertThat(t.code()).as(t.err()).isZero();
        Path model = tmp.resolve("run/model");
        assertThat(model.resolve("myllm-tokenizer.json")).exists();
        // no --tokenizer: the vocabulary saved beside the model is used (GPT-2's 50,257 ids would not fit)
        CliRun g = run("generate", "--model", model.toString(), "--prompt", "I had always", "--max-new-tokens", "4", "--ids");
        assertThat(g.code()).as(g.err()).isZero();
        String[] ids = g.out().trim().split("\\s+");
        assertThat(ids).hasSizeGreaterThanOrEqualTo(4);
        for (String id : ids) assertThat(Integer.parseInt(id)).isBetween(0, 299);
        CliRun gpt2 = run("generate", "--model", model.toString(), "--tokenizer", "gpt2", "--prompt", "I had", "--max-new-tokens", "1");
        assertThat(gpt2.code()).isNotZero();
        assertThat(gpt2.err()).contains("50257").doesNotContain("Exception");
        // the run directory can move: resume continues where it now is, with the vocabulary it carries
        Path moved = Files.move(tmp.resolve("run"), tmp.resolve("moved"));
        Files.delete(vocab);
        CliRun r = run("train", "--resume", moved.toString(), "--steps", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(moved.resolve("step-000003")).isDirectory();
        assertThat(tmp.resolve("run")).doesNotExist();
    }

    /** {@code train --init INIT} for two steps on the verdict, a checkpoint after each, plus {@code more}. */
    private static String[] fromInit(Path data, String init, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--init", init, "--out", out.toString(), "--steps", "2",
                "--context-length", "16", "--batch-size", "2", "--eval-every", "0", "--eval-batches", "1", "--sample-every", "-1",
                "--checkpoint-every", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void initFromATrainedVocabularyDirectoryOrItsGgufTrainsWithThatVocabulary(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path base = ExportCliTest.modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        Path gguf = tmp.resolve("base.gguf");
        CliRun e = run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(e.code()).as(e.err()).isZero();
        Path own = base.resolve(GptModelStore.TOKENIZER_FILE);
        String text = "Mr. Darcy said,\n  hello to Mrs.<|endoftext|>";
        int[] want = Tokenizers.load(own.toString()).encode(text, Specials.ALLOW);
        // no --tokenizer: the model's own vocabulary (it was GPT-2's, refused: "the tokenizer's vocabulary (50257) is larger than the model's")
        for (Path init : List.of(base, gguf)) {
            Path out = tmp.resolve("from-" + init.getFileName());
            CliRun t = run(fromInit(data, init.toString(), out));
            assertThat(t.code()).as(init + ": " + t.err()).isZero();
            for (String saved : List.of("model", "step-000001", "step-000002")) {
                Path kept = out.resolve(saved).resolve(GptModelStore.TOKENIZER_FILE);
                assertThat(kept).as(init + " " + saved).hasSameTextualContentAs(own);
                assertThat(Tokenizers.load(kept.toString()).encode(text, Specials.ALLOW)).containsExactly(want);
            }
            CliRun g = run("generate", "--model", out.resolve("model").toString(), "--prompt", "I had always", "--max-new-tokens", "3", "--ids");
            assertThat(g.code()).as(g.err()).isZero();
            // resumed, the run reads the vocabulary its checkpoint carries
            CliRun r = run("train", "--resume", out.toString(), "--steps", "3");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(out.resolve("step-000003").resolve(GptModelStore.TOKENIZER_FILE)).hasSameTextualContentAs(own);
        }
        // --tokenizer still decides: GPT-2's does not fit this model
        CliRun gpt2 = run(fromInit(data, base.toString(), tmp.resolve("gpt2"), "--tokenizer", "gpt2"));
        assertThat(gpt2.code()).isEqualTo(2);
        assertThat(gpt2.err()).isEqualTo("myllm: the tokenizer's vocabulary (50257) is larger than the model's ("
                + ModelDirectory.readConfig(base).vocabSize() + ")\n");
        // --tokenizer FILE.gguf borrows the file's vocabulary, as in every other command (it was "not a tokenizer file")
        Path fresh = tmp.resolve("fresh");
        String[] preset = tiny(data, fresh, 2);
        for (int i = 0; i < preset.length; i++) if (preset[i].equals("simple")) preset[i] = gguf.toString();
        CliRun p = run(preset);
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(ModelDirectory.readConfig(fresh.resolve("model")).vocabSize()).isEqualTo(ModelDirectory.readConfig(base).vocabSize());
        assertThat(fresh.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).hasSameTextualContentAs(own);
    }

    @Test
    void aRunFromAModelResumesExactlyAfterTheModelIsGone(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path base = ExportCliTest.modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        String own = Files.readString(base.resolve(GptModelStore.TOKENIZER_FILE));
        Path gguf = tmp.resolve("base.gguf");
        CliRun e = run("export", "--model", base.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(e.code()).as(e.err()).isZero();
        for (Path init : List.of(gguf, base)) {
            String name = init.getFileName().toString();
            Path whole = tmp.resolve("whole-" + name), cut = tmp.resolve("cut-" + name);
            for (Path out : List.of(whole, cut)) {
                CliRun r = run("train", "--data", data.toString(), "--init", init.toString(), "--out", out.toString(), "--steps", "4",
                        "--context-length", "16", "--batch-size", "2", "--dropout", "0.1", "--eval-every", "2", "--eval-batches", "1",
                        "--sample-every", "-1", "--checkpoint-every", "2", "--seed", "7");
                assertThat(r.code()).as(name + ": " + r.err()).isZero();
            }
            // killed at step 2, and the model it started from moved away: the run directory holds all that resuming needs
            Files.writeString(cut.resolve("latest"), "step-000002\n");
            try (var files = Files.walk(init)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
            CliRun r = run("train", "--resume", cut.toString());
            assertThat(r.code()).as(name + ": " + r.err()).isZero();
            assertThat(losses(cut.resolve("metrics.jsonl"))).as(name).hasSize(4).containsExactlyElementsOf(losses(whole.resolve("metrics.jsonl")));
            assertThat(Files.readAllBytes(cut.resolve("model/model.safetensors"))).as(name)
                    .isEqualTo(Files.readAllBytes(whole.resolve("model/model.safetensors")));
            assertThat(cut.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).as(name).hasContent(own);
        }
    }

    @Test
    void anInitModelWithBrokenWeightsIsAUsageErrorNamingInit(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path base = ExportCliTest.modelWithItsOwnVocabulary(tmp.resolve("base"), 300);
        Path weights = base.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length - 100));
        Path out = tmp.resolve("run");
        // its config.json read fine, its weights did not: that was exit 1 with the file's line alone
        CliRun r = run(fromInit(data, base.toString(), out));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("myllm: --init " + weights + ": tensor ").endsWith(" bytes\n");
        Files.delete(weights);
        r = run(fromInit(data, base.toString(), out));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --init " + base + ": no model.safetensors\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void aRunFromAGgufFileThatFailsBeforeItsFirstSaveLeavesNoTokenizerBehind(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path gguf = Path.of(TrainCommandTest.class.getResource("/gguf/tiny-f32.gguf").toURI());
        // a metrics log that cannot be written: the run fails after the data is read and the model built, before any save
        Path log = tmp.resolve("loop.jsonl");
        Files.createSymbolicLink(log, log);
        Path out = tmp.resolve("run");
        CliRun r = run(fromInit(data, gguf.toString(), out, "--log", log.toString()));
        assertThat(r.code()).as(r.err()).isNotZero();
        assertThat(r.err()).startsWith("myllm: cannot write metrics log " + log);
        // the file's embedded vocabulary was written into --out first and left there, beside no model (under either name)
        assertThat(out.resolve(GptModelStore.TOKENIZER_FILE)).doesNotExist();
        assertThat(out.resolve("tokenizer.json")).doesNotExist();
        // a --tokenizer FILE.gguf lent to another source is kept the same way: with the saved models only
        Path llmc = Path.of(TrainCommandTest.class.getResource("/gguf/tiny-llmc-v3.bin").toURI());
        Path out2 = tmp.resolve("run2");
        CliRun r2 = run(fromInit(data, llmc.toString(), out2, "--tokenizer", gguf.toString(), "--log", log.toString()));
        assertThat(r2.code()).as(r2.err()).isNotZero();
        assertThat(out2.resolve(GptModelStore.TOKENIZER_FILE)).doesNotExist();
        assertThat(out2.resolve("tokenizer.json")).doesNotExist();
    }

    @Test
    void initFromAnLlmcCheckpointKeepsGpt2sTokenizerUnlessAGgufLendsOne(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path llmc = Path.of(TrainCommandTest.class.getResource("/gguf/tiny-llmc-v3.bin").toURI());
        Path gguf = Path.of(TrainCommandTest.class.getResource("/gguf/tiny-f32.gguf").toURI());
        int vocab = dev.myllm.io.ModelFiles.readConfig(llmc).vocabSize();
        // an llm.c checkpoint carries no tokenizer: GPT-2's, as before, which this 261-token model cannot take
        CliRun plain = run(fromInit(data, llmc.toString(), tmp.resolve("plain")));
        assertThat(plain.code()).isEqualTo(2);
        assertThat(plain.err()).isEqualTo("myllm: the tokenizer's vocabulary (50257) is larger than the model's (" + vocab + ")\n");
        Path out = tmp.resolve("borrowed");
        CliRun b = run(fromInit(data, llmc.toString(), out, "--tokenizer", gguf.toString()));
        assertThat(b.code()).as(b.err()).isZero();
        String text = "Hello the world";
        int[] want = dev.myllm.io.ModelFiles.tokenizer(gguf).encode(text, Specials.ALLOW);
        for (String saved : List.of("model", "step-000002")) {
            // the GGUF file's vocabulary, not one trained here: kept as the tokenizer.json transformers reads
            Path kept = out.resolve(saved).resolve("tokenizer.json");
            assertThat(dev.myllm.io.ModelTokenizer.file(out.resolve(saved))).isEqualTo(kept);
            assertThat(Tokenizers.load(kept.toString()).encode(text, Specials.ALLOW)).as(saved).containsExactly(want);
        }
    }

    @Test
    void aResumedRunWithItsOwnVocabularyOutlivesTheCheckpointItStartedFrom(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp);
        Path vocab = tmp.resolve("vocab.json");
        assertThat(run("tokenizer", "train", "--vocab-size", "300", "--special", "<|endoftext|>", "--out", vocab.toString(), data.toString()).code()).isZero();
        String[] args = tiny(data, tmp.resolve("run"), 2);
        for (int i = 0; i < args.length; i++) if (args[i].equals("simple")) args[i] = vocab.toString();
        assertThat(run(args).code()).isZero();
        // resumed from step-000002 with checkpoints every 3 steps, two kept: step-000002 is pruned after step 6, and the
        // saves after it used to copy the vocabulary from there ("cannot copy the tokenizer into ...: no such file")
        Path run = tmp.resolve("run");
        CliRun r = run("train", "--resume", run.toString(), "--steps", "10");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(run.resolve("step-000002")).doesNotExist();
        assertThat(run.resolve("step-000010/myllm-tokenizer.json")).hasSameBinaryContentAs(vocab);
        assertThat(run.resolve("model/myllm-tokenizer.json")).hasSameBinaryContentAs(vocab);
    }

    @Test
    void aNewRunDoesNotOverwriteAnEarlierOneInItsDirectory(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp), out = threeSteps(data, tmp.resolve("run"));
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        byte[] weights = Files.readAllBytes(out.resolve("model/model.safetensors"));
        // the same command again used to replace model/ and metrics.jsonl and point latest at its own step 2
        CliRun again = run(tiny(data, out, 2));
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).isEqualTo("myllm: --out " + out + " already holds a run (latest: step-000003); continue it with --resume "
                + out + ", or give another --out\n");
        assertThat(Files.readString(out.resolve("metrics.jsonl"))).isEqualTo(metrics);
        assertThat(Files.readAllBytes(out.resolve("model/model.safetensors"))).isEqualTo(weights);
        assertThat(run("train", "--resume", out.toString(), "--steps", "4").code()).isZero();
    }

    @Test
    void trainTakesReplaceInvalidAsItsErrorSays(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("latin1.txt");
        byte[] text = Tokenizers.verdictText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        text[10] = (byte) 0xe9; // a Latin-1 é in the middle
        Files.write(data, text);
        CliRun bad = run(tiny(data, tmp.resolve("a"), 1));
        assertThat(bad.code()).isNotZero();
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("myllm: --data: " + data + ": invalid UTF-8 at byte offset 10 (use --replace-invalid to decode with replacement characters)\n");
        // the option it points to exists on train (it was an unknown option)
        String[] args = java.util.Arrays.copyOf(tiny(data, tmp.resolve("b"), 1), tiny(data, tmp.resolve("b"), 1).length + 1);
        args[args.length - 1] = "--replace-invalid";
        CliRun ok = run(args);
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    @Test
    void optionsThatDefaultToNotGivenRefuseATypedNegative(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("v.txt");
        Files.writeString(data, Tokenizers.verdictText());
        // -1 (or 0) is how these options say "not given"; typed in, a negative used to mean the default silently
        for (String[] bad : List.of(new String[]{"--warmup-steps", "-1", "--warmup-steps must be >= 0, got -1"},
                new String[]{"--min-lr", "-3", "--min-lr must be >= 0, got -3.0"},
                new String[]{"--dropout", "-0.5", "--dropout must be >= 0, got -0.5"},
                new String[]{"--n-layer", "-2", "--n-layer must be positive, got -2"},
                new String[]{"--n-head", "0", "--n-head must be positive, got 0"})) {
            Path out = tmp.resolve("o");
            CliRun r = run("train", "--data", data.toString(), "--preset", "gpt2-tiny", "--out", out.toString(), "--steps", "1", bad[0], bad[1]);
            assertThat(r.code()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("myllm: " + bad[2] + "\n");
            assertThat(out).doesNotExist();
        }
    }

    @Test
    void aCheckpointFileThatCannotBeReadIsNamedOnceWithTheReason(@TempDir Path tmp) throws Exception {
        Path data = verdict(tmp), out = threeSteps(data, tmp.resolve("o"));
        Path optimizer = out.resolve("step-000003/optimizer.safetensors");
        byte[] moments = Files.readAllBytes(optimizer);
        Files.delete(optimizer);
        Files.createDirectory(optimizer);
        // a checkpoint the user names is input: a usage error (2) naming --resume, as a truncated one already was (it was 1)
        CliRun r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).isEqualTo(2);
        assertThat(lastLine(r)).isEqualTo("myllm: --resume: " + optimizer + ": cannot read: Is a directory");
        // a symlink loop said "myllm: D/optimizer.safetensors: cannot read: D/optimizer.safetensors: Too many levels of symbolic links ..."
        Files.delete(optimizer);
        Files.createSymbolicLink(optimizer, optimizer);
        r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).isEqualTo(2);
        String last = lastLine(r);
        assertThat(last).startsWith("myllm: --resume: " + optimizer + ": cannot read: ").contains("symbolic links").doesNotContain("Exception");
        assertThat(last.indexOf(optimizer.toString(), 8 + "--resume: ".length())).as(last).isEqualTo(-1);
        Files.delete(optimizer);
        r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).isEqualTo(2);
        assertThat(lastLine(r)).isEqualTo("myllm: --resume: " + optimizer + ": no such file");
        Files.write(optimizer, moments);
        // the trainer state: broken JSON, or no step (that said 'Cannot invoke "java.lang.Number.longValue()" ...', exit 1)
        Path state = out.resolve("step-000003/trainer_state.json");
        String saved = Files.readString(state);
        Files.writeString(state, "{");
        r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).isEqualTo(2);
        // Jackson's own words, without where the object started "[Source: REDACTED (`StreamReadFeature...` disabled); line: 1, ...]"
        assertThat(lastLine(r)).isEqualTo("myllm: --resume: " + state + ": not valid JSON: Unexpected end-of-input: expected close marker for Object");
        Files.writeString(state, saved.replace("\"step\"", "\"stop\""));
        r = run("train", "--resume", out.toString(), "--steps", "4");
        assertThat(r.code()).isEqualTo(2);
        assertThat(lastLine(r)).isEqualTo("myllm: --resume: " + state + ": no step number; not a checkpoint's state");
        Files.writeString(state, saved);
        assertThat(run("train", "--resume", out.toString(), "--steps", "4").code()).isZero();
    }

    private static String lastLine(CliRun r) {
        return r.err().strip().lines().reduce((x, y) -> y).orElse("");
    }

    @Test
    void badInputIsOneLineAndNonZero(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("v.txt");
        Files.writeString(data, Tokenizers.verdictText());
        for (String[] args : List.of(
                new String[]{"train", "--data", data.toString(), "--out", tmp.resolve("o").toString()},
                new String[]{"train", "--data", data.toString(), "--preset", "nope", "--out", tmp.resolve("o").toString()},
                new String[]{"train", "--data", tmp.resolve("missing.txt").toString(), "--preset", "gpt2-tiny", "--out", tmp.resolve("o").toString()},
                new String[]{"train", "--data", data.toString(), "--preset", "gpt2-tiny", "--out", tmp.resolve("o").toString(), "--lr", "-1"},
                new String[]{"train", "--data", data.toString(), "--preset", "gpt2-tiny", "--tokenizer", "simple", "--out", tmp.resolve("o").toString(),
                        "--batch-size", "500", "--context-length", "64"},
                new String[]{"train", "--resume", tmp.resolve("nothing").toString()})) {
            CliRun r = run(args);
            assertThat(r.code()).as(String.join(" ", args)).isNotZero();
            assertThat(r.err().strip().lines().count()).as(r.err()).isLessThanOrEqualTo(2);
            assertThat(r.err()).startsWith("myllm: ").doesNotContain("Exception");
        }
    }
}
