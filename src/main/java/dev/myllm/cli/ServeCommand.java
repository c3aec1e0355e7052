package dev.myllm.cli;

import dev.myllm.finetune.ClassifierStore;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.io.ClassifierDirectory;
import dev.myllm.model.GPTModel;
import dev.myllm.server.OpenAiServer;
import dev.myllm.server.ServedModel;
import dev.myllm.server.ServerConfig;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tensor.PackedMatrix;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code myllm serve}: an OpenAI-compatible HTTP server for one model, with batched decoding. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over OpenAI's HTTP API (/v1/completions, /v1/chat/completions, /v1/embeddings, "
                + "/v1/models, /v1/classify for a classifier directory, /health, /metrics), decoding all running requests as one batch; "
                + "the playground page at / shows how the model reads a text (/v1/inspect).",
                "Listens on 127.0.0.1 unless --host says otherwise. SIGTERM or Ctrl-C drains and exits 0."})
final class ServeCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S", description = "Seed of a preset's random weights, default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind, default ${DEFAULT-VALUE} (this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port, default ${DEFAULT-VALUE} (0: any free port).")
    int port;

    @Option(names = "--name", paramLabel = "NAME", description = "The model's name in the API (default: the directory's or preset's name).")
    String name;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1 and /metrics (default: $MYLLM_API_KEY, else no key).")
    String apiKey;

    @Option(names = "--max-batch", defaultValue = "16", paramLabel = "N", description = "Sequences decoded together at most, default ${DEFAULT-VALUE}.")
    int maxBatch;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N", description = "Sequences waiting for a slot before 429, default ${DEFAULT-VALUE}.")
    int maxQueue;

    @Option(names = "--prefill-chunk", defaultValue = "64", paramLabel = "TOKENS",
            description = "Prompt tokens prefilled between two decode steps, default ${DEFAULT-VALUE}.")
    int prefillChunk;

    @Option(names = "--max-tokens", defaultValue = "4096", paramLabel = "N", description = "Cap on max_tokens, default ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--max-n", defaultValue = "8", paramLabel = "N", description = "Cap on n (choices per request), default ${DEFAULT-VALUE}.")
    int maxN;

    @Option(names = "--max-body", defaultValue = "1048576", paramLabel = "BYTES", description = "Largest request body, default ${DEFAULT-VALUE}.")
    int maxBody;

    @Option(names = "--request-timeout", defaultValue = "300", paramLabel = "SECONDS", description = "Time limit of one request, default ${DEFAULT-VALUE}.")
    int requestTimeout;

    @Option(names = "--idle-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "Close a connection idle this long (also a client that stops reading), default ${DEFAULT-VALUE}.")
    int idleTimeout;

    @Option(names = "--grace", defaultValue = "10", paramLabel = "SECONDS",
            description = "On SIGTERM, time running requests get to finish, default ${DEFAULT-VALUE}.")
    int grace;

    @Option(names = "--inspect-max-tokens", defaultValue = "512", paramLabel = "N",
            description = "Most tokens one /v1/inspect request (the playground page at /) analyses, default ${DEFAULT-VALUE}.")
    int inspectMaxTokens;

    @Option(names = "--log-prompts", description = "Put prompt text in the request log (off by default).")
    boolean logPrompts;

    @Option(names = "--prompt-cache", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Start a prompt that begins as an earlier one did (a chat's next turn, a shared system prompt) from the "
                    + "positions that one's prefill left in a kept KV cache: the same answers, a shorter wait (default: on).")
    boolean promptCache;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ServerConfig config = config();
        PrintWriter err = spec.commandLine().getErr();
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean listening = new AtomicBoolean();
        // handle the signals ourselves, from the start: a graceful drain, then a normal exit 0 (a
        // JVM killed by SIGTERM exits 143); while the model loads and warms up there is nothing to
        // drain, so a signal then exits at once
        for (String sig : new String[]{"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                    if (!listening.get()) {
                        err.println("myllm serve: stopped while starting");
                        err.flush();
                        System.exit(0);
                    }
                    stop.countDown();
                });
            } catch (IllegalArgumentException unsupported) {
                // not on this platform: the JVM's default handling stays
            }
        }
        OpenAiServer server = start(config);
        listening.set(true);
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        err.println("myllm serve: stopping (finishing running requests for up to " + grace + " s)");
        err.flush();
        server.shutdown(Duration.ofSeconds(grace));
        err.println("myllm serve: stopped");
        err.flush();
    }

    ServerConfig config() {
        String key = apiKey != null ? apiKey : System.getenv("MYLLM_API_KEY");
        if (key != null && key.isBlank()) throw new CliException("--api-key (or MYLLM_API_KEY) is empty");
        // clients name the model in "model" and /v1/models/NAME: an empty one is no name to send
        if (name != null && name.isBlank()) throw new CliException("--name is empty");
        check("--port", port, 0, 65535);
        try {
            java.net.InetAddress.getByName(host); // before the model loads: a typo should not cost its loading time
        } catch (java.net.UnknownHostException e) {
            throw new CliException("--host " + host + ": not an address of this machine or a host name that resolves");
        }
        check("--max-batch", maxBatch, 1, 4096);
        check("--max-queue", maxQueue, 1, 1_000_000);
        check("--prefill-chunk", prefillChunk, 1, 1 << 20);
        check("--max-tokens", maxTokens, 1, Integer.MAX_VALUE);
        check("--max-n", maxN, 1, 128);
        check("--max-body", maxBody, 1024, Integer.MAX_VALUE - 1);
        check("--request-timeout", requestTimeout, 1, Integer.MAX_VALUE);
        check("--idle-timeout", idleTimeout, 1, Integer.MAX_VALUE);
        check("--grace", grace, 0, Integer.MAX_VALUE);
        check("--inspect-max-tokens", inspectMaxTokens, 1, 1 << 20);
        return new ServerConfig(host, port, key, maxBatch, maxQueue, prefillChunk, maxBody, maxTokens, maxN,
                Duration.ofSeconds(requestTimeout), Duration.ofSeconds(idleTimeout), Duration.ofSeconds(grace), logPrompts, 512, promptCache);
    }

    private static void check(String option, long v, long min, long max) {
        if (v < min || v > max) throw new CliException(option + " must be in [" + min + ", " + max + "], got " + v);
    }

    /** Loads the model and starts the server; prints where it listens. */
    OpenAiServer start(ServerConfig config) {
        long t0 = System.nanoTime();
        ServedModel served = load(model, weights, tokenizer, seed, name);
        PrintWriter err = spec.commandLine().getErr();
        OpenAiServer server = new OpenAiServer(served, config, line -> {
            synchronized (err) {
                err.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + " " + line);
                err.flush();
            }
        }).inspectMaxTokens(inspectMaxTokens);
        try {
            server.startLoading(); // /health answers 503 until the ready line
        } catch (Exception e) {
            server.close();
            Throwable why = e;
            while (why.getCause() != null && !(why instanceof java.net.BindException)) why = why.getCause();
            String reason = why instanceof java.net.BindException b && b.getMessage() != null ? b.getMessage().toLowerCase(java.util.Locale.ROOT) : Errors.oneLine(e);
            throw new CliException("--host/--port: cannot listen on " + config.host() + ":" + config.port() + ": " + reason);
        }
        if (served.classifier() == null) {
            // requests that come meanwhile wait in the queue; the line says why the banner takes a while
            err.printf(java.util.Locale.ROOT, "myllm serve: %s loaded in %.1f s; warming up (a few requests of its own first, so the JIT has compiled what yours run)%n",
                    served.name(), (System.nanoTime() - t0) / 1e9);
            err.flush();
            server.warmUp();
        }
        err.printf(java.util.Locale.ROOT, "myllm serve: %s (%,d parameters, context %d) at http://%s:%d/v1 %s, ready in %.1f s%n", served.name(),
                served.model().config().parameterCount(), served.contextLength(), config.host(), server.port(),
                config.apiKey() == null ? "(no API key)" : "(API key required)", (System.nanoTime() - t0) / 1e9);
        err.printf("myllm serve: the playground is at http://%s:%d/%n", config.host(), server.port());
        err.flush();
        server.ready(); // after the line: whoever sees /health answer 200 can also read that it is ready
        return server;
    }

    /** The model, tokenizer and chat template a server answers with. */
    static ServedModel load(ModelOptions model, WeightDtype weights, TokenizerOption tokenizer, long seed, String name) {
        Tokenizer tok = tokenizer.load(model);
        String n = name != null ? name : model.isPreset() ? model.source.preset
                : model.directory().toAbsolutePath().normalize().getFileName().toString();
        if (model.directory() != null && ClassifierDirectory.isClassifier(model.directory())) {
            model.refuseAdapter(model.directory() + " is a classifier; its own LoRA adapter, if any, is in it already");
            // its weights are loaded as float32 and run so: another type or layout asked for would be ignored without a word
            String option = weights.dtype != null && !WeightDtype.parse(weights.dtype).equals("f32") ? "--dtype"
                    : weights.mmap != null ? (weights.mmap ? "--mmap" : "--no-mmap") : null;
            if (option != null) {
                throw new CliException(option + ": " + model.directory() + " is a classifier, served in float32 as classify runs it; leave " + option + " out");
            }
            GPTClassifier c;
            try {
                c = ClassifierStore.load(model.directory(), -1f);
            } catch (RuntimeException e) {
                throw new CliException("--model: " + Errors.oneLine(e));
            }
            if (tok.vocabSize() > c.config().vocabSize()) {
                throw new CliException("tokenizer " + tok.name() + " has " + tok.vocabSize() + " ids but the classifier's vocabulary is "
                        + c.config().vocabSize());
            }
            return ServedModel.classifier(n, c, tok, dev.myllm.generate.TokenDecoder.of(tok), System.currentTimeMillis() / 1000);
        }
        GPTModel m = weights.build(model, seed, PackedMatrix.Halves.COPIED); // a server decodes for long: copy F16/BF16 files into panels
        GenerateCommand.checkVocab(tok, m);
        return ServedModel.generative(n, m, tok, model.savedFormat());
    }
}
