package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** An OutOfMemoryError from a command is one line, as every error is; with MYLLM_DEBUG its stack trace follows, as other errors' does. */
class OutOfMemoryCliTest {
    /** A command that runs out of memory at once: no test heap has to fill. */
    @Command(name = "oom")
    static final class Oom implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new OutOfMemoryError("Java heap space");
        }
    }

    private static CliRun run(boolean debug) {
        CommandLine cl = Main.commandLine("--version"); // configured as ./myllm's, no command registered
        cl.addSubcommand("oom", new Oom());
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = Main.execute(cl, new String[]{"oom"}, debug);
        return new CliRun(code, out.toString(), err.toString());
    }

    @Test
    void oneLineWithoutDebug() {
        CliRun r = run(false);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("myllm: out of memory: the Java heap is ").doesNotContain("OutOfMemoryError");
        assertThat(r.err().strip()).doesNotContain("\n");
    }

    @Test
    void theStackTraceFollowsWithDebug() {
        CliRun r = run(true);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("myllm: out of memory: the Java heap is ");
        assertThat(r.err().lines().skip(1).findFirst()).hasValue("java.lang.OutOfMemoryError: Java heap space");
        assertThat(r.err()).contains("at dev.myllm.cli.OutOfMemoryCliTest$Oom.call(");
    }
}
