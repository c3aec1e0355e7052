package dev.myllm.finetune;

import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The DPO notebook's {@code PreferenceDataset} and collate: each record encoded as its prompt,
 * prompt + response prefix + chosen, and the same with rejected (no end-of-text token, as the
 * notebook; optionally with one, so each answer is compared as a complete answer).
 */
public final class PreferenceDataset {
    /** Prompt tokens plus the two newline tokens of the response prefix: what the book leaves out of the mask. */
    static final int PREFIX_NEWLINES = 2;
    private final List<int[]> prompts = new ArrayList<>();
    private final List<int[]> chosen = new ArrayList<>();
    private final List<int[]> rejected = new ArrayList<>();

    /** The notebook's encoding: no end-of-text token after the answers. */
    public PreferenceDataset(List<InstructionExample> examples, Tokenizer tok, PromptFormat format, int maxLength, String source) {
        this(examples, tok, format, maxLength, source, -1);
    }

    /**
     * With {@code endId >= 0}, that token (the end-of-text id the instruction collate appends) ends
     * both answers and counts in their log-probabilities: without it an answer that is the start of
     * the other ("670" against "6700") is not a different answer to the model, only a shorter
     * stretch of the same text, and stopping after it can be neither rewarded nor penalised.
     */
    public PreferenceDataset(List<InstructionExample> examples, Tokenizer tok, PromptFormat format, int maxLength, String source, int endId) {
        InstructionData.requirePreferences(examples, source);
        for (int i = 0; i < examples.size(); i++) {
            InstructionExample e = examples.get(i);
            int[] p = tok.encode(format.prompt(e), Specials.TEXT);
            if (p.length + PREFIX_NEWLINES >= maxLength) {
                throw new IllegalArgumentException(source + ": record " + i + " has a prompt of " + p.length
                        + " tokens, which does not fit the context of " + maxLength);
            }
            prompts.add(p);
            chosen.add(ended(tok.encode(format.fullText(e, e.chosen()), Specials.TEXT), endId));
            rejected.add(ended(tok.encode(format.fullText(e, e.rejected()), Specials.TEXT), endId));
        }
    }

    private static int[] ended(int[] ids, int endId) {
        if (endId < 0) return ids;
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = endId;
        return out;
    }

    public int size() {
        return prompts.size();
    }

    /** The batch of records {@code indices}. */
    public PreferenceBatch batch(int[] indices, int padId, int allowedMaxLength) {
        List<int[]> p = new ArrayList<>(), c = new ArrayList<>(), r = new ArrayList<>();
        for (int i : indices) {
            p.add(prompts.get(i));
            c.add(chosen.get(i));
            r.add(rejected.get(i));
        }
        return collate(p, c, r, padId, allowedMaxLength, true);
    }

    /**
     * The notebook's {@code custom_collate_fn}: one width (longest chosen or rejected + 1) for both,
     * pad with {@code padId}, mask the real tokens, unmask the prompt and the response prefix's two
     * newlines when {@code maskPrompt}, then cut to {@code allowedMaxLength} (0 = no cut).
     */
    public static PreferenceBatch collate(List<int[]> prompts, List<int[]> chosen, List<int[]> rejected, int padId,
                                          int allowedMaxLength, boolean maskPrompt) {
        int width = 0;
        for (int k = 0; k < prompts.size(); k++) width = Math.max(width, Math.max(chosen.get(k).length, rejected.get(k).length) + 1);
        int cols = allowedMaxLength > 0 ? Math.min(width, allowedMaxLength) : width;
        int rows = prompts.size();
        int[] ci = new int[rows * cols], ri = new int[rows * cols];
        boolean[] cm = new boolean[rows * cols], rm = new boolean[rows * cols];
        for (int k = 0; k < rows; k++) {
            int promptEnd = maskPrompt ? prompts.get(k).length + PREFIX_NEWLINES : 0;
            fill(chosen.get(k), promptEnd, padId, ci, cm, k * cols, cols);
            fill(rejected.get(k), promptEnd, padId, ri, rm, k * cols, cols);
        }
        return new PreferenceBatch(ci, ri, cm, rm, rows, cols);
    }

    private static void fill(int[] seq, int promptEnd, int padId, int[] ids, boolean[] mask, int off, int cols) {
        Arrays.fill(ids, off, off + cols, padId);
        System.arraycopy(seq, 0, ids, off, Math.min(cols, seq.length));
        for (int t = promptEnd; t < Math.min(cols, seq.length); t++) mask[off + t] = true;
    }
}
