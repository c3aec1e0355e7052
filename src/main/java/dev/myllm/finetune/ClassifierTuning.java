package dev.myllm.finetune;

import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import dev.myllm.io.ClassifierDirectory;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.train.MetricsLog;
import dev.myllm.train.TokenizerCopy;
import dev.myllm.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Chapter 6's fine-tuning of a GPT into a text classifier on labelled data (the model with its head, the texts padded to
 * one length, the book's {@link Trainer}), assembled once for {@code myllm finetune classify} and {@code TextClassifier.finetune}.
 */
public final class ClassifierTuning {
    /**
     * The labelled examples and how messages name them.
     *
     * @param splits           the training, validation and test examples
     * @param name             the data as a whole, for a message about all of it
     * @param trainSource      the training examples, for a message about them
     * @param validationSource the validation examples, for a message about them
     * @param testSource       the test examples, for a message about them
     * @param defaultMaxLength the dataset's own padded length (spam: 256), cut to a shorter context; empty: the longest training text
     */
    public record Data(LabelledSplits splits, String name, String trainSource, String validationSource, String testSource,
                       OptionalInt defaultMaxLength) {
        public Data {
            Objects.requireNonNull(splits, "splits");
            Objects.requireNonNull(defaultMaxLength, "defaultMaxLength");
        }

        /**
         * Examples of one source split three ways; a split is named as {@code NAME (train split)}.
         *
         * @param splits           the three splits
         * @param name             the source
         * @param defaultMaxLength the dataset's own padded length, if it has one
         * @return the data
         */
        public static Data split(LabelledSplits splits, String name, OptionalInt defaultMaxLength) {
            return new Data(splits, name, name + " (train split)", name + " (validation split)", name + " (test split)", defaultMaxLength);
        }
    }

    /**
     * How the classifier is made and its texts batched.
     *
     * @param model     a GPT model directory or model file (a new head is put on it), or a classifier directory (its head is kept)
     * @param trainable what trains; the rest is frozen
     * @param lora      the adapters to add when {@code trainable} is LoRA and the model has none (else unused; may be null)
     * @param tokenRule the position a new head reads
     * @param headBias  whether a new head has a bias (the book's {@code Linear} does)
     * @param dropout   the dropout rate while fine-tuning (the book's 0.0, whatever the model's config says)
     * @param maxLength tokens per text, cut and padded; 0: the data's default or else the longest training text
     * @param batchSize texts per batch
     * @param shuffle   whether the training order changes every epoch (the book's loader shuffles)
     * @param seed      seed of a new head, of LoRA's adapters (plus 1) and of the shuffling
     */
    public record Settings(Path model, Trainable trainable, LoRA.Settings lora, TokenRule tokenRule, boolean headBias, float dropout,
                           int maxLength, int batchSize, boolean shuffle, long seed) {
        public Settings {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(trainable, "trainable");
            Objects.requireNonNull(tokenRule, "tokenRule");
            if (trainable == Trainable.LORA && lora == null) throw new IllegalArgumentException("LoRA training needs the adapters' settings");
        }
    }

    /**
     * How messages name the model and the settings a person chose, as they wrote them (the command line's
     * {@code --model}, {@code --max-length}, {@code --batch-size}; a program's {@code maxLength}).
     *
     * @param model     the model, said before its path
     * @param maxLength the text length setting
     * @param batchSize the batch size setting
     * @param lora      how to ask for LoRA training, to continue a classifier that has adapters
     */
    public record Names(String model, String maxLength, String batchSize, String lora) {
    }

    /**
     * The up-front check that the run fits the Java heap ({@link FineTuningMemory}), before the data is read (the
     * weights, their gradients and AdamW state) and once the texts' length is known, before the weights are read.
     *
     * @param names      how a refusal names what to change
     * @param checkpoint whether the blocks' activations are recomputed in backward ({@code --checkpoint-activations})
     * @param heapBytes  the heap to fit in, {@link Runtime#maxMemory()}
     */
    public record Memory(FineTuningMemory.Names names, boolean checkpoint, long heapBytes) {
    }

    /**
     * The book's training loop settings: AdamW with decay on every tensor and a constant learning rate, or warmup + cosine
     * when a warmup or a floor is given ({@link FineTuning#schedule}).
     *
     * @param steps           optimizer steps in all
     * @param lr              the learning rate (the peak, with warmup + cosine)
     * @param warmupSteps     linear warmup steps, or null (not given)
     * @param minLr           the cosine's floor and the warmup's start, or null (not given)
     * @param weightDecay     AdamW's weight decay
     * @param evalEvery       evaluate after steps 1, 1+N, 1+2N, ... (the book's steps 0, N, ...; 0: never)
     * @param evalBatches     batches per evaluation and per epoch's accuracy
     * @param checkpointEvery a checkpoint every N steps (0: at the end)
     */
    public record Training(long steps, double lr, Long warmupSteps, Double minLr, double weightDecay, int evalEvery, int evalBatches, int checkpointEvery) {
    }

    private final GPTClassifier classifier;
    private final ClassificationDataset train;
    private final ClassificationDataset validation;
    private final ClassificationDataset test;

    private ClassifierTuning(GPTClassifier classifier, ClassificationDataset train, ClassificationDataset validation, ClassificationDataset test) {
        this.classifier = classifier;
        this.train = train;
        this.validation = validation;
        this.test = test;
    }

    /**
     * The classifier to train and its datasets, every text cut and padded with {@code tok}'s {@code <|endoftext|>} to one
     * length; bad data or settings are one-line {@link IllegalArgumentException}s naming them as {@code names} and
     * {@code data} say.
     *
     * @param data  the labelled examples
     * @param tok   the model's tokenizer
     * @param s     how the classifier is made and batched
     * @param names how messages name the model and the settings
     * @return the classifier with its datasets
     */
    public static ClassifierTuning prepare(Data data, Tokenizer tok, Settings s, Names names) {
        return prepare(data, tok, s, names, null);
    }

    /**
     * As above; with {@code memory} (null: no check) a run that cannot fit the heap is refused in one line before the
     * weights are read.
     *
     * @param data   the labelled examples
     * @param tok    the model's tokenizer
     * @param s      how the classifier is made and batched
     * @param names  how messages name the model and the settings
     * @param memory the heap check, or null
     * @return the classifier with its datasets
     */
    public static ClassifierTuning prepare(Data data, Tokenizer tok, Settings s, Names names, Memory memory) {
        LabelledSplits splits = data.splits();
        List<String> labels = splits.labels();
        if (labels.size() < 2) throw new IllegalArgumentException(data.name() + ": every example has the label " + labels + "; a classifier needs at least 2 classes");
        int pad = tok.eotId();
        if (pad < 0) throw new IllegalArgumentException("tokenizer " + tok.name() + " has no <|endoftext|> to pad with");
        GPTConfig shape = shape(s, names); // the weights are read once the run is known to fit
        if (pad >= shape.vocabSize()) throw new IllegalArgumentException("the pad id " + pad + " is outside the model's vocabulary of " + shape.vocabSize());
        for (String l : labels) {
            // the labels are those of all three splits: a class seen only in validation or test would be a head output never trained
            if (splits.train().stream().noneMatch(e -> e.label().equals(l))) {
                throw new IllegalArgumentException(data.trainSource() + ": class '" + l + "' has no training examples");
            }
        }

        List<int[]> trainIds = ClassificationDataset.tokenize(splits.train(), tok);
        int context = shape.contextLength();
        if (s.maxLength() > context) throw new IllegalArgumentException(names.maxLength() + " " + s.maxLength() + " exceeds the model's context length " + context);
        // a dataset's own default (spam: 256) is cut to a shorter context; a length chosen is not (refused above)
        int length = s.maxLength() > 0 ? s.maxLength() : data.defaultMaxLength().isPresent() ? Math.min(data.defaultMaxLength().getAsInt(), context)
                : ClassificationDataset.longest(trainIds);
        if (length > context) {
            throw new IllegalArgumentException(data.trainSource() + ": the longest text has " + length + " tokens, more than the model's context length "
                    + context + "; give " + names.maxLength() + " N to cut texts");
        }
        if (memory != null) requireMemory(shape, s, memory, length);
        GPTClassifier c = classifier(s, labels, pad, names);
        c.maxLength(length);
        ClassificationDataset train = ClassificationDataset.of(trainIds, ClassificationDataset.classIds(splits.train(), labels, data.trainSource()),
                length, pad, s.batchSize(), true, s.shuffle(), s.seed());
        if (train.batchesPerEpoch() < 1) {
            throw new IllegalArgumentException(data.trainSource() + ": " + train.size() + " examples make no batch of " + s.batchSize() + "; lower " + names.batchSize());
        }
        return new ClassifierTuning(c, train, evaluation(splits.validation(), labels, tok, length, pad, s.batchSize(), data.validationSource()),
                evaluation(splits.test(), labels, tok, length, pad, s.batchSize(), data.testSource()));
    }

    /**
     * Refuses in one line a run that cannot fit the heap before its data is read (the weights, their gradients and AdamW
     * state, from the model's config alone); {@link #prepare} checks again once the texts' length is known.
     *
     * @param s      how the classifier is made and batched
     * @param names  how messages name the model
     * @param memory the heap check
     * @throws IllegalArgumentException the refusal, or the model's config will not do (named as {@code names} say)
     */
    public static void requireMemory(Settings s, Names names, Memory memory) {
        requireMemory(shape(s, names), s, memory, 0);
    }

    private static void requireMemory(GPTConfig shape, Settings s, Memory memory, int length) {
        String refusal = FineTuningMemory.refusal(shape, FineTuningMemory.Kind.CLASSIFIER, s.trainable(), s.batchSize(), length, memory.checkpoint(),
                memory.heapBytes(), memory.names());
        if (refusal != null) throw new IllegalArgumentException(refusal);
    }

    /** The model's shape with the run's dropout, from its config alone (a classifier directory's body), named as loading names it. */
    private static GPTConfig shape(Settings s, Names names) {
        try {
            GPTConfig cfg = ClassifierDirectory.isClassifier(s.model()) ? ClassifierDirectory.summary(s.model()).config() : ModelDirectory.readConfig(s.model());
            return cfg.withDropRate(s.dropout());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(names.model() + " " + e.getMessage(), e);
        }
    }

    /** A new head on a language model, or a classifier directory's model with its head kept; then what trains. */
    private static GPTClassifier classifier(Settings s, List<String> labels, int pad, Names names) {
        GPTClassifier c;
        try {
            if (ClassifierDirectory.isClassifier(s.model())) {
                c = ClassifierStore.load(s.model(), s.dropout());
            } else {
                GPTModel body = ModelDirectory.load(s.model(), ModelDirectory.readConfig(s.model()).withDropRate(s.dropout()));
                c = GPTClassifier.withNewHead(body, labels, s.headBias(), s.tokenRule(), pad, new Rng(s.seed()));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(names.model() + " " + e.getMessage(), e);
        }
        if (!c.labels().equals(labels)) {
            throw new IllegalArgumentException(names.model() + " " + s.model() + " classifies " + c.labels() + " but the data has labels " + labels);
        }
        if (s.trainable() == Trainable.LORA && c.lora() == null) c.addLoRA(s.lora(), new Rng(s.seed() + 1));
        if (s.trainable() != Trainable.LORA && c.lora() != null) {
            throw new IllegalArgumentException(names.model() + " " + s.model() + " has a LoRA adapter; continue with " + names.lora() + " or merge it first (myllm export --merge-lora)");
        }
        s.trainable().apply(c);
        return c;
    }

    /** Evaluation examples in their order, every last batch kept. */
    private static ClassificationDataset evaluation(List<LabelledExample> examples, List<String> labels, Tokenizer tok, int length, int pad,
                                                    int batchSize, String source) {
        return ClassificationDataset.of(ClassificationDataset.tokenize(examples, tok), ClassificationDataset.classIds(examples, labels, source),
                length, pad, batchSize, false, false, 0);
    }

    /**
     * The book's {@code train_classifier_simple} for this classifier: AdamW on what trains (at the run's rate by
     * {@link FineTuning#schedule}), the loss evaluated by the
     * book's rule on the first batches of each set, the accuracies at each epoch's end, each step logged to
     * {@code metrics} and drawn into {@code out/loss.png}; the caller adds its listener and starts it.
     *
     * @param t             the steps and optimizer settings
     * @param tokenizer     the tokenizer file kept beside every model (null: GPT-2's)
     * @param metrics       the log of every step
     * @param out           the run directory (checkpoints and {@code model/})
     * @return the trainer, not yet run
     */
    public Trainer trainer(Training t, TokenizerCopy tokenizer, MetricsLog metrics, Path out) {
        // the evaluation lists come cut to evalBatches, and are read whole
        return FineTuning.trainer(classifier, classifier.transformer(), new ClassificationObjective(classifier),
                        new ClassifierStore(classifier, tokenizer), train, validation.first(t.evalBatches()), train.first(t.evalBatches()),
                        new FineTuning.Settings(FineTuning.schedule(t.lr(), t.warmupSteps(), t.minLr(), t.steps()), t.weightDecay(), t.steps(), t.evalEvery(), t.checkpointEvery()), out)
                .epochMetrics(t.evalBatches())
                .metrics(metrics, out.resolve("loss.png"));
    }

    /**
     * The classifier (its padded length recorded).
     *
     * @return the classifier
     */
    public GPTClassifier classifier() {
        return classifier;
    }

    /**
     * The training set: shuffled each epoch if asked, the last partial batch dropped.
     *
     * @return the training set
     */
    public ClassificationDataset train() {
        return train;
    }

    /**
     * The validation set.
     *
     * @return the validation set
     */
    public ClassificationDataset validation() {
        return validation;
    }

    /**
     * The test set.
     *
     * @return the test set
     */
    public ClassificationDataset test() {
        return test;
    }

    /**
     * Scalars that train (those AdamW updates).
     *
     * @return their number
     */
    public long trainableCount() {
        return classifier.namedParameters().values().stream().filter(Tensor::requiresGrad).mapToLong(Tensor::size).sum();
    }
}
