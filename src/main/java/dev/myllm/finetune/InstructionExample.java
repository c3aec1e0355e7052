package dev.myllm.finetune;

import java.util.List;

/**
 * One instruction record (the book's Alpaca entry): {@code instruction}, optional {@code input},
 * the expected {@code output}, and for preference data the {@code chosen} and {@code rejected}
 * responses (null otherwise). {@code history} holds earlier exchanges of a chat record, oldest
 * first (empty for Alpaca records).
 */
public record InstructionExample(String instruction, String input, String output, String chosen, String rejected,
                                 List<Exchange> history) {
    /** One earlier user message and the assistant's answer to it. */
    public record Exchange(String user, String assistant) {
    }

    public InstructionExample {
        if (instruction == null) throw new IllegalArgumentException("a record needs an instruction");
        input = input == null ? "" : input;
        output = output == null ? "" : output;
        history = history == null ? List.of() : List.copyOf(history);
    }

    /** An Alpaca record without preferences or history. */
    public static InstructionExample of(String instruction, String input, String output) {
        return new InstructionExample(instruction, input, output, null, null, List.of());
    }

    /** True when the record carries a chosen and a rejected response. */
    public boolean hasPreference() {
        return chosen != null && rejected != null;
    }
}
