package dev.myllm.cli;

import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** The {@code ./myllm} command line: one subcommand per job, each with {@code --help}. */
@Command(name = "myllm", mixinStandardHelpOptions = true, version = "myllm 0.1.0",
        description = "A GPT-style large language model built from scratch in Java.")
public final class Main implements java.util.concurrent.Callable<Integer> {

    @CommandLine.Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }

    /**
     * What {@code myllm} or a command group ({@code myllm finetune}) does without a command: a
     * usage error, as a bad argument is (exit 2, the usage on stderr), so that a script missing
     * its command fails instead of passing with help text on its output.
     */
    static int missingCommand(CommandSpec spec) {
        CommandLine cl = spec.commandLine();
        cl.getErr().println("myllm: missing command for " + spec.qualifiedName());
        cl.usage(cl.getErr());
        cl.getErr().flush();
        return 2;
    }

    /** The configured picocli command line with every command; tests use it to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        CommandTree.addAll(cl, Main.class);
        return configured(cl);
    }

    /** The command line {@code ./myllm ARGS} runs: the commands {@code args} name ({@link CommandTree#addFor}), configured alike. */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        CommandTree.addFor(cl, Main.class, List.of(args));
        return configured(cl);
    }

    private static CommandLine configured(CommandLine cl) {
        labelValues(cl.getCommandSpec());
        sameVersion(cl.getCommandSpec(), cl.getCommandSpec().version());
        HelpWrapping.install(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println("myllm: " + Errors.oneLine(ex));
            if (debug()) ex.printStackTrace(cmd.getErr());
            return ex instanceof CliException ce ? ce.exitCode() : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("myllm: " + firstProblem(ex));
            ex.getCommandLine().getErr().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help' for more information.");
            return 2;
        });
        return cl;
    }

    /**
     * The message for a command line picocli rejects. picocli checks required options before it
     * reports unknown ones, so {@code generate --promt x} would say "--prompt is missing" and hide
     * the typo; the unknown argument is the real problem and is named first.
     */
    private static String firstProblem(CommandLine.ParameterException ex) {
        List<String> unmatched = ex.getCommandLine().getUnmatchedArguments();
        var subcommands = ex.getCommandLine().getSubcommands().keySet().stream().filter(n -> !n.equals("help")).toList();
        if (ex instanceof CommandLine.UnmatchedArgumentException && !subcommands.isEmpty() && !unmatched.isEmpty()
                && !unmatched.getFirst().startsWith("-")) {
            // "myllm trian": a mistyped command, not an argument
            return "unknown command '" + unmatched.getFirst() + "' for " + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + "; choose one of " + String.join(", ", subcommands);
        }
        if (ex instanceof CommandLine.MissingParameterException && !unmatched.isEmpty()) {
            String first = unmatched.getFirst();
            return (first.startsWith("-") ? "Unknown option: '" : "Unmatched argument: '") + first + "'";
        }
        // picocli starts a missing group's message with "Error: ", which would follow our "myllm: "
        String m = ex.getMessage();
        return m != null && m.startsWith("Error: ") ? m.substring("Error: ".length()) : m;
    }

    /**
     * One rule for the placeholder of every option value that names none itself: the option's
     * name in capitals, as argparse shows it ({@code --batch-size=BATCH_SIZE}), instead of
     * picocli's field names ({@code --batch-size=<batchSize>}), which mean nothing to a user.
     */
    static void labelValues(CommandSpec spec) {
        // every option is taken out and added again, relabelled or not: the help lists them in the order they were added,
        // and re-adding only the relabelled ones moved them after the others (train's --n-layer after --resume); an
        // ArgGroup's options cannot be taken out (they name their placeholders)
        List<OptionSpec> options = spec.options().stream().filter(o -> o.group() == null).toList();
        options.forEach(spec::remove);
        for (OptionSpec option : options) {
            String label = option.paramLabel();
            if (option.arity().max() == 0 || !(label.startsWith("<") && label.endsWith(">"))) {
                spec.addOption(option);
                continue;
            }
            String name = option.longestName().replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
            spec.addOption(option.toBuilder().paramLabel(name).build());
        }
        spec.subcommands().values().forEach(sub -> labelValues(sub.getCommandSpec()));
    }

    /** Every command's {@code --version} prints the program's (picocli's own default for a subcommand is an empty line). */
    private static void sameVersion(CommandSpec spec, String[] version) {
        spec.version(version);
        spec.subcommands().values().forEach(sub -> sameVersion(sub.getCommandSpec(), version));
    }

    /** Whether errors show their stack trace after their line ({@code MYLLM_DEBUG} set, as the README tells). */
    private static boolean debug() {
        return System.getenv("MYLLM_DEBUG") != null;
    }

    /**
     * Runs {@code args} on {@code cl} as {@code ./myllm} does: an OutOfMemoryError, an Error, passes picocli's exception
     * handler and is caught here, still one line on {@code cl}'s stderr and exit 1; with {@code debug} its stack trace follows.
     */
    static int execute(CommandLine cl, String[] args, boolean debug) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            cl.getErr().println("myllm: " + Errors.oneLine(e));
            if (debug) e.printStackTrace(cl.getErr());
            cl.getErr().flush();
            return 1;
        }
    }

    public static void main(String[] args) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            // a JVM started without it failed with a NoClassDefFoundError stack trace at the first kernel (a jar's manifest cannot add it)
            System.err.println("myllm: the Java Vector API module is not loaded: run java with --add-modules jdk.incubator.vector"
                    + " (java --add-modules jdk.incubator.vector -jar myllm.jar ...), or use ./myllm, which adds it");
            System.exit(2);
        }
        dev.myllm.util.ProgressBars.enable(ConsoleProgressBars::download); // below the command line nothing draws for a person
        System.exit(execute(commandLine(args), args, debug()));
    }
}
