package dev.myllm.finetune;

import java.util.Locale;

/**
 * How an instruction becomes model text (the book's {@code format_input}, section 7.2, and
 * exercise 7.1's Phi-3 style): the prompt, the marker that opens the response, and the book's
 * extraction of the answer from generated text.
 */
public enum PromptFormat {
    /** The book's Alpaca prompt: a preamble, {@code ### Instruction:}, optional {@code ### Input:}, then {@code ### Response:}. */
    ALPACA("\n\n### Response:\n", "### Response:") {
        @Override
        public String prompt(InstructionExample e) {
            return "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                    + "\n\n### Instruction:\n" + e.instruction() + (e.input().isEmpty() ? "" : "\n\n### Input:\n" + e.input());
        }
    },
    /** Exercise 7.1: {@code <|user|>} then {@code <|assistant|>:}; a chat's earlier turns come first. */
    PHI3("\n<|assistant|>:\n", "<|assistant|>:") {
        @Override
        public String prompt(InstructionExample e) {
            StringBuilder sb = new StringBuilder();
            for (InstructionExample.Exchange x : e.history()) {
                sb.append("<|user|>\n").append(x.user()).append(responsePrefix()).append(x.assistant()).append('\n');
            }
            return sb.append("<|user|>\n").append(e.instruction()).append(e.input().isEmpty() ? "" : "\n" + e.input()).toString();
        }

        @Override
        public boolean hasTurns() {
            return true;
        }
    };

    private final String responsePrefix;
    private final String marker;

    PromptFormat(String responsePrefix, String marker) {
        this.responsePrefix = responsePrefix;
        this.marker = marker;
    }

    /** The text the model sees before its answer ({@code format_input(entry)}), without the response prefix. */
    public abstract String prompt(InstructionExample e);

    /** What separates the prompt from the answer in training text, e.g. {@code "\n\n### Response:\n"}. */
    public String responsePrefix() {
        return responsePrefix;
    }

    /** Training text: prompt, response prefix, and the given answer (the collate adds the end-of-text token). */
    public String fullText(InstructionExample e, String response) {
        return prompt(e) + responsePrefix + response;
    }

    /** Whether earlier exchanges of a conversation are part of the prompt. */
    public boolean hasTurns() {
        return false;
    }

    /**
     * The book's extraction (section 7.6): the generated text after the prompt, with every
     * response marker removed and surrounding whitespace stripped.
     */
    public String extract(String generated) {
        return generated.replace(marker, "").strip();
    }

    /** The lower-case name used on the command line and in saved models. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format called {@code name} (alpaca, phi3). */
    public static PromptFormat parse(String name) {
        for (PromptFormat f : values()) if (f.id().equals(name.toLowerCase(Locale.ROOT))) return f;
        throw new IllegalArgumentException("unknown prompt format '" + name + "' (known: alpaca, phi3)");
    }
}
