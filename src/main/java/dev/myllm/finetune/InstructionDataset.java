package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The book's {@code InstructionDataset}: each record encoded once as prompt + response prefix +
 * output (no EOS; the collate adds it), with the prompt's token count for instruction masking.
 */
public final class InstructionDataset {
    private final List<InstructionExample> examples;
    private final List<int[]> encoded = new ArrayList<>();
    private final int[] instructionLengths;

    /**
     * Encodes {@code examples}; fails with the record's index when one has no output or its prompt
     * alone does not leave room for an answer within {@code maxLength} tokens.
     */
    public InstructionDataset(List<InstructionExample> examples, Tokenizer tok, PromptFormat format, int maxLength, String source) {
        this.examples = List.copyOf(examples);
        this.instructionLengths = new int[examples.size()];
        for (int i = 0; i < examples.size(); i++) {
            InstructionExample e = examples.get(i);
            // a preference record may go without an output (finetune dpo reads it): here its missing output would be learned as an empty answer
            if (e.output().isEmpty() && e.hasPreference()) {
                throw new IllegalArgumentException(source + ": record " + i + " has no \"output\" to learn (a preference record, for finetune dpo)");
            }
            int[] prompt = tok.encode(format.prompt(e), Specials.TEXT);
            if (prompt.length >= maxLength) {
                throw new IllegalArgumentException(source + ": record " + i + " has a prompt of " + prompt.length
                        + " tokens, which does not fit the context of " + maxLength);
            }
            instructionLengths[i] = prompt.length;
            encoded.add(tok.encode(format.fullText(e, e.output()), Specials.TEXT));
        }
    }

    public int size() {
        return encoded.size();
    }

    public InstructionExample example(int i) {
        return examples.get(i);
    }

    /** Token ids of record {@code i}'s full training text. */
    public int[] tokens(int i) {
        return encoded.get(i);
    }

    public int instructionLength(int i) {
        return instructionLengths[i];
    }

    /** The collated batch of the records at {@code indices}. */
    public Batch batch(int[] indices, int padId, int allowedMaxLength, boolean maskInstruction) {
        List<int[]> items = new ArrayList<>(indices.length);
        int[] lens = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            items.add(encoded.get(indices[k]));
            lens[k] = instructionLengths[indices[k]];
        }
        return InstructionCollate.collate(items, maskInstruction ? lens : null, padId, allowedMaxLength);
    }
}
