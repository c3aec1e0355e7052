package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** finetune classify, classify, eval classify and export --merge-lora on a tiny GPT-2-vocabulary model and a small labelled file. */
class FinetuneCliTest {
    static final Path DATA = Path.of("src/test/resources/finetune/tiny-spam.csv");
    @TempDir
    static Path tmp;
    static Path lm;

    @BeforeAll
    static void model() {
        lm = tmp.resolve("lm");
        ModelDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f), 1), lm);
    }

    static CliRun finetune(Path out, String... more) {
        return finetune(out, DATA, more);
    }

    static CliRun finetune(Path out, Path data, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("finetune", "classify", "--model", lm.toString(), "--data", data.toString(),
                "--out", out.toString(), "--batch-size", "4", "--eval-every", "2", "--eval-batches", "2", "--lr", "1e-3"));
        args.addAll(List.of(more));
        return CliRun.run(args.toArray(String[]::new));
    }

    @Test
    void aCheckpointWithAMissingOrBrokenFileIsAUsageErrorNamingResume() throws Exception {
        Path run = tmp.resolve("broken");
        assertThat(finetune(run, "--steps", "2", "--checkpoint-every", "1").code()).isZero();
        Path optimizer = run.resolve("step-000002/optimizer.safetensors");
        Files.delete(optimizer);
        // it was exit 1 with the bare file's line, as for a failure of the run itself
        CliRun r = CliRun.run("finetune", "classify", "--resume", run.toString(), "--steps", "3");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --resume: " + optimizer + ": no such file\n");
        Path state = run.resolve("step-000002/trainer_state.json");
        Files.writeString(state, "[]");
        r = CliRun.run("finetune", "classify", "--resume", run.toString(), "--steps", "3");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --resume: " + state + ": not a JSON object\n");
    }

    @Test
    void resumedRunEqualsAnUninterruptedOne() throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertThat(finetune(a, "--epochs", "2").code()).isZero();
        assertThat(finetune(b, "--epochs", "1").code()).isZero();
        CliRun r = CliRun.run("finetune", "classify", "--resume", b.toString(), "--epochs", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readAllBytes(b.resolve("model/model.safetensors"))).isEqualTo(Files.readAllBytes(a.resolve("model/model.safetensors")));
        List<String> la = Files.readAllLines(a.resolve("metrics.jsonl")), lb = Files.readAllLines(b.resolve("metrics.jsonl"));
        assertThat(lb).hasSameSizeAs(la).hasSize(10); // 22 training examples: 5 batches of 4 per epoch
        ObjectMapper m = new ObjectMapper();
        for (int i = 0; i < la.size(); i++) {
            JsonNode x = m.readTree(la.get(i)), y = m.readTree(lb.get(i));
            assertThat(y.get("loss").asDouble()).isEqualTo(x.get("loss").asDouble());
            assertThat(y.has("val_loss")).isEqualTo(x.has("val_loss"));
        }
        // the book's evaluation steps (global step 0, 2, 4, ... = updates 1, 3, 5, ...) and accuracy per epoch
        assertThat(m.readTree(la.get(0)).has("val_loss")).isTrue();
        assertThat(m.readTree(la.get(1)).has("val_loss")).isFalse();
        assertThat(m.readTree(la.get(4)).get("val_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(m.readTree(la.get(9)).has("train_accuracy")).isTrue();
        assertThat(a.resolve("loss.png")).exists();
        assertThat(a.resolve("accuracy.png")).exists();
        JsonNode cfg = m.readTree(a.resolve("model/config.json").toFile());
        assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("GPT2ForSequenceClassification");
        assertThat(cfg.get("pad_token_id").asInt()).isEqualTo(50256);
        assertThat(cfg.get("id2label").get("1").asText()).isEqualTo("spam");

        CliRun c = CliRun.run("classify", "--model", a.resolve("model").toString(), "--json", "WINNER claim your free cash prize", "see you at lunch");
        assertThat(c.code()).as(c.err()).isZero();
        List<String> lines = c.out().lines().toList();
        assertThat(lines).hasSize(2);
        double p = m.readTree(lines.get(0)).get("probabilities").get("ham").asDouble() + m.readTree(lines.get(0)).get("probabilities").get("spam").asDouble();
        assertThat(p).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-6));
        // a typed 0 is not the default ("the length the model was trained at") but a wrong length
        assertError(CliRun.run("classify", "--model", a.resolve("model").toString(), "--max-length", "0", "hi"), "--max-length must be positive, got 0");
        assertError(CliRun.run("eval", "classify", "--model", a.resolve("model").toString(), "--data", DATA.toString(), "--max-length", "0"),
                "--max-length must be positive, got 0");
        CliRun e = CliRun.run("eval", "classify", "--model", a.resolve("model").toString(), "--data", DATA.toString(), "--json");
        assertThat(e.code()).as(e.err()).isZero();
        JsonNode ev = m.readTree(e.out());
        assertThat(ev.get("examples").asInt()).isEqualTo(7); // 16 ham + 16 spam after balancing: 22 / 3 / 7
        long diag = ev.get("confusion").get(0).get(0).asLong() + ev.get("confusion").get(1).get(1).asLong();
        assertThat(ev.get("correct").asLong()).isEqualTo(diag);
    }

    @Test
    void warmupAndFloorGiveTheWarmupCosineRates() throws Exception {
        Path whole = tmp.resolve("warm"), cut = tmp.resolve("warm-cut");
        CliRun r = finetune(whole, "--steps", "6", "--warmup-steps", "2", "--min-lr", "1e-4");
        assertThat(r.code()).as(r.err()).isZero();
        // by hand: from the floor up to --lr 1e-3 over 2 steps, then half a cosine over the 4 left, down towards the floor
        double[] expected = {1e-4, 5.5e-4, 1e-3, 1e-4 + 4.5e-4 * (1 + Math.cos(Math.PI / 4)), 5.5e-4, 1e-4 + 4.5e-4 * (1 - Math.cos(Math.PI / 4))};
        assertThat(rates(whole)).usingComparatorWithPrecision(1e-15).containsExactly(expected);
        // the floor alone: no warmup, the cosine from the rate; the warmup alone: the floor is a tenth of the rate
        assertThat(finetune(tmp.resolve("floor"), "--steps", "3", "--min-lr", "2e-4").code()).isZero();
        assertThat(rates(tmp.resolve("floor"))).usingComparatorWithPrecision(1e-15)
                .containsExactly(1e-3, 2e-4 + 4e-4 * (1 + Math.cos(Math.PI / 3)), 2e-4 + 4e-4 * (1 + Math.cos(2 * Math.PI / 3)));

        // stopped in the warmup and resumed (the saved options bring the schedule back), it ends as the whole run
        assertThat(finetune(cut, "--steps", "6", "--warmup-steps", "2", "--minutes", "1e-12").code()).isZero();
        assertThat(Files.readAllLines(cut.resolve("metrics.jsonl"))).hasSize(1);
        CliRun resumed = CliRun.run("finetune", "classify", "--resume", cut.toString(), "--minutes", "0");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(Files.readAllLines(cut.resolve("metrics.jsonl")).stream().map(FinetuneCliTest::withoutTime).toList())
                .isEqualTo(Files.readAllLines(whole.resolve("metrics.jsonl")).stream().map(FinetuneCliTest::withoutTime).toList());
        assertThat(Files.mismatch(cut.resolve("model/model.safetensors"), whole.resolve("model/model.safetensors"))).isEqualTo(-1L);
    }

    /** Each step's learning rate in a run's metrics.jsonl. */
    private static double[] rates(Path run) throws Exception {
        ObjectMapper m = new ObjectMapper();
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().mapToDouble(l -> {
            try {
                return m.readTree(l).get("lr").asDouble();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toArray();
    }

    /** A metrics line without its timing. */
    private static String withoutTime(String line) {
        return line.replaceAll("\"ms\":[0-9.eE+-]+,?", "");
    }

    @Test
    void loraRunMergesToTheSameClassifier() throws Exception {
        Path out = tmp.resolve("lora");
        CliRun r = finetune(out, "--epochs", "1", "--trainable", "lora", "--lora-rank", "2", "--lora-alpha", "4", "--token", "flexible", "--no-head-bias");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out.resolve("model/adapter_model.safetensors")).exists();
        assertThat(out.resolve("model/adapter_config.json")).exists();
        CliRun x = CliRun.run("export", "--model", out.resolve("model").toString(), "--merge-lora", "--out", tmp.resolve("merged").toString());
        assertThat(x.code()).as(x.err()).isZero();
        assertThat(tmp.resolve("merged/adapter_config.json")).doesNotExist();
        String text = "Claim your free prize now";
        ObjectMapper m = new ObjectMapper();
        JsonNode u = m.readTree(CliRun.run("classify", "--model", out.resolve("model").toString(), "--json", text).out());
        JsonNode v = m.readTree(CliRun.run("classify", "--model", tmp.resolve("merged").toString(), "--json", text).out());
        assertThat(v.get("probabilities").get("spam").asDouble()).isCloseTo(u.get("probabilities").get("spam").asDouble(),
                org.assertj.core.api.Assertions.within(1e-5));
    }

    @Test
    void infoDescribesAClassifier() throws Exception {
        Path plain = tmp.resolve("info-plain"), lora = tmp.resolve("info-lora");
        assertThat(finetune(plain, "--epochs", "1", "--max-length", "12").code()).isZero();
        CliRun r = finetune(lora, "--epochs", "1", "--trainable", "lora", "--lora-rank", "2", "--lora-alpha", "4", "--token", "flexible", "--no-head-bias");
        assertThat(r.code()).as(r.err()).isZero();
        // the tiny language model: 50,257 × 16 + 40 × 16 token and position tables, 2 blocks of 3,280, the final norm's 32
        long body = 50257 * 16 + 40 * 16 + 2 * 3280 + 32;
        assertThat(body).isEqualTo(811_344);

        CliRun info = CliRun.run("info", "--model", plain.resolve("model").toString());
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).startsWith("classifier: " + plain.resolve("model") + " (GPT2ForSequenceClassification)\n"
                        + "  labels            ham, spam (2 classes)\n"
                        + "  head              Linear(16, 2) with bias\n"
                        + "  reads             the last position (a pad for a short text) (--token last)\n"
                        + "  pad token id      50256\n"
                        + "  trained length    texts padded or cut to 12 tokens\n"
                        + "base model\n"
                        + "  vocab size        50,257\n"
                        + "  context length    40\n")
                .contains(String.format("parameters%n  total             %,d%n  base model        %,d%n  head              34%n  per block         3,280%n",
                        body + 34, body))
                .doesNotContain("LoRA", "output head", "KV cache");

        ObjectMapper m = new ObjectMapper();
        JsonNode j = m.readTree(CliRun.run("info", "--model", lora.resolve("model").toString(), "--json").out());
        JsonNode k = j.get("classifier");
        assertThat(k.get("labels").toString()).isEqualTo("[\"ham\",\"spam\"]");
        assertThat(k.get("head_bias").asBoolean()).isFalse();
        assertThat(k.get("token_rule").asText()).isEqualTo("flexible");
        assertThat(k.get("max_length").asInt()).isPositive().isLessThanOrEqualTo(40);
        assertThat(k.get("lora").toString()).isEqualTo("{\"rank\":2,\"alpha\":4.0,\"scale\":\"alpha/rank\"}");
        assertThat(j.get("config").get("emb_dim").asInt()).isEqualTo(16);
        // rank 2 on each block's QKV (three pairs), attention output and both feed-forward maps, and on the 16 → 2 head
        long adapter = 2 * (3 * 2 * (16 + 16) + 2 * (16 + 16) + 2 * (16 + 64) + 2 * (64 + 16)) + 2 * (16 + 2);
        assertThat(j.get("parameters_adapter").asLong()).isEqualTo(adapter).isEqualTo(1188);
        assertThat(j.get("parameters_head").asLong()).isEqualTo(32);
        assertThat(j.get("parameters").asLong()).isEqualTo(body + 32 + adapter);
        assertThat(CliRun.run("info", "--model", lora.resolve("model").toString()).out())
                .contains("  LoRA adapter      rank 2, alpha 4.0 (scale alpha/rank), apart from the base weights\n", "  head              Linear(16, 2) without bias\n",
                        "  reads             the last token that is not a pad (--token flexible)\n", String.format("  LoRA adapter      %,d%n", adapter));

        // options that count a language model's fine-tuning or change a shape do not apply
        assertError(CliRun.run("info", "--model", plain.resolve("model").toString(), "--num-classes", "3"), "is a classifier");
        assertError(CliRun.run("info", "--model", plain.resolve("model").toString(), "--context-length", "8"), "a classifier (" + plain.resolve("model") + ") is described as saved");

        // the adapter's settings, unreadable: "--model M/myllm-lora.json: cannot read: Invalid UTF-8 start byte 0xff  at [Source: REDACTED ...]"
        Path settings = lora.resolve("model/myllm-lora.json");
        Files.write(settings, new byte[]{'{', (byte) 0xff, '}'});
        for (String command : List.of("info", "classify")) {
            CliRun bad = command.equals("info") ? CliRun.run("info", "--model", lora.resolve("model").toString())
                    : CliRun.run("classify", "--model", lora.resolve("model").toString(), "win cash now");
            assertThat(bad.code()).as(command).isEqualTo(2);
            assertThat(bad.err()).as(command).isEqualTo("myllm: --model " + settings + ": cannot read: not UTF-8 text\n");
        }
    }

    @Test
    void oneLineErrors() throws Exception {
        Path empty = tmp.resolve("empty.csv");
        Files.writeString(empty, "");
        assertError(finetune(tmp.resolve("e1"), empty), "empty");

        Path tr = tmp.resolve("tr.csv"), va = tmp.resolve("va.csv"), te = tmp.resolve("te.csv");
        Files.writeString(tr, "label,text\nham,hello there\nspam,win cash now\nham,see you\nspam,free prize\n");
        Files.writeString(va, "label,text\nham,ok\nspam,cash\n");
        Files.writeString(te, "label,text\nham,fine\neggs,breakfast\n");
        assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--train", tr.toString(), "--val", va.toString(),
                "--test", te.toString(), "--out", tmp.resolve("e2").toString()), "class 'eggs' has no training examples");

        Path longText = tmp.resolve("long.csv");
        Files.writeString(longText, "label,text\nham," + "word ".repeat(60) + "\nspam,win\nham,hi\nspam,cash\nham,a\nspam,b\nham,c\nspam,d\nham,e\nspam,f\n");
        assertError(finetune(tmp.resolve("e3"), longText), "more than the model's context length 40; give --max-length");
        assertError(finetune(tmp.resolve("e3z"), longText, "--max-length", "0"), "--max-length must be positive, got 0");
        assertThat(finetune(tmp.resolve("e3b"), longText, "--max-length", "12", "--epochs", "1").code()).isZero();
        assertError(finetune(tmp.resolve("e3b"), longText, "--max-length", "12", "--epochs", "1"), "already holds a run (latest: step-");

        assertError(CliRun.run("generate", "--model", tmp.resolve("e3b/model").toString(), "--prompt", "hi"), "is a sequence classifier");
        // GGUF has no classifier: refused, where it used to write a safetensors directory named x.gguf and exit 0
        Path gguf = tmp.resolve("classifier.gguf");
        assertError(CliRun.run("export", "--model", tmp.resolve("e3b/model").toString(), "--format", "gguf", "--out", gguf.toString()),
                "is a classifier, and GGUF's gpt2 architecture has no classification head");
        assertThat(gguf).doesNotExist();
        assertError(CliRun.run("classify", "--model", lm.toString(), "hi"), "is a language model, not a classifier");
        // an empty directory is not a language model either (it was said to be one)
        Path emptyDir = java.nio.file.Files.createDirectories(tmp.resolve("empty-dir"));
        assertError(CliRun.run("classify", "--model", emptyDir.toString(), "hi"), "--model " + emptyDir + " has no config.json: not a classifier directory");
        assertError(CliRun.run("eval", "classify", "--model", lm.toString(), "--data", DATA.toString()), "is a language model, not a classifier");
        // a file that is not UTF-8 is said to be so (it was "Input length = 1"), without pointing to an option classify lacks
        Path latin1 = tmp.resolve("latin1.txt"), latin1Csv = tmp.resolve("latin1.csv");
        Files.write(latin1, new byte[]{'c', 'a', 'f', (byte) 0xe9, '\n'});
        Files.write(latin1Csv, new byte[]{'h', 'a', 'm', ',', 'c', 'a', 'f', (byte) 0xe9, '\n'});
        assertError(CliRun.run("classify", "--model", tmp.resolve("e3b/model").toString(), "--file", latin1.toString()),
                "--file: " + latin1 + ": invalid UTF-8 at byte offset 3 (save it as UTF-8)");
        assertError(CliRun.run("classify", "--model", tmp.resolve("e3b/model").toString(), "--file", latin1Csv.toString()),
                "--file: " + latin1Csv + ": invalid UTF-8 at byte offset 7 (save it as UTF-8)");
        // the splits are named as eval instruct names them (val, or validation)
        assertError(CliRun.run("eval", "classify", "--model", tmp.resolve("e3b/model").toString(), "--data", DATA.toString(), "--split", "dev"),
                "--split: unknown split 'dev' (known: train, val, test)");
        CliRun val = CliRun.run("eval", "classify", "--model", tmp.resolve("e3b/model").toString(), "--data", longText.toString(), "--split", "val");
        assertThat(val.code()).as(val.err()).isZero();
        assertError(finetune(tmp.resolve("e4"), "--trainable", "some"), "--trainable: unknown");
        // -1 is --lr's "not given" (the book's rate for the kind of run): typed in, it is an error, not the default
        for (String lr : List.of("-1", "0")) {
            assertError(CliRun.run("finetune", "classify", "--model", lm.toString(), "--data", DATA.toString(),
                    "--out", tmp.resolve("e4b").toString(), "--lr", lr), "--lr must be positive, got " + lr + ".0");
        }
        assertThat(tmp.resolve("e4b")).doesNotExist();
        // -1 is also the "not given" of --warmup-steps and --min-lr: typed in, a negative one is refused with the flag named
        assertError(finetune(tmp.resolve("e4c"), "--warmup-steps", "-1"), "--warmup-steps must be >= 0, got -1");
        assertError(finetune(tmp.resolve("e4c"), "--min-lr", "-2"), "--min-lr must be >= 0, got -2.0");
        assertThat(tmp.resolve("e4c")).doesNotExist();
        // a missing model is named before the data is fetched (spam would be a download)
        assertError(CliRun.run("finetune", "classify", "--model", tmp.resolve("nowhere").toString(), "--data", "spam",
                "--out", tmp.resolve("e5").toString()), "nowhere: no such file or directory");
    }

    @Test
    void savedLineNamesTheAccuracyPlotOnlyWhenDrawn() {
        // 22 training examples make 5 batches of 4 an epoch: 2 steps end no epoch, so no accuracy is plotted
        Path p = tmp.resolve("no-epoch");
        CliRun r = CliRun.runCapturingStderr("finetune", "classify", "--model", lm.toString(), "--data", DATA.toString(),
                "--out", p.toString(), "--batch-size", "4", "--eval-batches", "1", "--steps", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(p.resolve("accuracy.png")).doesNotExist();
        assertThat(r.err()).contains(", " + p.resolve("metrics.jsonl") + ", " + p.resolve("loss.png") + "\n").doesNotContain("accuracy.png");
        Path e = tmp.resolve("one-epoch");
        CliRun one = CliRun.runCapturingStderr("finetune", "classify", "--model", lm.toString(), "--data", DATA.toString(),
                "--out", e.toString(), "--batch-size", "4", "--eval-batches", "1", "--steps", "5");
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(e.resolve("accuracy.png")).exists();
        assertThat(one.err()).contains(", " + e.resolve("loss.png") + ", " + e.resolve("accuracy.png") + "\n");
    }

    @Test
    void brokenClassifierConfigIsNamedOnce() throws Exception {
        Path clf = tmp.resolve("broken-clf");
        dev.myllm.io.ClassifierDirectory.save(new GPTModel(new GPTConfig(GPTConfig.GPT2_VOCAB, 40, 16, 2, 2, 0f, true, true, 1e-5f), 1),
                dev.myllm.tensor.Tensor.zeros(2, 16), null, new dev.myllm.io.ClassifierDirectory.Head(List.of("ham", "spam"), 50256, "flexible", 0), clf);
        Path cfg = clf.resolve("config.json");
        String good = Files.readString(cfg);
        // truncated JSON was said to be "a language model, not a classifier" by classify and eval classify
        Files.writeString(cfg, good.substring(0, good.indexOf("\"n_embd\"")));
        assertBrokenConfig(cfg, "not valid JSON: Unexpected end-of-input");
        // a num_labels that is no integer read as 0 ("needs at least 2 labels, num_labels is 0")
        Files.writeString(cfg, good.replace("\"num_labels\": 2", "\"num_labels\": \"two\""));
        assertBrokenConfig(cfg, "'num_labels' must be an integer, got \"two\"");
        // an id2label that is no object gave LABEL_0, LABEL_1 without a word
        Files.writeString(cfg, good.replaceFirst("\"id2label\": \\{[^}]*}", "\"id2label\": [\"ham\", \"spam\"]"));
        assertBrokenConfig(cfg, "'id2label' must be an object of label names by class id, got [\"ham\",\"spam\"]");
        // a num_labels that disagrees with id2label was taken, the names beyond it dropped or made up
        Files.writeString(cfg, good.replace("\"num_labels\": 2", "\"num_labels\": 3"));
        assertBrokenConfig(cfg, "'num_labels' is 3 but 'id2label' names 2 labels");
        Files.writeString(cfg, good.replace("\"1\": \"spam\"", "\"7\": \"spam\""));
        assertBrokenConfig(cfg, "'id2label' has no label for class 1 (its keys must be the class ids 0 to 1)");
        // a huge num_labels built two billion label names (a hang, then out of memory) before the weights' shape was checked
        Files.writeString(cfg, good.replace("\"num_labels\": 2", "\"num_labels\": 2000000000"));
        assertBrokenConfig(cfg, "'num_labels' is 2000000000 but 'id2label' names 2 labels");
        Files.writeString(cfg, good.replace("\"num_labels\": 2", "\"num_labels\": 2000000000").replaceFirst("\"id2label\": \\{[^}]*},", ""));
        assertBrokenConfig(cfg, "'num_labels' is 2000000000 but score.weight in model.safetensors has 2 rows, one per class");
        // one beyond an int was read as a negative count
        Files.writeString(cfg, good.replace("\"num_labels\": 2", "\"num_labels\": 20000000000"));
        assertBrokenConfig(cfg, "'num_labels' must be an integer, got 20000000000");
        // a byte that is not UTF-8 was "Input length = 3", or again "a language model"
        Files.write(cfg, good.replace("\"ham\"", "\"h\u00e9m\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertBrokenConfig(cfg, "cannot read: not UTF-8 text");
        // a directory in config.json's place was "has no config.json: not a classifier directory"
        Files.delete(cfg);
        Files.createDirectory(cfg);
        assertError(CliRun.run("classify", "--model", clf.toString(), "hi"), "--model " + cfg + ": is a directory");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.myllm.io.ClassifierDirectory.summary(clf))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(cfg + ": is a directory");
    }

    /** classify, eval classify and info each refuse the classifier with one line naming {@code cfg} once and {@code what}. */
    private static void assertBrokenConfig(Path cfg, String what) {
        String dir = cfg.getParent().toString();
        for (CliRun r : List.of(CliRun.run("classify", "--model", dir, "hi"), CliRun.run("info", "--model", dir),
                CliRun.run("eval", "classify", "--model", dir, "--data", DATA.toString()))) {
            assertError(r, "--model " + cfg + ": " + what);
            assertThat(r.err().split(java.util.regex.Pattern.quote(cfg.toString()), -1)).as(r.err()).hasSize(2);
        }
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.code()).as(r.out() + r.err()).isNotZero();
        assertThat(r.err().strip()).contains(message).doesNotContain("\n").doesNotContain("Exception");
    }
}
