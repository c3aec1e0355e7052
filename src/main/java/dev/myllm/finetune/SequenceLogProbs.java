package dev.myllm.finetune;

import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Tensor;

/**
 * The DPO notebook's {@code compute_logprobs} as one op with a hand-written backward: for each row,
 * the mean over the selected positions of the log-probability the logits give the next token
 * (labels = ids shifted by one, mask shifted the same way).
 */
public final class SequenceLogProbs {
    private SequenceLogProbs() {
    }

    /**
     * Mean log-probabilities {@code (B)} of logits {@code (B, T, V)} for the token sequences
     * {@code ids (B, T)}, counting position {@code t} (predicting {@code ids[t+1]}) when
     * {@code mask[t+1]} is set; a row with nothing selected gives 0.
     */
    public static Tensor of(Tensor logits, int[] ids, boolean[] mask, int rows, int time) {
        int v = logits.dim(-1);
        if (logits.size() != (long) rows * time * v || ids.length != rows * time || mask.length != rows * time) {
            throw new IllegalArgumentException("sequence log-probs: logits, ids and mask do not agree on (" + rows + ", " + time + ")");
        }
        float[] x = logits.data();
        float[] out = Arena.uninitialized(rows);
        float[] lse = new float[rows * time];
        int[] counts = new int[rows];
        for (int b = 0; b < rows; b++) {
            double sum = 0;
            for (int t = 0; t + 1 < time; t++) {
                if (!mask[b * time + t + 1]) continue;
                int off = (b * time + t) * v;
                float m = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) m = Math.max(m, x[off + j]);
                double s = 0;
                for (int j = 0; j < v; j++) s += Math.exp(x[off + j] - m);
                lse[b * time + t] = (float) (m + Math.log(s));
                sum += x[off + ids[b * time + t + 1]] - lse[b * time + t];
                counts[b]++;
            }
            out[b] = counts[b] == 0 ? 0f : (float) (sum / counts[b]);
        }
        return Tensor.result(out, new int[]{rows}, g -> {
            float[] dx = logits.gradBuffer();
            for (int b = 0; b < rows; b++) {
                if (counts[b] == 0) continue;
                float scale = g[b] / counts[b];
                for (int t = 0; t + 1 < time; t++) {
                    if (!mask[b * time + t + 1]) continue;
                    int off = (b * time + t) * v;
                    float l = lse[b * time + t];
                    for (int j = 0; j < v; j++) dx[off + j] -= scale * (float) Math.exp(x[off + j] - l);
                    dx[off + ids[b * time + t + 1]] += scale;
                }
            }
        }, logits);
    }
}
