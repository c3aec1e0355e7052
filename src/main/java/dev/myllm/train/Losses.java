package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import java.util.Iterator;

/** The book's loss helpers: {@code calc_loss_batch}, {@code calc_loss_loader} and perplexity. */
public final class Losses {
    private Losses() {
    }

    /** Mean cross-entropy of the model on one batch (a graph node when grad mode is on). */
    public static Tensor batchLoss(LanguageModel model, Batch b) {
        return model.loss(b.inputs(), b.rows(), b.cols(), b.targets());
    }

    /**
     * The mean of per-batch mean losses over the first {@code numBatches} batches (all when
     * {@code numBatches <= 0}, and at most as many as there are), without gradients; NaN when
     * there are no batches, as in the book.
     */
    public static double loaderLoss(LanguageModel model, Iterable<Batch> batches, int numBatches) {
        return loaderLoss(Objective.languageModel(model), batches, numBatches);
    }

    /** {@link #loaderLoss(LanguageModel, Iterable, int)} for any objective: the mean of its per-batch losses. */
    public static double loaderLoss(Objective objective, Iterable<Batch> batches, int numBatches) {
        double total = 0;
        int n = 0;
        // one outermost arena scope around the batches: the training step's pooled buffers survive it
        try (GradMode g = GradMode.noGrad(); Arena all = Arena.open()) {
            Iterator<Batch> it = batches.iterator();
            while (it.hasNext() && (numBatches <= 0 || n < numBatches)) {
                Batch b = it.next();
                try (Arena a = Arena.open()) {
                    total += objective.loss(b).item();
                }
                n++;
            }
        }
        return n == 0 ? Double.NaN : total / n;
    }

    /** Perplexity {@code exp(loss)}: the effective number of tokens the model hesitates between. */
    public static double perplexity(double loss) {
        return Math.exp(loss);
    }
}
