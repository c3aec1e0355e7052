package dev.myllm;

import dev.myllm.cli.Main;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The library entry point gives what the command line gives, without printing. */
class MyllmTest {
    static final String TEXT = "It is a truth universally acknowledged, that a single man in possession of a good fortune";

    static Myllm tiny() {
        GPTModel m = RandomModels.uniform(GPTConfig.preset("gpt2-tiny"), 7);
        return Myllm.of(m, Tokenizers.load("gpt2"));
    }

    /** What {@code myllm ARGS} prints on stdout, in-process; fails the test on a non-zero exit. */
    static String cli(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute(args)).as(err.toString()).isZero();
        return out.toString();
    }

    @Test
    void aSavedModelKeepsItsOwnVocabularyAndPromptFormat(@TempDir Path dir) {
        // a vocabulary trained here and the Phi-3 format: loaded back, the model must read and prompt as before
        dev.myllm.tokenizer.TrainedBpe tok = new dev.myllm.tokenizer.BpeTrainer().train(
                List.of(TEXT, "Every effort moves you forward, said Mrs. Gisburn."), 300, List.of("<|endoftext|>"), null);
        GPTModel m = RandomModels.uniform(new GPTConfig(tok.vocabSize(), 32, 32, 2, 2, 0f, true, true, 1e-5f), 3);
        Myllm llm = Myllm.of(m, tok).withPromptFormat(dev.myllm.finetune.PromptFormat.PHI3);
        Path model = dir.resolve("model");
        llm.save(model);
        Myllm loaded = Myllm.load(model);
        assertThat(loaded.tokenize("Every effort moves you")).containsExactly(llm.tokenize("Every effort moves you"));
        assertThat(loaded.promptFormat()).contains(dev.myllm.finetune.PromptFormat.PHI3);
        assertThat(loaded.generate("Every effort", GenerationConfig.greedy(5)).tokens())
                .containsExactly(llm.generate("Every effort", GenerationConfig.greedy(5)).tokens());
        // GPT-2's vocabulary is the default: nothing is written for it
        Path plain = dir.resolve("plain");
        tiny().save(plain);
        assertThat(plain.resolve("myllm-tokenizer.json")).doesNotExist();
        assertThat(plain.resolve("tokenizer.json")).doesNotExist();
        assertThat(plain.resolve("myllm-prompt-format.json")).doesNotExist();
    }

    @Test
    void generatesScoresAndStreamsAsTheCommandLineDoes(@TempDir Path dir) {
        Myllm llm = tiny();
        Path model = dir.resolve("model");
        llm.save(model);
        Myllm loaded = Myllm.load(model);
        assertThat(loaded.detokenize(loaded.tokenize(TEXT + "<|endoftext|>"))).isEqualTo(TEXT + "<|endoftext|>");
        assertThat(loaded.tokenize("Hello, world")).containsExactly(15496, 11, 995);

        GenerationConfig sampled = GenerationConfig.greedy(12).withSampling(0.9f, 40, 0.95f, 5);
        Generator.Result r = loaded.generate("Every effort moves you", sampled);
        assertThat(r.tokens()).hasSize(12);
        String printed = cli("generate", "--model", model.toString(), "--prompt", "Every effort moves you", "--max-new-tokens", "12",
                "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "5");
        assertThat(printed).isEqualTo("Every effort moves you" + r.text() + System.lineSeparator());

        List<String> pieces = new ArrayList<>();
        Generator.Result streamed = loaded.generate("Every effort moves you", sampled, pieces::add);
        assertThat(String.join("", pieces)).isEqualTo(r.text());
        assertThat(streamed.tokens()).isEqualTo(r.tokens());

        Myllm.Score s = loaded.score(TEXT);
        assertThat(s.tokens()).isEqualTo(loaded.tokenize(TEXT).length);
        String json = cli("score", "--model", model.toString(), "--text", TEXT, "--json");
        double cliLoss = Double.parseDouble(json.replaceAll(".*\"cross_entropy\":([^,]+),.*\\s*", "$1"));
        assertThat(s.crossEntropy()).isCloseTo(cliLoss, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(s.perplexity()).isCloseTo(Math.exp(s.crossEntropy()), org.assertj.core.data.Offset.offset(1e-9));
        // the in-memory model and the saved one agree
        assertThat(llm.score(TEXT).crossEntropy()).isEqualTo(s.crossEntropy());
    }

    @Test
    void theIteratorGivesThePiecesAndStopsWhenClosed() {
        Myllm llm = tiny();
        GenerationConfig cfg = GenerationConfig.greedy(20);
        Generator.Result whole = llm.generate("Hello", cfg);
        StringBuilder sb = new StringBuilder();
        TextStream stream = llm.stream("Hello", cfg);
        try (stream) {
            assertThat(stream.result()).isNull();
            stream.forEachRemaining(sb::append);
        }
        assertThat(sb.toString()).isEqualTo(whole.text());
        assertThat(stream.result().tokens()).isEqualTo(whole.tokens());

        TextStream early = llm.stream("Hello", GenerationConfig.greedy(100_000));
        String first;
        try (early) {
            first = early.next();
        }
        assertThat(first).isNotEmpty();
        assertThat(early.hasNext()).isFalse();
        assertThat(early.result()).isNull();
        // the model is usable again afterwards: same tokens as before
        assertThat(llm.generate("Hello", cfg).tokens()).isEqualTo(whole.tokens());
    }

    @Test
    void anEmbeddingIsTheModelsUnitLengthMeanOfItsFinalStates() {
        Myllm llm = tiny();
        float[] e = llm.embed("It is a truth");
        assertThat(e).hasSize(llm.model().config().embDim()).isEqualTo(llm.model().embedding(llm.tokenize("It is a truth")));
        double norm = 0;
        for (float v : e) norm += (double) v * v;
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(llm.embed("Universally acknowledged")).isNotEqualTo(e);
        assertThatThrownBy(() -> llm.embed("")).hasMessage("the text has no tokens; an embedding needs at least 1");
    }

    @Test
    void badInputIsOneLine() {
        Myllm llm = tiny();
        assertThatThrownBy(() -> llm.score("Hi")).hasMessage("the text has 1 token; scoring needs at least 2");
        assertThatThrownBy(() -> llm.generate("", GenerationConfig.greedy(3))).hasMessage("the prompt is empty: give some text to continue");
        // as generate says it, on the caller's thread (the stream was made, and failed at its first hasNext())
        assertThatThrownBy(() -> llm.stream("", GenerationConfig.greedy(3))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the prompt is empty: give some text to continue");
        assertThatThrownBy(() -> Myllm.load(Path.of("no/such/model"))).hasMessageContaining("no/such/model");
        assertThatThrownBy(() -> TrainingOptions.of(List.of("x.txt"), Path.of("out")).withSteps(0)).hasMessage("steps must be >= 1, got 0");
        // GenerationConfig names its values as a program gives them, as Myllm.respond names maxNewTokens (was "max new tokens",
        // "top-k" and "top-p", the command's wording, which it maps to its options)
        assertThatThrownBy(() -> GenerationConfig.greedy(-1)).isInstanceOf(IllegalArgumentException.class).hasMessage("maxNewTokens must be >= 0, got -1");
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withSampling(1f, -1, 1f, 0)).hasMessage("topK must be >= 0, got -1");
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withSampling(1f, 0, 0f, 0)).hasMessage("topP must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withSampling(-1f, 0, 1f, 0)).hasMessage("temperature must be >= 0, got -1.0");
        // refused when given, as the other values are (an unknown preset was refused only by train, a stop id below -1 never)
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withEos(-5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("eosId must be >= -1 (-1: none), got -5");
        assertThatThrownBy(() -> TrainingOptions.of(List.of("x.txt"), Path.of("out")).withPreset("gpt3")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("preset: unknown preset 'gpt3'; choose one of gpt2-small, ");
    }

    @Test
    void aNullArgumentIsNamedAtTheDoor() {
        // before: NullPointerExceptions from deep inside ("Cannot invoke String.length() because text is null" in
        // BpeTokenizer.encode, "path" in java.nio.file.Files, "config" in Myllm.generate after the prompt was encoded)
        Myllm llm = tiny();
        GenerationConfig greedy = GenerationConfig.greedy(3);
        assertThatThrownBy(() -> Myllm.load(null)).isInstanceOf(NullPointerException.class).hasMessage("model must not be null");
        assertThatThrownBy(() -> Myllm.load(Path.of("x"), null)).hasMessage("tokenizer must not be null");
        assertThatThrownBy(() -> Myllm.of(null, llm.tokenizer())).hasMessage("model must not be null");
        assertThatThrownBy(() -> Myllm.of(llm.model(), null)).hasMessage("tokenizer must not be null");
        assertThatThrownBy(() -> Myllm.random(null, 1)).hasMessage("preset must not be null");
        assertThatThrownBy(() -> Myllm.loadModel(null)).hasMessage("path must not be null");
        // (a null spec was GPT-2's tokenizer, silently)
        assertThatThrownBy(() -> Myllm.tokenizer(null)).hasMessage("spec must not be null");
        assertThatThrownBy(() -> Myllm.train(null, null)).hasMessage("options must not be null");
        assertThatThrownBy(() -> llm.tokenize(null)).hasMessage("text must not be null");
        assertThatThrownBy(() -> llm.detokenize(null)).hasMessage("ids must not be null");
        assertThatThrownBy(() -> llm.generate(null, greedy)).hasMessage("prompt must not be null");
        assertThatThrownBy(() -> llm.generate("Hi", null)).hasMessage("config must not be null");
        assertThatThrownBy(() -> llm.stream(null, greedy)).hasMessage("prompt must not be null");
        // on the caller's thread, not from the stream's first hasNext()
        assertThatThrownBy(() -> llm.stream("Hi", null)).hasMessage("config must not be null");
        assertThatThrownBy(() -> llm.score(null)).hasMessage("text must not be null");
        // (was "Cannot invoke String.strip() because message is null")
        assertThatThrownBy(() -> llm.conversation(3).say(null, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("message must not be null");
        assertThatThrownBy(() -> llm.save(null)).hasMessage("dir must not be null");
        assertThatThrownBy(() -> TextClassifier.load(null)).hasMessage("dir must not be null");
        assertThatThrownBy(() -> TextClassifier.finetune(null, null)).hasMessage("options must not be null");
        assertThatThrownBy(() -> TextClassifier.of(null, llm.tokenizer())).hasMessage("model must not be null");
        TextClassifier classifier = TextClassifier.of(dev.myllm.finetune.GPTClassifier.withNewHead(llm.model(), List.of("ham", "spam"), true,
                dev.myllm.finetune.TokenRule.LAST, 50256, new dev.myllm.tensor.Rng(1)), llm.tokenizer());
        // (was "Cannot invoke LabelledExample.text() because e is null")
        assertThatThrownBy(() -> classifier.accuracy(java.util.Arrays.asList(new dev.myllm.data.LabelledExample("hi", "ham"), null)))
                .isInstanceOf(NullPointerException.class).hasMessage("examples must not hold null (index 1)");
        assertThatThrownBy(() -> TrainingOptions.of(null, Path.of("out"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("data: give files, folders, .bin files or a dataset name");
        assertThatThrownBy(() -> greedy.withStopStrings(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stopStrings must not be null (none: an empty list)");
        assertThatThrownBy(() -> greedy.withStopStrings(java.util.Arrays.asList("a", null))).hasMessage("a stop string must not be null");
    }

    @Test
    void aSaveThatFailsPartWayLeavesWhatWasThere(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model");
        tiny().save(model);
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors")), config = Files.readAllBytes(model.resolve("config.json"));
        Myllm other = Myllm.of(RandomModels.uniform(GPTConfig.preset("gpt2-tiny").withContextLength(64), 8), Tokenizers.load("gpt2"));
        // config.json is written after the weights (before: the weights were replaced in place, and the old config stayed with them)
        try (AutoCloseable f = dev.myllm.util.AtomicFiles.failWritesOf("config.json")) {
            for (Path p : List.of(model, dir.resolve("new"))) {
                assertThatThrownBy(() -> other.save(p)).isInstanceOf(java.io.UncheckedIOException.class)
                        .hasMessageStartingWith("cannot write " + p + ": No space left on device");
            }
        }
        assertThat(model.resolve("model.safetensors")).hasBinaryContent(weights);
        assertThat(model.resolve("config.json")).hasBinaryContent(config);
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model");
        }
        other.save(model);
        assertThat(Myllm.load(model).model().config().contextLength()).isEqualTo(64);
        // a directory holding files of the user's is not replaced
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> other.save(mine)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(mine + ": holds notes.txt, which is not a model's file; give a new or empty directory (a model directory is replaced whole)");
        assertThat(mine.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void aClassifierSaveThatFailsPartWayLeavesWhatWasThere(@TempDir Path dir) throws Exception {
        GPTConfig c = new GPTConfig(GPTConfig.GPT2_VOCAB, 32, 16, 2, 2, 0f, true, true, 1e-5f);
        java.util.function.LongFunction<TextClassifier> classifier = seed -> TextClassifier.of(dev.myllm.finetune.GPTClassifier.withNewHead(
                RandomModels.uniform(c, seed), List.of("ham", "spam"), true, dev.myllm.finetune.TokenRule.LAST, 50256,
                new dev.myllm.tensor.Rng(seed)), Tokenizers.load("gpt2"));
        Path out = dir.resolve("clf");
        classifier.apply(1).save(out);
        byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
        TextClassifier other = classifier.apply(2);
        // before: the weights were replaced in place, then config.json failed
        try (AutoCloseable f = dev.myllm.util.AtomicFiles.failWritesOf("config.json")) {
            assertThatThrownBy(() -> other.save(out)).isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("No space left on device");
        }
        assertThat(out.resolve("model.safetensors")).hasBinaryContent(weights);
        other.save(out);
        assertThat(Files.readAllBytes(out.resolve("model.safetensors"))).isNotEqualTo(weights);
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("clf");
        }
    }

    @Test
    void aMissingOrEmptyClassifierDirectoryIsNotCalledALanguageModel(@TempDir Path dir) throws Exception {
        // before: both were "...: is a language model, not a classifier (config.json does not name GPT2ForSequenceClassification)"
        assertThatThrownBy(() -> TextClassifier.load(dir.resolve("nosuch"))).hasMessage(dir.resolve("nosuch") + ": no such classifier directory");
        java.nio.file.Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> TextClassifier.load(dir.resolve("empty")))
                .hasMessage(dir.resolve("empty") + ": no config.json (not a classifier directory)");
        tiny().save(dir.resolve("lm"));
        assertThatThrownBy(() -> TextClassifier.load(dir.resolve("lm"))).hasMessageContaining("is a language model, not a classifier");
        // a file is there: it was "no such classifier directory" to load, and "cannot create F: F" (an UncheckedIOException) to save
        Path file = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertThatThrownBy(() -> TextClassifier.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": is a file, not a classifier directory");
        TextClassifier c = TextClassifier.of(dev.myllm.finetune.GPTClassifier.withNewHead(tiny().model(), List.of("ham", "spam"), true,
                dev.myllm.finetune.TokenRule.LAST, 50256, new dev.myllm.tensor.Rng(1)), tiny().tokenizer());
        assertThatThrownBy(() -> c.save(file)).isInstanceOf(IllegalArgumentException.class).hasMessage(file + ": exists and is not a directory");
        assertThatThrownBy(() -> tiny().save(file)).isInstanceOf(IllegalArgumentException.class).hasMessage(file + ": exists and is not a directory");
        assertThat(file).hasContent("hello");
    }

    @Test
    void trainsWithProgressAndLoadsTheResult(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("austen.txt"), (TEXT + ", must be in want of a wife. ").repeat(60));
        TrainingOptions o = TrainingOptions.of(List.of(text.toString()), dir.resolve("run"))
                .withBatch(4, 32).withSteps(12).withLearningRate(3e-3, 0).withEvaluation(6, 2).withSeed(3);
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm trained = Myllm.train(o, new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                steps.add(r);
            }
        });
        assertThat(steps).extracting(Trainer.StepReport::step).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
        assertThat(steps.getLast().loss()).isLessThan(steps.getFirst().loss() - 1);
        assertThat(steps.get(5).valLoss()).isFinite();
        assertThat(dir.resolve("run/metrics.jsonl")).exists();
        Myllm loaded = Myllm.load(dir.resolve("run/model"));
        assertThat(loaded.score(TEXT).crossEntropy()).isEqualTo(trained.score(TEXT).crossEntropy());
    }

    @Test
    void textThatIsNotUtf8IsRefusedWithoutTheCommandLinesOption(@TempDir Path dir) throws Exception {
        // the library has no --replace-invalid to point to (the message was "... (use --replace-invalid to decode with replacement characters)")
        Path latin1 = Files.write(dir.resolve("latin1.txt"), "caf\u00e9 au lait ".repeat(40).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        TrainingOptions o = TrainingOptions.of(List.of(latin1.toString()), dir.resolve("run")).withBatch(2, 16).withSteps(1);
        assertThatThrownBy(() -> Myllm.train(o, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(latin1 + ": invalid UTF-8 at byte offset 3 (save it as UTF-8)");
        assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void aRunTooLargeForTheHeapIsRefusedBeforeItStarts(@TempDir Path dir) throws Exception {
        // as myllm train refuses it, in the library's names; it was an OutOfMemoryError from inside the first step
        Path text = Files.writeString(dir.resolve("austen.txt"), (TEXT + ", must be in want of a wife. ").repeat(60));
        TrainingOptions o = TrainingOptions.of(List.of(text.toString()), dir.resolve("run")).withPreset("gpt2-small").withBatch(64, 1024).withSteps(1);
        assertThatThrownBy(() -> Myllm.train(o, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("batch 64 × 1024 needs ")
                .hasMessageEndingWith("; lower batchSize or contextLength, or give the JVM more heap (-Xmx)")
                .hasMessageContaining("but the Java heap is " + dev.myllm.util.ByteSizes.of(Runtime.getRuntime().maxMemory()))
                .hasMessageNotContaining("--");
        assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void refusesAnOutDirectoryThatHoldsARun(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("austen.txt"), (TEXT + ", must be in want of a wife. ").repeat(60));
        TrainingOptions o = TrainingOptions.of(List.of(text.toString()), dir.resolve("run")).withBatch(2, 16).withSteps(1).withEvaluation(0, 0);
        Myllm.train(o, null);
        byte[] model = Files.readAllBytes(dir.resolve("run/model/model.safetensors"));
        assertThatThrownBy(() -> Myllm.train(o.withSeed(9), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("out: " + dir.resolve("run") + " already holds a run; give another directory");
        assertThat(dir.resolve("run/model/model.safetensors")).hasBinaryContent(model);
        // a file in out's place is bad input named as out (it was an UncheckedIOException: "cannot write metrics log F/metrics.jsonl: ...")
        Path file = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertThatThrownBy(() -> Myllm.train(TrainingOptions.of(o.data(), file).withBatch(2, 16).withSteps(1), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("out: " + file + " exists and is not a directory");
        assertThatThrownBy(() -> Myllm.finetuneInstructions(InstructOptions.of(dir.resolve("run/model"), "synthetic", file), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("out: " + file + " exists and is not a directory");
        assertThat(file).hasContent("hello");
    }

    @Test
    void resumingContinuesTheRunBitwise(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("austen.txt"), (TEXT + ", must be in want of a wife. ").repeat(60));
        TrainingOptions whole = TrainingOptions.of(List.of(text.toString()), dir.resolve("whole"))
                .withBatch(2, 16).withSteps(6).withLearningRate(3e-3, 0).withEvaluation(2, 1).withSeed(5);
        TrainingOptions split = new TrainingOptions(whole.data(), dir.resolve("split"), whole.preset(), whole.init(), whole.tokenizer(),
                whole.batchSize(), whole.contextLength(), whole.steps(), whole.lr(), whole.warmupSteps(), whole.weightDecay(),
                whole.gradClip(), whole.evalEvery(), whole.evalBatches(), whole.valFraction(), whole.seed());
        Myllm.train(whole, null);
        Myllm.train(split.withSteps(4), null);
        List<Long> resumedSteps = new ArrayList<>();
        Myllm resumed = Myllm.train(split.withResume(), new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                resumedSteps.add(r.step());
            }
        });
        assertThat(resumedSteps).containsExactly(5L, 6L);
        assertThat(dir.resolve("split/model/model.safetensors")).hasBinaryContent(Files.readAllBytes(dir.resolve("whole/model/model.safetensors")));
        assertThat(losses(dir.resolve("split/metrics.jsonl"))).hasSize(6).isEqualTo(losses(dir.resolve("whole/metrics.jsonl")));
        assertThat(resumed.score("It is a truth").crossEntropy()).isEqualTo(Myllm.load(dir.resolve("whole/model")).score("It is a truth").crossEntropy());
    }

    @Test
    void refusesResumingWhatCannotBeResumed(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("austen.txt"), (TEXT + ", must be in want of a wife. ").repeat(60));
        TrainingOptions o = TrainingOptions.of(List.of(text.toString()), dir.resolve("run")).withBatch(2, 16).withSteps(2).withEvaluation(0, 0);
        assertThatThrownBy(() -> Myllm.train(o.withResume(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("out: " + dir.resolve("run") + " holds no run to resume; train without withResume() to start one");
        Myllm.train(o, null);
        assertThatThrownBy(() -> Myllm.train(o.withResume(), null))
                .hasMessage("steps: the run in " + dir.resolve("run") + " is already at step 2; give more than 2 steps to continue it");
        assertThatThrownBy(() -> Myllm.train(o.withSteps(4).withBatch(2, 8).withResume(), null))
                .hasMessage("resume: the run in " + dir.resolve("run") + " has a context length of 16, contextLength gives 8; resume with the run's own contextLength");
        assertThatThrownBy(() -> Myllm.train(o.withSteps(4).withTokenizer("simple").withResume(), null))
                .hasMessageStartingWith("resume: the run in " + dir.resolve("run") + " has a vocabulary of 50257 tokens, tokenizer simple gives ");
        assertThatThrownBy(() -> Myllm.train(o.withSteps(4).withPreset("gpt2-small").withBatch(2, 16).withResume(), null))
                .hasMessage("resume: the run in " + dir.resolve("run") + " has a model of 2 layers, 4 heads, width 64; preset gpt2-small gives another;"
                        + " resume with the run's own preset or init");
    }

    /** The training loss of each step in a metrics log, in order. */
    private static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new ArrayList<>();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(metrics)) {
            var node = json.readTree(line);
            if (node.has("loss")) out.add(node.get("loss").asDouble());
        }
        return out;
    }
}
