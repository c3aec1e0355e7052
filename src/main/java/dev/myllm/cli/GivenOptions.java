package dev.myllm.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * Checks of options whose default is a sentinel ({@code -1} or {@code 0} for "not given"): a value the user typed
 * must be a valid one, rather than silently meaning the default.
 */
final class GivenOptions {
    private GivenOptions() {
    }

    /** Whether {@code name} was on the command line (options restored by {@code --resume} were not). */
    static boolean given(CommandSpec spec, String name) {
        ParseResult r = spec.commandLine().getParseResult();
        return r != null && r.hasMatchedOption(name);
    }

    /** A typed {@code name} must be >= 0. */
    static void nonNegative(CommandSpec spec, String name, Number value) {
        if (given(spec, name) && value.doubleValue() < 0) throw new CliException(name + " must be >= 0, got " + value);
    }

    /** A typed {@code name} must be > 0. */
    static void positive(CommandSpec spec, String name, Number value) {
        if (given(spec, name) && !(value.doubleValue() > 0)) throw new CliException(name + " must be positive, got " + value);
    }
}
