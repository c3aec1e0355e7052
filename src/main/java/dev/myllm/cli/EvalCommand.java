package dev.myllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code myllm eval}: evaluate a fine-tuned model (classifier or instruction model). */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a fine-tuned model.",
        subcommands = {EvalClassifyCommand.class, EvalInstructCommand.class})
final class EvalCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
