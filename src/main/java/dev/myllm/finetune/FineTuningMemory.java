package dev.myllm.finetune;

import dev.myllm.model.GPTConfig;
import dev.myllm.train.MemoryEstimate;
import java.util.ArrayList;
import java.util.List;

/**
 * The heap a fine-tuning run needs at least, from the model's shape before its weights are read, so that a run that
 * cannot fit is refused in one line up front, as {@code myllm train} refuses one ({@link MemoryEstimate}), instead of
 * an OutOfMemoryError after loading. Where the exact figure is uncertain it counts less, never more: a run it refuses
 * certainly does not fit (one it passes may still run short).
 */
public final class FineTuningMemory {
    /** What the model is tuned for: which output the loss reads and what else the run holds. */
    public enum Kind {
        /** A new classification head (chapter 6): no output over the vocabulary. */
        CLASSIFIER,
        /** Instruction tuning (chapter 7): the fused output head and loss. */
        INSTRUCT,
        /** DPO: the chosen and the rejected pass with their full logits, and a frozen reference copy unless LoRA trains. */
        DPO
    }

    /**
     * How a refusal names what to change, in its caller's terms.
     *
     * @param batchSize    the batch size setting, e.g. {@code --batch-size}
     * @param length       the length setting, e.g. {@code --max-length}
     * @param fewerWeights how to train fewer weights, e.g. {@code --trainable lora}
     * @param heap         how to give the JVM more heap
     */
    public record Names(String batchSize, String length, String fewerWeights, String heap) {
    }

    private FineTuningMemory() {
    }

    /**
     * The estimate for {@code batch} rows (DPO: pairs) of {@code length} tokens; {@code length} 0 counts no activations
     * (the length is not known yet). Every weight is held in float32 (and DPO's reference copy when LoRA does not train);
     * only what trains has gradients and AdamW's two moments; the activations are what the step's arena keeps from
     * forward to backward, all blocks' whatever trains (frozen blocks' too: the arena frees nothing before the step ends).
     */
    public static MemoryEstimate estimate(GPTConfig cfg, Kind kind, Trainable what, int batch, int length, boolean checkpoint) {
        long all = cfg.parameterCount(), trains = trainedAtLeast(cfg, kind, what);
        long weights = all + (kind == Kind.DPO && what != Trainable.LORA ? all : 0);
        long n = (long) batch * length;
        long c = cfg.embDim();
        // LoRA's update on each of a block's maps (outputs 3C, C, 4C, C): its product, the scaled copy and the sum
        long lora = what == Trainable.LORA ? 3 * 9 * c * (checkpoint ? 1 : cfg.nLayers()) : 0;
        long forward = MemoryEstimate.forwardFloatsPerToken(cfg, checkpoint) + lora;
        // half of training's gradients in flight: a classifier's or DPO's backward held a little less than training's
        // estimate (FineTuningMemoryTest measures them), and this is to stay below what a step holds
        long backward = MemoryEstimate.backwardFloatsPerToken(cfg) / 2;
        long activations = switch (kind) {
            // the final LayerNorm runs on one position a row (or their mean) and the head's floats are a few a row; backward
            // does not enter the blocks when the head trains alone
            case CLASSIFIER -> n * (forward - (c + 2) + (what == Trainable.HEAD ? 0 : backward));
            // the fused head and loss run only on the positions with a target, which may be few: counted as none
            case INSTRUCT -> n * (forward + backward);
            // both passes keep their activations and (B, T, V) logits until the loss's backward (SequenceLogProbs reads all
            // of them); the reference's passes run before, without gradients, and their buffers are free again
            case DPO -> 2 * n * (forward + cfg.vocabSize()) + n * backward;
        };
        // no margin for the young generation and work buffers (as train's MemoryEstimate): small runs fit in little (finetune
        // instruct and classify of gpt2-tiny ran in a heap of 200 MB, which a margin of 192 MiB alone nearly filled)
        return new MemoryEstimate((weights + trains) * Float.BYTES, 2 * trains * Float.BYTES, activations * Float.BYTES);
    }

    /**
     * Parameters that train, at least: every one for {@link Trainable#ALL} (a classifier's body without the language
     * model's head), the last one or two blocks with the final LayerNorm, and none for the new head or LoRA's adapters
     * (a few million at most).
     */
    static long trainedAtLeast(GPTConfig cfg, Kind kind, Trainable what) {
        return switch (what) {
            case ALL -> kind == Kind.CLASSIFIER ? cfg.parameterCountWithoutHead() : cfg.parameterCount();
            case LAST_BLOCK -> Math.min(1, cfg.nLayers()) * cfg.blockParameterCount() + 2L * cfg.embDim();
            case LAST_TWO_BLOCKS -> Math.min(2, cfg.nLayers()) * cfg.blockParameterCount() + 2L * cfg.embDim();
            case HEAD, LORA -> 0;
        };
    }

    /**
     * The one-line refusal when the run cannot fit in {@code heapBytes}, or null: as {@link MemoryEstimate#refusal}, it
     * names the batch (or, {@code length} 0, the run before its first batch), what it needs, the heap, and then what to
     * change in {@code names}' terms, each only when it would do by this estimate: a smaller batch or length when the
     * run before its first batch fits, LoRA when the same batch with LoRA fits; more heap always.
     */
    public static String refusal(GPTConfig cfg, Kind kind, Trainable what, int batch, int length, boolean checkpoint, long heapBytes, Names names) {
        MemoryEstimate e = estimate(cfg, kind, what, batch, length, checkpoint);
        if (e.fits(heapBytes)) return null;
        List<String> remedies = new ArrayList<>();
        if (length > 0 && estimate(cfg, kind, what, batch, 0, checkpoint).fits(heapBytes)) {
            remedies.add("lower " + names.batchSize() + " or " + names.length());
        }
        if (what != Trainable.LORA && estimate(cfg, kind, Trainable.LORA, batch, length, checkpoint).fits(heapBytes)) {
            remedies.add("train fewer weights (" + names.fewerWeights() + ")");
        }
        remedies.add(names.heap());
        String remedy = remedies.size() == 1 ? remedies.getFirst()
                : String.join(", ", remedies.subList(0, remedies.size() - 1)) + ", or " + remedies.getLast();
        return length > 0 ? e.refusal(batch, length, heapBytes, remedy) : e.refusal(run(kind, what) + " before its first batch", heapBytes, remedy);
    }

    /** For example "fine-tuning every weight" or "DPO of the last block with a frozen reference copy". */
    private static String run(Kind kind, Trainable what) {
        String trains = switch (what) {
            case ALL -> "every weight";
            case LAST_BLOCK -> "the last block";
            case LAST_TWO_BLOCKS -> "the last two blocks";
            case LORA -> "LoRA adapters";
            case HEAD -> "a new head";
        };
        if (kind != Kind.DPO) return "fine-tuning " + trains;
        return "DPO of " + trains + (what != Trainable.LORA ? " with a frozen reference copy" : "");
    }
}
