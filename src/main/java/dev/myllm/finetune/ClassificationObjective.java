package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.ArgMax;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.Objective;
import java.util.List;
import java.util.Map;

/**
 * The book's {@code calc_loss_batch} for a classifier: cross-entropy of the class logits against
 * one label per row, mean over the batch; and {@code calc_accuracy_loader}: correct predictions
 * over examples (not a mean of batch accuracies) on the first n batches.
 */
public final class ClassificationObjective implements Objective {
    private final GPTClassifier model;

    public ClassificationObjective(GPTClassifier model) {
        this.model = model;
    }

    @Override
    public Tensor loss(Batch b) {
        return Ops.crossEntropy(model.logits(b.inputs(), b.rows(), b.cols()), b.targets());
    }

    @Override
    public Map<String, Double> metrics(List<Batch> batches, int numBatches) {
        return Map.of("accuracy", accuracy(model, batches, numBatches));
    }

    /** Share of correctly classified examples in the first {@code numBatches} batches (all when {@code <= 0}); NaN when none. */
    public static double accuracy(GPTClassifier model, List<Batch> batches, int numBatches) {
        int n = numBatches <= 0 ? batches.size() : Math.min(numBatches, batches.size());
        long correct = 0, total = 0;
        try (GradMode g = GradMode.noGrad()) {
            for (int i = 0; i < n; i++) {
                Batch b = batches.get(i);
                int[] pred = predict(model, b.inputs(), b.rows(), b.cols());
                for (int r = 0; r < b.rows(); r++) if (pred[r] == b.targets()[r]) correct++;
                total += b.rows();
            }
        }
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** The argmax class of each row (the first on ties, as torch's argmax). */
    public static int[] predict(GPTClassifier model, int[] ids, int rows, int cols) {
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            float[] lg = model.logits(ids, rows, cols).data();
            int k = model.labels().size();
            int[] out = new int[rows];
            for (int r = 0; r < rows; r++) out[r] = ArgMax.of(lg, r * k, k);
            return out;
        }
    }

    /** Class probabilities {@code (rows, classes)} (softmax of the logits). */
    public static float[] probabilities(GPTClassifier model, int[] ids, int rows, int cols) {
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            float[] lg = model.logits(ids, rows, cols).data();
            int k = model.labels().size();
            float[] p = new float[rows * k];
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < k; j++) max = Math.max(max, lg[r * k + j]);
                for (int j = 0; j < k; j++) sum += Math.exp(lg[r * k + j] - max);
                for (int j = 0; j < k; j++) p[r * k + j] = (float) (Math.exp(lg[r * k + j] - max) / sum);
            }
            return p;
        }
    }
}
