package dev.myllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code myllm eval}: evaluate a fine-tuned model (classifier or instruction model). */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a fine-tuned model.")
final class EvalCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }
}
