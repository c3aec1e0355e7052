package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Ops;
import java.util.Arrays;
import java.util.List;

/**
 * The book's {@code custom_collate_fn} (section 7.3): append one end-of-text token, pad with it to
 * the batch's longest item, shift by one for the targets, keep the first pad target (the EOS) and
 * ignore the later ones, optionally ignore the prompt's targets (exercise 7.2), then cut to
 * {@code allowedMaxLength}.
 */
public final class InstructionCollate {
    private InstructionCollate() {
    }

    /**
     * Collates token lists into a batch {@code (B, width−1)} cut to {@code allowedMaxLength}
     * (0 = no cut). {@code instructionLengths} (may be null) are the prompts' token counts: when
     * given, targets {@code [0, L−1)} of each row are ignored.
     */
    public static Batch collate(List<int[]> items, int[] instructionLengths, int padId, int allowedMaxLength) {
        if (items.isEmpty()) throw new IllegalArgumentException("collate: no items");
        int width = 0;
        for (int[] it : items) width = Math.max(width, it.length + 1);
        int cols = width - 1;
        if (allowedMaxLength > 0) cols = Math.min(cols, allowedMaxLength);
        int rows = items.size();
        int[] inputs = new int[rows * cols], targets = new int[rows * cols];
        int[] padded = new int[width];
        for (int r = 0; r < rows; r++) {
            int[] it = items.get(r);
            Arrays.fill(padded, padId);
            System.arraycopy(it, 0, padded, 0, it.length);
            int[] tgt = Arrays.copyOfRange(padded, 1, width);
            boolean seenPad = false;
            for (int i = 0; i < tgt.length; i++) {
                if (tgt[i] != padId) continue;
                if (seenPad) tgt[i] = Ops.IGNORE_INDEX;
                seenPad = true;
            }
            if (instructionLengths != null) Arrays.fill(tgt, 0, Math.max(0, Math.min(tgt.length, instructionLengths[r] - 1)), Ops.IGNORE_INDEX);
            System.arraycopy(padded, 0, inputs, r * cols, cols);
            System.arraycopy(tgt, 0, targets, r * cols, cols);
        }
        return new Batch(inputs, targets, rows, cols);
    }
}
