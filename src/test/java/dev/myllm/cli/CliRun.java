package dev.myllm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One in-process run of the command line: its exit code and what it printed on each stream. */
record CliRun(int code, String out, String err) {

    /** Runs {@code myllm ARGS...} through the same picocli setup as {@code ./myllm} (only the commands named registered). */
    static CliRun run(String... args) {
        CommandLine cl = Main.commandLine(args);
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /**
     * As {@link #run}, with what the command printed on {@code System.err} (a training run's progress and notes, which
     * picocli's err does not see) ahead of picocli's err.
     */
    static CliRun runCapturingStderr(String... args) {
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
            r = run(args);
        } finally {
            System.setErr(before);
        }
        return new CliRun(r.code(), r.out(), progress.toString(java.nio.charset.StandardCharsets.UTF_8) + r.err());
    }
}
