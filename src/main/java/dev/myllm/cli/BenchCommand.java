package dev.myllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code myllm bench}: speed measurements (matrix products, tokenizer, generation, training). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure speed; compare with python3 tools/sgemm_ceiling.py in the same sitting.")
final class BenchCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }
}
