package dev.myllm.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The commands of {@code ./myllm}, group by group, in the order help lists them. The groups name
 * no subcommands in their annotations because picocli reads every option of every command it is
 * given: the whole tree took about 0.35 s of a 0.7 s start. So a run registers only the commands
 * its arguments name ({@code myllm bench serve ...}: bench, then serve), and a whole group when
 * they name none of it (help, a missing or mistyped command, an option first), so that the
 * usage, the lists of commands and the errors are the same as with the whole tree.
 */
final class CommandTree {
    private CommandTree() {
    }

    private static final Map<Class<?>, List<Class<?>>> GROUPS = Map.of(
            Main.class, List.of(
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
                    BookCommand.class,
                    CommandLine.HelpCommand.class),
            BenchCommand.class, List.of(
                    BenchMatmulCommand.class,
                    BenchTokenizerCommand.class,
                    BenchGenerateCommand.class,
                    BenchTrainCommand.class,
                    BenchServeCommand.class,
                    BenchFinetuneCommand.class),
            DataCommand.class, List.of(DataCommand.Get.class, DataCommand.Prepare.class),
            EvalCommand.class, List.of(EvalClassifyCommand.class, EvalInstructCommand.class),
            FinetuneCommand.class, List.of(FinetuneClassifyCommand.class, FinetuneInstructCommand.class, FinetuneDpoCommand.class),
            TokenizerCommand.class, List.of(TokenizerCommand.Train.class));

    /** Registers under {@code cl} (the command {@code group}) every command below it. */
    static void addAll(CommandLine cl, Class<?> group) {
        addFor(cl, group, List.of());
    }

    /**
     * Registers under {@code cl} (the command {@code group}) what {@code args}, the arguments after
     * the group's name, lead to: the command named first and what its own arguments lead to, or,
     * when the first names none of the group's commands ({@code help} included, which needs them
     * all), every command below the group.
     */
    static void addFor(CommandLine cl, Class<?> group, List<String> args) {
        List<Class<?>> commands = GROUPS.getOrDefault(group, List.of());
        String first = args.isEmpty() ? null : args.getFirst();
        if (args.size() == 1 && (first.equals("-V") || first.equals("--version"))) return; // the version needs no command
        for (Class<?> c : commands) {
            if (first != null && name(c).equals(first) && c != CommandLine.HelpCommand.class) {
                CommandLine sub = new CommandLine(c);
                cl.addSubcommand(sub);
                addFor(sub, c, args.subList(1, args.size()));
                return;
            }
        }
        for (Class<?> c : commands) {
            CommandLine sub = new CommandLine(c);
            cl.addSubcommand(sub);
            addAll(sub, c);
        }
    }

    private static String name(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }
}
