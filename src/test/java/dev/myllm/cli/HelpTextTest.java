package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help names its option values for a person, and a typo is reported before a missing option. */
class HelpTextTest {

    @Test
    void noHelpShowsJavaFieldNames() {
        checkHelp(Main.commandLine());
    }

    private static void checkHelp(CommandLine command) {
        StringWriter help = new StringWriter();
        command.usage(new PrintWriter(help));
        assertThat(help.toString()).as(command.getCommandSpec().qualifiedName()).doesNotContain("=<");
        command.getSubcommands().values().forEach(HelpTextTest::checkHelp);
    }

    @Test
    void placeholdersAreTheOptionNamesInCapitals() {
        assertThat(CliRun.run("bench", "finetune", "--help").out())
                .contains("--batch-size=BATCH_SIZE", "--context-length=CONTEXT_LENGTH", "--init=book|gpt2");
    }

    @Test
    void anUnknownOptionIsNamedBeforeAMissingRequiredOne() {
        CliRun run = CliRun.run("generate", "--promt", "Hello");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).startsWith("myllm: Unknown option: '--promt'");
    }

    @Test
    void relabelledOptionsStillSetTheirFields() {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs("bench", "matmul", "--rows", "7");
        BenchMatmulCommand matmul = parsed.subcommand().subcommand().commandSpec().commandLine().getCommand();
        assertThat(matmul.rows).isEqualTo(7);
        assertThat(CliRun.run("bench", "matmul", "--rows", "x").err()).startsWith("myllm: Invalid value for option '--rows'");
    }
}
