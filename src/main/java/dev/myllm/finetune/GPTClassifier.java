package dev.myllm.finetune;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chapter 6's spam classifier, for any number of classes: the GPT body (embeddings, blocks,
 * final LayerNorm) with the vocabulary head replaced by {@code score = Linear(C, classes)}, read
 * at one position per sequence ({@link TokenRule}). Parameter names are Hugging Face's
 * {@code GPT2ForSequenceClassification}: {@code transformer.*}, {@code score.weight},
 * {@code score.bias} (our optional bias, the book's), and {@code lora.*} for LoRA adapters.
 */
public final class GPTClassifier extends Module {
    private final GPTModel transformer;
    private final Linear score;
    private final List<String> labels;
    private final TokenRule rule;
    private final int padId;
    private LoRA lora;
    private int maxLength;

    /**
     * A new head on {@code body} (whose vocabulary head, if separate, is dropped): weight and bias
     * uniform in ±1/√C as torch's {@code nn.Linear} initializes them, drawn from {@code rng}.
     */
    public static GPTClassifier withNewHead(GPTModel body, List<String> labels, boolean headBias, TokenRule rule, int padId, Rng rng) {
        GPTModel b = withoutVocabularyHead(body);
        return new GPTClassifier(b, new Linear(b.config().embDim(), labels.size(), headBias, rng), labels, rule, padId);
    }

    /** A classifier from its parts (a loaded directory): the head's weight {@code (classes, C)} and bias (or null) are copied. */
    public static GPTClassifier of(GPTModel body, Tensor scoreWeight, Tensor scoreBias, List<String> labels, TokenRule rule, int padId) {
        GPTModel b = withoutVocabularyHead(body);
        Linear head = new Linear(b.config().embDim(), labels.size(), scoreBias != null, new Rng(0));
        System.arraycopy(scoreWeight.data(), 0, head.weight().data(), 0, head.weight().size());
        if (scoreBias != null) System.arraycopy(scoreBias.data(), 0, head.bias().data(), 0, head.bias().size());
        return new GPTClassifier(b, head, labels, rule, padId);
    }

    private GPTClassifier(GPTModel body, Linear score, List<String> labels, TokenRule rule, int padId) {
        if (labels.size() < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + labels.size());
        this.transformer = child("transformer", body);
        this.score = child("score", score);
        this.labels = List.copyOf(labels);
        this.rule = rule;
        this.padId = padId;
    }

    /** The body with a tied head, so that no vocabulary projection is kept (the token embedding stays). */
    private static GPTModel withoutVocabularyHead(GPTModel m) {
        if (m.config().tiedHead()) return m;
        GPTModel b = new GPTModel(m.config().withTiedHead(true), 0);
        Map<String, Tensor> w = new LinkedHashMap<>(m.namedParameters());
        w.remove("lm_head.weight");
        b.loadStateDict(w);
        b.dropoutRng().setState(m.dropoutRng().state());
        return b;
    }

    /** Class logits {@code (B, classes)} for token ids {@code (B, T)}, row-major. */
    public Tensor logits(int[] ids, int batch, int seqLen) {
        Tensor h = transformer.hidden(ids, batch, seqLen);                       // (B, T, C)
        Tensor v = rule == TokenRule.MEAN
                ? Pooling.mean(transformer.finalNorm().forward(h))              // (B, C): mean of normed states = mean of logits
                : transformer.finalNorm().forward(Pooling.select(h, rule.positions(ids, batch, seqLen, padId))); // norm is per position
        return score.forward(v);                                                 // (B, classes)
    }

    /** Adds LoRA adapters to every linear map including the head; they are the new trainable parameters. */
    public LoRA addLoRA(LoRA.Settings s, Rng rng) {
        if (lora != null) throw new IllegalStateException("this classifier already has LoRA adapters");
        lora = child("lora", LoRA.attach(transformer, score, s, rng));
        return lora;
    }

    /** The LoRA adapters, or null. */
    public LoRA lora() {
        return lora;
    }

    public GPTModel transformer() {
        return transformer;
    }

    public Linear score() {
        return score;
    }

    public List<String> labels() {
        return labels;
    }

    public TokenRule tokenRule() {
        return rule;
    }

    public int padId() {
        return padId;
    }

    /** The padded length texts were trained at (the book's {@code train_dataset.max_length}), 0 when unknown. */
    public int maxLength() {
        return maxLength;
    }

    /**
     * A text's ids as training read them: cut and padded to the training length (within the context);
     * without a recorded length, cut to the context and not padded.
     */
    public int[] fit(int[] ids) {
        int context = config().contextLength();
        int n = maxLength > 0 ? Math.min(maxLength, context) : Math.max(1, Math.min(ids.length, context));
        int[] out = java.util.Arrays.copyOf(ids, n);
        if (ids.length < n) java.util.Arrays.fill(out, ids.length, n, padId);
        return out;
    }

    /** Records the padded training length, saved with the model so prediction pads the same way. */
    public void maxLength(int n) {
        this.maxLength = n;
    }

    public GPTConfig config() {
        return transformer.config();
    }
}
