package dev.myllm.cli;

import dev.myllm.finetune.PromptFormat;
import picocli.CommandLine.Option;

/** The {@code --format} option of the commands that write or read instruction prompts (finetune instruct and dpo, chat, eval instruct). */
final class PromptFormatOption {
    @Option(names = "--format", paramLabel = "alpaca|phi3", description = "Prompt format; default: the one saved with the model, else alpaca.")
    String name;

    /** The typed format, or null when none was given (then the model's saved one, else Alpaca, applies). */
    PromptFormat given() {
        if (name == null) return null;
        try {
            return PromptFormat.parse(name);
        } catch (IllegalArgumentException e) {
            throw new CliException("--format: " + e.getMessage());
        }
    }
}
