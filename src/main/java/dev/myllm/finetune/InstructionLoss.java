package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.Objective;

/**
 * The book's instruction-tuning loss (section 7.5: the mean cross-entropy over the targets that
 * are not −100) computed only where there is a target: the output head, fused with the loss, runs
 * on those positions alone. The number is the same as on all logits; the work is not, because
 * padding and, with {@code --mask-instruction}, the whole prompt have no target (on the built-in
 * synthetic tasks about four positions in five).
 */
public final class InstructionLoss implements Objective {
    private final GPTModel model;

    public InstructionLoss(GPTModel model) {
        this.model = model;
    }

    @Override
    public Tensor loss(Batch b) {
        int[] targets = b.targets();
        int kept = 0;
        for (int t : targets) if (t != Ops.IGNORE_INDEX) kept++;
        // a LoRA on the head needs the full logits; a batch without targets keeps the plain op's answer
        if (model.hasHeadAdapter() || kept == 0) return Ops.crossEntropy(model.forward(b.inputs(), b.rows(), b.cols()), targets);
        Tensor h = model.finalHidden(b.inputs(), b.rows(), b.cols(), null, false);    // (B, T, C)
        if (kept == targets.length) return Ops.linearCrossEntropy(h.reshape(-1, h.dim(2)), model.headWeight(), null, targets);
        int[] at = new int[kept], t = new int[kept];
        for (int i = 0, k = 0; i < targets.length; i++) {
            if (targets[i] == Ops.IGNORE_INDEX) continue;
            at[k] = i;
            t[k++] = targets[i];
        }
        return Ops.linearCrossEntropy(rows(h.reshape(-1, h.dim(2)), at), model.headWeight(), null, t);
    }

    /** {@code out[k] = x[at[k]]}: rows of {@code (N, C)} → {@code (K, C)}; the backward adds each row's gradient back. */
    static Tensor rows(Tensor x, int[] at) {
        int n = x.dim(0), c = x.dim(1);
        float[] xd = x.data(), out = Arena.uninitialized(at.length * c);
        for (int k = 0; k < at.length; k++) {
            if (at[k] < 0 || at[k] >= n) throw new IllegalArgumentException("rows: row " + at[k] + " outside 0.." + (n - 1));
            System.arraycopy(xd, at[k] * c, out, k * c, c);
        }
        return Tensor.result(out, new int[]{at.length, c}, g -> {
            float[] gx = x.gradBuffer();
            for (int k = 0; k < at.length; k++) {
                int o = at[k] * c;
                for (int j = 0; j < c; j++) gx[o + j] += g[k * c + j];
            }
        }, x);
    }
}
