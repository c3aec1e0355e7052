package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./myllm} registers only the commands its arguments name, and answers exactly as with the whole tree. */
class CommandTreeTest {

    @Test
    void registersOnlyTheCommandsOnTheArgumentsPath() {
        CommandLine cl = Main.commandLine("bench", "serve", "--help");
        assertThat(cl.getSubcommands()).containsOnlyKeys("bench");
        assertThat(cl.getSubcommands().get("bench").getSubcommands()).containsOnlyKeys("serve");

        assertThat(Main.commandLine("info", "--preset", "gpt2-tiny").getSubcommands()).containsOnlyKeys("info");
        // a group named without one of its commands, or with a mistyped one: the whole group
        assertThat(Main.commandLine("bench").getSubcommands().get("bench").getSubcommands())
                .containsOnlyKeys("matmul", "tokenizer", "generate", "train", "serve", "finetune");
        assertThat(Main.commandLine("bench", "servee").getSubcommands().get("bench").getSubcommands()).hasSize(6);
        // help, a mistyped command, an option first, nothing: every command
        for (String[] args : List.of(new String[]{"help", "train"}, new String[]{"trian"}, new String[]{"--help"}, new String[0])) {
            assertThat(Main.commandLine(args).getSubcommands().keySet()).isEqualTo(Main.commandLine().getSubcommands().keySet());
        }
        assertThat(Main.commandLine().getSubcommands()).hasSize(18);
        assertThat(Main.commandLine("--version").getSubcommands()).isEmpty(); // the version alone needs none
        assertThat(Main.commandLine().getSubcommands().get("finetune").getSubcommands()).containsOnlyKeys("classify", "instruct", "dpo");
    }

    @Test
    void answersAsTheWholeTreeDoes() {
        List<String[]> cases = List.of(
                new String[0],
                new String[]{"--help"},
                new String[]{"-V"},
                new String[]{"--version"},
                new String[]{"trian"},
                new String[]{"help", "bench"},
                new String[]{"bench"},
                new String[]{"bench", "servee"},
                new String[]{"bench", "serve", "--help"},
                new String[]{"finetune", "dpo", "--bogus"},
                new String[]{"tokenizer", "train", "--help"},
                new String[]{"data", "get"},
                new String[]{"info", "--preset", "gpt2-tiny"},
                new String[]{"info", "--preset", "gpt2-nope"});
        for (String[] args : cases) {
            Run whole = run(Main.commandLine(), args), named = run(Main.commandLine(args), args);
            assertThat(named).as(String.join(" ", args)).isEqualTo(whole);
            assertThat(whole.out() + whole.err()).as(String.join(" ", args)).isNotBlank();
        }
        // what the cases show: the usage lists every command, and a mistyped one is named with the choices
        assertThat(run(Main.commandLine("--help"), "--help").out()).contains("tokenize", "serve", "book", "help");
        Run typo = run(Main.commandLine("bench", "servee"), "bench", "servee");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("unknown command 'servee' for myllm bench; choose one of matmul, tokenizer, generate, train, serve, finetune");
        // every command's --version is the program's
        for (String[] args : List.of(new String[]{"--version"}, new String[]{"bench", "serve", "--version"}, new String[]{"train", "-V"})) {
            assertThat(run(Main.commandLine(args), args).out().strip()).as(String.join(" ", args)).isEqualTo("myllm 0.1.0");
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }
}
