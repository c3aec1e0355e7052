package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.finetune.Trainable;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chapter 6 from Java: {@link TextClassifier#finetune} tunes as {@code myllm finetune classify} does and refuses what it refuses. */
class TextClassifierTest {

    /** 20 texts per class whose last word tells the class, as label,text lines. */
    static List<String> rows() {
        String[] spam = {"win a prize", "claim your cash prize", "free cash now", "you won cash"};
        String[] ham = {"see you at lunch", "dinner tonight", "call me after lunch", "are we still on for dinner"};
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            for (String s : spam) rows.add("spam," + s + " " + i + " winner");
            for (String h : ham) rows.add("ham," + h + " " + i + " thanks");
        }
        return rows;
    }

    /** The rows as a labelled CSV file. */
    static Path csv(Path dir, List<String> rows) throws java.io.IOException {
        return Files.writeString(dir.resolve("msgs.csv"), "label,text\n" + String.join("\n", rows) + "\n");
    }

    /** A small model with its own vocabulary whose config.json asks for dropout 0.1, as GPT-2's does (the book tunes at 0.0). */
    static Path base(Path dir, List<String> rows) {
        Path base = dir.resolve("base");
        List<String> texts = rows.stream().map(r -> r.substring(r.indexOf(',') + 1)).toList();
        TrainedBpe tok = new BpeTrainer().train(texts, 300, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 32, 32, 2, 2, 0.1f, true, true, 1e-5f), 5), base);
        tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
        return base;
    }

    @Test
    void finetunesAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        List<String> rows = rows();
        Path base = base(dir, rows);
        Path data = csv(dir, rows);

        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        TextClassifier tuned = TextClassifier.finetune(ClassifierOptions.of(base, data.toString(), lib).withTraining(2, 4, 1e-3).withEvaluation(3, 1),
                new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        steps.add(r);
                    }
                });
        MyllmTest.cli("finetune", "classify", "--model", base.toString(), "--data", data.toString(), "--out", cli.toString(),
                "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--eval-every", "3", "--eval-batches", "1");

        // the same steps, losses, accuracies and weights
        List<String> libLog = Files.readAllLines(lib.resolve("metrics.jsonl")), cliLog = Files.readAllLines(cli.resolve("metrics.jsonl"));
        assertThat(libLog).hasSize(14).hasSameSizeAs(cliLog).hasSameSizeAs(steps); // 40 balanced: 28 to train, 7 batches of 4, 2 epochs
        ObjectMapper m = new ObjectMapper();
        for (int i = 0; i < libLog.size(); i++) {
            JsonNode a = m.readTree(libLog.get(i)), b = m.readTree(cliLog.get(i));
            assertThat(a.get("loss").asDouble()).as("step %d", i + 1).isEqualTo(b.get("loss").asDouble()).isEqualTo(steps.get(i).loss());
            for (String k : List.of("val_loss", "train_loss", "val_accuracy", "train_accuracy")) {
                assertThat(a.path(k).asDouble(-1)).as("%s at step %d", k, i + 1).isEqualTo(b.path(k).asDouble(-1));
            }
        }
        assertThat(m.readTree(libLog.get(6)).get("val_accuracy").asDouble()).isBetween(0.0, 1.0); // the end of epoch 1
        // it learns: the second epoch's mean loss is below the first's
        double first = steps.subList(0, 7).stream().mapToDouble(Trainer.StepReport::loss).average().orElseThrow();
        assertThat(steps.subList(7, 14).stream().mapToDouble(Trainer.StepReport::loss).average().orElseThrow()).isLessThan(first);
        assertThat(Files.mismatch(lib.resolve("model/model.safetensors"), cli.resolve("model/model.safetensors"))).isEqualTo(-1L);
        assertThat(Files.mismatch(lib.resolve("model/config.json"), cli.resolve("model/config.json"))).isEqualTo(-1L);
        // the settings a resumed command reads are the command's own; no warmup or floor is saved as the options' -1
        JsonNode libOptions = m.readTree(dev.myllm.train.Checkpoints.resolve(lib).resolve("trainer_state.json").toFile()).get("options");
        assertThat(libOptions).isEqualTo(m.readTree(dev.myllm.train.Checkpoints.resolve(cli).resolve("trainer_state.json").toFile()).get("options"));
        assertThat(libOptions.get("warmup-steps").asLong()).isEqualTo(-1);
        assertThat(libOptions.get("min-lr").asDouble()).isEqualTo(-1.0);
        assertThat(lib.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).exists();
        String text = "free cash prize 3 winner";
        assertThat(tuned.classify(text)).isEqualTo(TextClassifier.load(cli.resolve("model")).classify(text));
        // saved by the library, it keeps its own vocabulary as a run's model does (it was read back with GPT-2's)
        Path saved = dir.resolve("saved");
        tuned.save(saved);
        assertThat(saved.resolve(GptModelStore.TOKENIZER_FILE)).hasSameBinaryContentAs(base.resolve(GptModelStore.TOKENIZER_FILE));
        assertThat(TextClassifier.load(saved).classify(text)).isEqualTo(tuned.classify(text));
    }

    @Test
    void refusesTheDataTheCommandLineRefuses(@TempDir Path dir) throws Exception {
        List<String> rows = rows();
        Path base = base(dir, rows);
        Path data = csv(dir, rows);
        Path out = dir.resolve("run");
        ClassifierOptions o = ClassifierOptions.of(base, data.toString(), out).withTraining(1, 4, 1e-3);

        // it was "a classifier needs at least 2 classes, got 1", naming no file
        Path one = Files.writeString(dir.resolve("one.csv"), "label,text\nham,hello\nham,see you\nham,ok then\n");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(base, one.toString(), out), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(one + ": every example has the label [ham]; a classifier needs at least 2 classes");
        // one example per class: the 70% to train hold one class only; the other's head output would never train (it did)
        Path two = Files.writeString(dir.resolve("two.csv"), "label,text\nspam,win cash\nham,see you\n");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(base, two.toString(), out).withTraining(1, 1, 1e-3), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageMatching(java.util.regex.Pattern.quote(two + " (train split): class '") + "(ham|spam)' has no training examples");
        // a language model without its own tokenizer reads GPT-2's, whose <|endoftext|> (50256) this vocabulary lacks
        Path small = dir.resolve("small");
        ModelDirectory.save(new GPTModel(new GPTConfig(300, 32, 32, 2, 2, 0f, true, true, 1e-5f), 5), small);
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(small, data.toString(), out), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the pad id 50256 is outside the model's vocabulary of 300");
        // the lengths, named as ClassifierOptions names them (a length chosen was said as the longest text)
        assertThatThrownBy(() -> TextClassifier.finetune(o.withMaxLength(33), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxLength 33 exceeds the model's context length 32");
        String longest = "ham," + "dinner tonight ".repeat(20);
        Path longText = Files.writeString(dir.resolve("long.csv"), "label,text\n" + String.join("\n", rows) + "\n" + longest + "\n");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(base, longText.toString(), out).withTraining(1, 4, 1e-3), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(longText + " (train split): the longest text has ")
                .hasMessageEndingWith(" tokens, more than the model's context length 32; give maxLength N to cut texts");
        assertThatThrownBy(() -> TextClassifier.finetune(o.withTraining(1, 29, 1e-3), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(data + " (train split): 28 examples make no batch of 29; lower batchSize");
        assertThat(out).doesNotExist();

        // a classifier directory keeps its head (the labels must be the data's), and a second run is not mixed into the first
        TextClassifier.finetune(o.withTrainable(Trainable.HEAD), null);
        assertThatThrownBy(() -> TextClassifier.finetune(o, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("out: " + out + " already holds a run; give another directory");
        Path other = Files.writeString(dir.resolve("other.csv"), "label,text\n" + String.join("\n", rows).replace("spam,", "eggs,") + "\n");
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(out.resolve("model"), other.toString(), dir.resolve("again")), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model: " + out.resolve("model") + " classifies [ham, spam] but the data has labels [eggs, ham]");
    }

    @Test
    void finetunesWithLoRAAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        List<String> rows = rows();
        Path base = base(dir, rows);
        Path data = csv(dir, rows);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        TextClassifier tuned = TextClassifier.finetune(
                ClassifierOptions.of(base, data.toString(), lib).withLoRA(2, 4).withTraining(1, 4, 8e-4).withEvaluation(0, 1), null);
        MyllmTest.cli("finetune", "classify", "--model", base.toString(), "--data", data.toString(), "--out", cli.toString(),
                "--trainable", "lora", "--lora-rank", "2", "--lora-alpha", "4", "--epochs", "1", "--batch-size", "4", "--lr", "8e-4",
                "--eval-every", "0", "--eval-batches", "1");

        // the same adapters, trained the same way, bit for bit
        ObjectMapper m = new ObjectMapper();
        List<String> libLog = Files.readAllLines(lib.resolve("metrics.jsonl")), cliLog = Files.readAllLines(cli.resolve("metrics.jsonl"));
        assertThat(libLog).hasSize(7).hasSameSizeAs(cliLog);
        for (int i = 0; i < libLog.size(); i++) {
            assertThat(m.readTree(libLog.get(i)).get("loss").asDouble()).as("step %d", i + 1).isEqualTo(m.readTree(cliLog.get(i)).get("loss").asDouble());
        }
        try (var files = Files.list(cli.resolve("model"))) {
            List<Path> weights = files.filter(f -> f.toString().endsWith(".safetensors")).toList();
            assertThat(weights).isNotEmpty();
            for (Path f : weights) {
                assertThat(Files.mismatch(f, lib.resolve("model").resolve(f.getFileName()))).as(f.getFileName().toString()).isEqualTo(-1L);
            }
        }
        String text = "free cash prize 3 winner";
        assertThat(tuned.classify(text)).isEqualTo(TextClassifier.load(cli.resolve("model")).classify(text));

        // the classifier has adapters: going on without LoRA is refused, as a program asks for it
        assertThatThrownBy(() -> TextClassifier.finetune(ClassifierOptions.of(lib.resolve("model"), data.toString(), dir.resolve("more")), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model: " + lib.resolve("model") + " has a LoRA adapter; continue with withLoRA(rank, alpha) or merge it first (myllm export --merge-lora)");
        ClassifierOptions o = ClassifierOptions.of(base, data.toString(), dir.resolve("x"));
        assertThatThrownBy(() -> o.withTrainable(Trainable.LORA)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("trainable: LoRA needs its rank and alpha; use withLoRA(rank, alpha)");
        assertThatThrownBy(() -> o.withLoRA(0, 4)).isInstanceOf(IllegalArgumentException.class).hasMessage("rank must be >= 1, got 0");
        assertThat(o.withLoRA(2, 4).withTrainable(Trainable.HEAD).lora()).as("another choice of what trains drops the adapters' settings").isNull();
    }
}
