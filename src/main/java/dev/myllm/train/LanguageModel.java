package dev.myllm.train;

import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Tensor;

/** What training needs of a model: logits {@code (B, T, V)} for token ids {@code (B, T)}, row-major. */
@FunctionalInterface
public interface LanguageModel {
    Tensor logits(int[] ids, int batch, int time);

    /**
     * Mean cross-entropy of the predictions for {@code (B, T)} ids against one target per position
     * ({@code Ops.IGNORE_INDEX} skipped). This default makes all logits first; {@link #of} fuses
     * a GPT's output head with the loss so the {@code (B·T, V)} logits are never held.
     */
    default Tensor loss(int[] ids, int batch, int time, int[] targets) {
        return Ops.crossEntropy(logits(ids, batch, time), targets);
    }

    /** A GPT model whose loss runs the output head fused with the cross-entropy. */
    static LanguageModel of(GPTModel model) {
        return new LanguageModel() {
            @Override
            public Tensor logits(int[] ids, int batch, int time) {
                return model.forward(ids, batch, time);
            }

            @Override
            public Tensor loss(int[] ids, int batch, int time, int[] targets) {
                // LoRA on the head: unfused; packed inference weights: their own fused loss (no gradient)
                if (model.hasHeadAdapter()) return Ops.crossEntropy(logits(ids, batch, time), targets);
                PackedMatrix packedHead = model.outputHead() != null ? model.outputHead().packed() : model.tokenEmbedding().packed();
                Tensor hidden = model.finalHidden(ids, batch, time, null, false);
                if (packedHead != null) return Ops.linearCrossEntropy(hidden, packedHead, targets);
                return Ops.linearCrossEntropy(hidden, model.headWeight(), null, targets);
            }
        };
    }
}
