package dev.myllm.cli;

import dev.myllm.io.HubDownload;
import dev.myllm.model.GPTConfig;
import dev.myllm.util.Download.DownloadException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code myllm download}: OpenAI's GPT-2 weights from the Hugging Face hub into a model directory. */
@Command(name = "download", mixinStandardHelpOptions = true,
        description = {"Download OpenAI's GPT-2 weights (config.json and model.safetensors) from the Hugging Face hub.",
                "Honours HF_ENDPOINT (a mirror) and HF_TOKEN; an interrupted download resumes when run again."})
final class DownloadCommand implements Runnable {
    /** The environment; tests aim it at a local server instead of setting real variables. */
    static Function<String, String> env = System::getenv;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "gpt2, gpt2-medium, gpt2-large or gpt2-xl.")
    String name;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to put the model (default: ~/.cache/myllm/models/NAME, or $MYLLM_HOME/models/NAME when set).")
    Path out;

    @Option(names = {"-q", "--quiet"}, description = "No progress bars.")
    boolean quiet;

    @Override
    public void run() {
        PrintWriter err = spec.commandLine().getErr();
        HubDownload hub = new HubDownload(env).progress(!quiet).log(m -> {
            err.println("myllm: " + m);
            err.flush();
        });
        String model;
        try {
            model = HubDownload.model(name);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (out != null) OutputPaths.directory("--out", out); // before the hub is asked and gigabytes fetched, not after
        Path dir = out != null ? out : hub.defaultDir(model);
        GPTConfig c;
        try {
            c = hub.fetch(model, dir);
        } catch (DownloadException | IllegalArgumentException | UncheckedIOException e) {
            throw new CliException(e.getMessage(), 1);
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("downloaded openai-community/%s (%,d parameters) to %s%n", model, c.parameterCount(), dir);
        o.printf("use it with: --model %s%n", dir);
        o.flush();
    }
}
