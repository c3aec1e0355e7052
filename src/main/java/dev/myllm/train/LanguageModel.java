package dev.myllm.train;

import dev.myllm.tensor.Tensor;

/** What training needs of a model: logits {@code (B, T, V)} for token ids {@code (B, T)}, row-major. */
@FunctionalInterface
public interface LanguageModel {
    Tensor logits(int[] ids, int batch, int time);
}
