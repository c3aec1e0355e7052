package dev.myllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code myllm finetune}: fine-tune a pretrained GPT (chapter 6 classification; appendix E LoRA). */
@Command(name = "finetune", mixinStandardHelpOptions = true, description = "Fine-tune a pretrained GPT.")
final class FinetuneCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }
}
