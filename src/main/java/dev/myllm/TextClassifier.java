package dev.myllm;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.finetune.ClassificationDataset;
import dev.myllm.finetune.ClassificationObjective;
import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.ArgMax;
import dev.myllm.tensor.Rng;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.Trainer;

import java.nio.file.Files;
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
     */
    public static TextClassifier load(Path dir) {
        Myllm.given(dir, "dir");
        return new TextClassifier(ClassifierStore.load(dir, -1), tokenizerBeside(dir));
    }

    private static Tokenizer tokenizerBeside(Path dir) {
        Path own = dir.resolve(GptModelStore.TOKENIZER_FILE);
        return Tokenizers.load(Files.isRegularFile(own) ? own.toString() : "gpt2");
    }

    /**
     * Fine-tunes a classifier as {@code myllm finetune classify} does: balanced classes, a 70/10/20 split, a new head,
     * the chosen layers trained with AdamW, evaluation by the book's rule; {@code listener} (may be null) sees each step.
     *
     * @param o        the model, data and settings
     * @param listener sees every step (may be null)
     * @return the trained classifier, also saved under {@code o.out()/model}
     */
    public static TextClassifier finetune(ClassifierOptions o, Trainer.Listener listener) {
        Myllm.given(o, "options");
        LabelledSplits splits = LabelledSplits.of(LabelledDatasets.standard().load(o.data()), true, o.seed());
        List<String> labels = splits.labels();
        Tokenizer tok = tokenizerBeside(o.model());
        int pad = tok.eotId();
        if (pad < 0) throw new IllegalArgumentException("tokenizer " + tok.name() + " has no <|endoftext|> to pad with");
        // the book's drop_rate 0.0, as myllm finetune classify's --dropout default (a GPT-2 config.json asks for 0.1)
        GPTModel body = ModelDirectory.load(o.model(), ModelDirectory.readConfig(o.model()).withDropRate(0f));
        GPTClassifier c = GPTClassifier.withNewHead(body, labels, true, o.tokenRule(), pad, new Rng(o.seed()));
        o.trainable().apply(c);

        List<int[]> trainIds = ClassificationDataset.tokenize(splits.train(), tok);
        int length = o.maxLength() > 0 ? o.maxLength() : LabelledDatasets.defaultMaxLength(o.data()).orElse(ClassificationDataset.longest(trainIds));
        if (length > c.config().contextLength()) {
            throw new IllegalArgumentException(o.data() + ": texts of " + length + " tokens exceed the model's context length "
                    + c.config().contextLength() + "; set maxLength to cut them");
        }
        c.maxLength(length);
        ClassificationDataset train = ClassificationDataset.of(trainIds, classIds(splits.train(), labels), length, pad, o.batchSize(),
                true, true, o.seed());
        ClassificationDataset val = ClassificationDataset.of(ClassificationDataset.tokenize(splits.validation(), tok),
                classIds(splits.validation(), labels), length, pad, o.batchSize(), false, false, o.seed());
        if (train.batchesPerEpoch() < 1) {
            throw new IllegalArgumentException(o.data() + ": " + train.size() + " training examples make no batch of " + o.batchSize());
        }
        long total = (long) o.epochs() * train.batchesPerEpoch();
        AdamW opt = new AdamW(c.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, o.weightDecay(), AdamW.Decay.ALL));
        Path own = o.model().resolve(GptModelStore.TOKENIZER_FILE);
        try (MetricsLog metrics = MetricsLog.open(o.out().resolve("metrics.jsonl"), 0)) {
            new Trainer(c, new ClassificationObjective(c), new ClassifierStore(c, Files.isRegularFile(own) ? own : null), opt,
                    new LrSchedule.Constant(o.lr()), train,
                    new Trainer.Options(total, 1, 0, o.evalEvery(), o.evalBatches(), -1, 0, 1), o.out())
                    .evaluation(val.first(o.evalBatches()), train.first(o.evalBatches()))
                    .evalRule(Trainer.EvalRule.BOOK)
                    .epochMetrics(o.evalBatches())
                    .rng("dropout", c.transformer().dropoutRng())
                    .metrics(metrics, o.out().resolve("loss.png"))
                    .listener(listener == null ? new Trainer.Listener() {
                    } : listener)
                    .run();
        }
        c.eval();
        return new TextClassifier(c, tok);
    }

    private static int[] classIds(List<LabelledExample> examples, List<String> labels) {
        int[] ids = new int[examples.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = labels.indexOf(examples.get(i).label());
        return ids;
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
     */
    public double accuracy(List<LabelledExample> examples) {
        if (Myllm.given(examples, "examples").isEmpty()) return Double.NaN;
        long right = examples.stream().filter(e -> classify(e.text()).label().equals(e.label())).count();
        return (double) right / examples.size();
    }

    /**
     * Saves the classifier as a Hugging Face {@code GPT2ForSequenceClassification} directory.
     *
     * @param dir the directory to write
     */
    public void save(Path dir) {
        ClassifierStore.save(model, Myllm.given(dir, "dir"));
    }

    /**
     * The text's ids as in training (and {@code myllm classify}): special-token text as plain text, cut and padded
     * to the training length; without a recorded length, cut to the context and not padded.
     */
    private int[] encode(String text) {
        return model.fit(tokenizer.encode(text, Specials.TEXT));
    }
}
