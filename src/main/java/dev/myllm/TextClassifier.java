package dev.myllm;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.ClassifierTuning;
import dev.myllm.finetune.FineTuning;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.LoRA;
import dev.myllm.tensor.ArgMax;
import dev.myllm.io.ModelTokenizer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GPT text classifier (the book's chapter 6) for Java programs: fine-tune one from a language model and a
 * labelled file, load a saved one, and classify texts.
 *
 * <pre>{@code
 * TextClassifier spam = TextClassifier.finetune(ClassifierOptions.of(Path.of("models/gpt2"), "sms.csv", Path.of("runs/spam")), null);
 * spam.classify("You won a free prize! Call now").label();   // "spam"
 * }</pre>
 *
 * <p>Nothing here prints; errors are exceptions with a one-line message, as {@link Myllm}'s are. An instance is not
 * thread-safe: classify from one thread at a time (or one instance per thread).
 */
public final class TextClassifier {
    /**
     * The most likely label of a text and the probability of every label, in the classifier's label order.
     *
     * @param label         the most likely label
     * @param probabilities each label's probability, summing to 1
     */
    public record Prediction(String label, Map<String, Double> probabilities) {
    }

    /** The command whose runs {@link #finetune} makes: its checkpoints and ours continue each other. */
    static final String COMMAND = "finetune classify";

    /** How {@link #finetune}'s messages name {@link ClassifierOptions}' fields. */
    private static final ClassifierTuning.Names NAMES = new ClassifierTuning.Names("model:", "maxLength", "batchSize", "withLoRA(rank, alpha)");

    private final GPTClassifier model;
    private final Tokenizer tokenizer;

    private TextClassifier(GPTClassifier model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * A classifier in memory; texts are cut and padded to its training length ({@link GPTClassifier#maxLength()}).
     *
     * @param model     the classifier
     * @param tokenizer its tokenizer
     * @return the classifier
     * @throws NullPointerException when {@code model} or {@code tokenizer} is null
     */
    public static TextClassifier of(GPTClassifier model, Tokenizer tokenizer) {
        return new TextClassifier(Myllm.given(model, "model"), Myllm.given(tokenizer, "tokenizer"));
    }

    /**
     * Loads a classifier directory ({@code GPT2ForSequenceClassification} config and weights) with its tokenizer, or GPT-2's;
     * texts are padded to the training length the directory records, as {@code myllm classify} does.
     *
     * @param dir a classifier directory
     * @return the classifier with its tokenizer
     * @throws NullPointerException when {@code dir} is null
     * @throws IllegalArgumentException when nothing is at {@code dir}, it is no classifier directory (a language model, a file), or its files are malformed, naming the file
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static TextClassifier load(Path dir) {
        Myllm.given(dir, "dir");
        return new TextClassifier(ClassifierStore.load(dir, -1), tokenizerBeside(dir));
    }

    private static Tokenizer tokenizerBeside(Path dir) {
        Tokenizer own = ModelTokenizer.of(dir);
        return own != null ? own : Tokenizers.load("gpt2");
    }

    /**
     * Fine-tunes a classifier as {@code myllm finetune classify} does ({@link ClassifierTuning}): balanced classes, a
     * 70/10/20 split, a new head, the chosen layers trained with AdamW at the book's dropout 0.0 (unless the options' run
     * asks for another), evaluation by the book's rule, the run's length, rate (constant, or warmup + cosine), checkpoints
     * and resume as {@link TuningRun} says;
     * {@code listener} (may be null) sees each step. Bad data or settings are one-line
     * {@link IllegalArgumentException}s naming them.
     *
     * @param o        the model, data and settings
     * @param listener sees every step (may be null)
     * @return the trained classifier, also saved under {@code o.out()/model}
     * @throws NullPointerException when {@code o} is null
     * @throws IllegalArgumentException when the model, data or run directory will not do (no such file, malformed rows, a run already there or none to resume), naming it; or when the run cannot fit the Java heap (a lower bound, checked before the data and the weights are read and with the first batch), in one line as {@link Myllm#train}'s
     * @throws java.io.UncheckedIOException when a file cannot be read or the run cannot be written
     */
    public static TextClassifier finetune(ClassifierOptions o, Trainer.Listener listener) {
        Myllm.given(o, "options");
        TuningRun r = o.run();
        // a head with bias and shuffled batches, as the command line's defaults; the run's dropout (the book's drop_rate 0.0,
        // where a GPT-2 config.json asks for 0.1)
        ClassifierTuning.Settings settings = new ClassifierTuning.Settings(o.model(), o.trainable(), o.lora(), o.tokenRule(), true, r.dropout(), o.maxLength(),
                o.batchSize(), true, o.seed());
        ClassifierTuning.Memory memory = new ClassifierTuning.Memory(TuningChecks.MEMORY, false, Runtime.getRuntime().maxMemory());
        ClassifierTuning.requireMemory(settings, NAMES, memory); // before the run directory and the data, which may be a download
        LibraryRun run = LibraryRun.open(o.out(), r, COMMAND);
        LabelledSplits splits = LabelledSplits.of(LabelledDatasets.standard().load(o.data()), true, o.seed());
        Tokenizer tok = tokenizerBeside(o.model());
        ClassifierTuning tuning = ClassifierTuning.prepare(ClassifierTuning.Data.split(splits, o.data(), LabelledDatasets.defaultMaxLength(o.data())), tok,
                settings, NAMES, memory);
        Path own = ModelTokenizer.file(o.model());
        long steps = FineTuning.totalSteps(r.steps(), (long) o.epochs() * tuning.train().batchesPerEpoch());
        run.requireStepsLeft(steps);
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), run.resumedStep())) {
            Trainer t = tuning.trainer(new ClassifierTuning.Training(steps, o.lr(), r.warmupSteps(), r.minLr(), o.weightDecay(), o.evalEvery(),
                            o.evalBatches(), r.checkpointEvery()),
                            TokenizerCopy.read(own), metrics, o.out())
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener);
            run.start(t, savedOptions(o)).run();
        }
        GPTClassifier c = tuning.classifier();
        c.eval();
        return new TextClassifier(c, tok);
    }

    /** The options as {@code myllm finetune classify} saves them, so that {@code --resume} continues the run with its settings. */
    static Map<String, Object> savedOptions(ClassifierOptions o) {
        Map<String, Object> saved = TrainingRunOptions.start(COMMAND);
        saved.put("model", o.model().toString());
        saved.put("data", o.data());
        saved.put("train", null);
        saved.put("val", null);
        saved.put("test", null);
        saved.put("no-balance", false);
        saved.put("checkpoint-activations", false);
        saved.put("trainable", o.trainable().id());
        saved.put("token", o.tokenRule().id());
        saved.put("no-head-bias", false);
        saved.put("max-length", o.maxLength());
        saved.put("epochs", o.epochs());
        o.run().putInto(saved);
        saved.put("batch-size", o.batchSize());
        saved.put("lr", o.lr());
        o.run().putScheduleInto(saved);
        saved.put("weight-decay", o.weightDecay());
        // the command's defaults when no adapters train
        saved.put("lora-rank", o.lora() == null ? 16 : o.lora().rank());
        saved.put("lora-alpha", o.lora() == null ? 16.0 : o.lora().alpha());
        saved.put("lora-scale", o.lora() == null ? LoRA.Scale.ALPHA_OVER_RANK.id() : o.lora().rule().id());
        saved.put("eval-every", o.evalEvery());
        saved.put("eval-batches", o.evalBatches());
        saved.put("seed", o.seed());
        saved.put("no-shuffle", false);
        saved.put("tokenizer", null);
        saved.put("log", null);
        return saved;
    }

    /**
     * The labels, in the order of the head's outputs.
     *
     * @return the labels
     */
    public List<String> labels() {
        return model.labels();
    }

    /**
     * The underlying model.
     *
     * @return the model
     */
    public GPTClassifier model() {
        return model;
    }

    /**
     * The tokenizer.
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The label of {@code text} and the probability of each label.
     *
     * @param text any text (cut to the model's context)
     * @return the label and the probabilities
     * @throws NullPointerException when {@code text} is null
     */
    public Prediction classify(String text) {
        int[] ids = encode(Myllm.given(text, "text"));
        model.eval();
        float[] p = ClassificationObjective.probabilities(model, ids, 1, ids.length);
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int j = 0; j < p.length; j++) probs.put(labels().get(j), (double) p[j]);
        return new Prediction(labels().get(ArgMax.of(p, 0, p.length)), probs);
    }

    /**
     * The share of {@code examples} whose label {@link #classify} gets right.
     *
     * @param examples labelled texts
     * @return the share classified right, NaN for none
     * @throws NullPointerException when {@code examples} or one of them is null
     */
    public double accuracy(List<LabelledExample> examples) {
        if (Myllm.given(examples, "examples").isEmpty()) return Double.NaN;
        // (not indexOf(null): List.of's lists refuse to look for null)
        for (int i = 0; i < examples.size(); i++) {
            if (examples.get(i) == null) throw new NullPointerException("examples must not hold null (index " + i + ")");
        }
        long right = examples.stream().filter(e -> classify(e.text()).label().equals(e.label())).count();
        return (double) right / examples.size();
    }

    /**
     * Saves the classifier as a Hugging Face {@code GPT2ForSequenceClassification} directory (with its LoRA adapter
     * when it has one, and its tokenizer when it is not GPT-2's), made whole beside {@code dir} and renamed into place, so that a failed save leaves what was
     * there before.
     *
     * @param dir the directory to write: created, or replaced whole when it holds only a model's files (a directory
     *            holding anything else is refused with an {@link IllegalArgumentException})
     * @throws NullPointerException when {@code dir} is null
     * @throws IllegalArgumentException when a file is in {@code dir}'s place or {@code dir} holds files that are not a model's
     * @throws java.io.UncheckedIOException when the directory cannot be written
     */
    public void save(Path dir) {
        Myllm.given(dir, "dir");
        dev.myllm.io.ModelDirectory.requireReplaceable(dir);
        // its vocabulary goes with it, as a run's saved classifier keeps it: loaded back, it reads texts as now
        dev.myllm.train.TokenizerCopy kept = dev.myllm.train.TokenizerCopy.of(tokenizer, model.config().vocabSize());
        dev.myllm.util.AtomicFiles.writeDirectory(dir, tmp -> {
            ClassifierStore.save(model, tmp);
            if (kept != null) kept.writeInto(tmp);
        });
    }

    /**
     * The text's ids as in training (and {@code myllm classify}): special-token text as plain text, cut and padded
     * to the training length; without a recorded length, cut to the context and not padded.
     */
    private int[] encode(String text) {
        return model.fit(tokenizer.encode(text, Specials.TEXT));
    }
}
