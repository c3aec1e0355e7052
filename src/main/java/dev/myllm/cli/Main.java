package dev.myllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./myllm} command line: one subcommand per job, each with {@code --help}. */
@Command(name = "myllm", mixinStandardHelpOptions = true, version = "myllm 0.1.0",
        description = "A GPT-style large language model built from scratch in Java.",
        subcommands = {
                DemoCommand.class,
                TrainCommand.class,
                GenerateCommand.class,
                ScoreCommand.class,
                InfoCommand.class,
                TokenizeCommand.class,
                TokenizerCommand.class,
                DataCommand.class,
                DownloadCommand.class,
                ExportCommand.class,
                ServeCommand.class,
                BenchCommand.class,
                FinetuneCommand.class,
                ClassifyCommand.class,
                EvalCommand.class,
                ChatCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the configured picocli command line; tests use it to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println("myllm: " + Errors.oneLine(ex));
            if (System.getenv("MYLLM_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return ex instanceof CliException ce ? ce.exitCode() : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("myllm: " + ex.getMessage());
            ex.getCommandLine().getErr().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help' for more information.");
            return 2;
        });
        return cl;
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            // an Error passes picocli's exception handler: still one line, never a stack trace
            System.err.println("myllm: " + Errors.oneLine(e));
            code = 1;
        }
        System.exit(code);
    }
}
