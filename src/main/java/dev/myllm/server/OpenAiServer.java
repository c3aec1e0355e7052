package dev.myllm.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OpenAI-compatible HTTP server for one model (Jetty, core handlers, no servlets): requests
 * run on virtual threads and wait on their own event queues, while one {@link Scheduler} thread
 * decodes all running sequences as one batch.
 */
public final class OpenAiServer implements AutoCloseable {
    private final ServerConfig config;
    private final ServedModel model;
    private final Metrics metrics = new Metrics();
    private final Scheduler scheduler;
    private final ApiHandler handler;
    private final Server jetty;
    private final ServerConnector connector;
    private final Consumer<String> log;
    private static final String SHUTTING_DOWN = "the server is shutting down";
    /** How long a shutdown waits for the scheduler's turn in progress before answering its requests itself (tests shorten it). */
    long schedulerStopWaitMillis = Scheduler.STOP_WAIT_MILLIS;

    public OpenAiServer(ServedModel model, ServerConfig config, Consumer<String> log) {
        this.log = log;
        this.config = config;
        this.model = model;
        this.scheduler = new Scheduler(model, config.maxBatch(), config.maxQueue(), config.prefillChunk(), config.promptCache(), metrics, log);
        this.handler = new ApiHandler(model, config, scheduler, metrics, log);
        QueuedThreadPool pool = new QueuedThreadPool(64, 4);
        pool.setName("myllm-http");
        // each blocking request gets a virtual thread: thousands of waiting clients cost little
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        jetty = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(16 * 1024);
        connector = new ServerConnector(jetty, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(config.host());
        connector.setPort(config.port());
        connector.setIdleTimeout(config.idleTimeout().toMillis());
        jetty.addConnector(connector);
        jetty.addBean(new NetworkConnectionLimit(config.maxConnections(), connector));
        jetty.setHandler(handler);
        jetty.setErrorHandler(new JsonErrorHandler(metrics, log)); // Jetty's own refusals (bad URIs, oversized headers) in OpenAI's shape too
        jetty.setStopTimeout(config.grace().toMillis());
    }

    /** Starts listening (and the scheduler), ready at once; throws when the address is taken. */
    public OpenAiServer start() throws Exception {
        scheduler.start();
        jetty.start();
        return this;
    }

    /**
     * Starts listening as {@link #start()} does, but {@code GET /health} answers 503
     * {@code {"status": "loading"}} until {@link #ready()}: for a warm-up before the first client.
     * Other requests are taken meanwhile (they wait in the queue).
     */
    public OpenAiServer startLoading() throws Exception {
        handler.loading(true);
        return start();
    }

    /** Ends the loading phase of {@link #startLoading()}: {@code /health} answers 200 {@code {"status": "ok"}}. */
    public void ready() {
        handler.loading(false);
    }

    /**
     * Runs a few short requests through the scheduler (prefill, then batched decode steps) so the
     * JIT has compiled the kernels before the first client waits on them. Each round runs a
     * staircase of sequences (sequence i decodes i+1 steps), so decode steps see every batch size
     * from five down to one, every row split the decode kernels make (3+2, 2+2, 3, 2, 1): code the
     * JIT compiled before it saw a split is thrown away and recompiled when that split first
     * comes, in the middle of a client's request (seen: a batch-5 step of 1.2 s in a measured run).
     * Then three {@code /v1/inspect} passes of 128 tokens, for the playground's first request.
     */
    public void warmUp() {
        int vocab = model.vocabSize(), seqs = Math.min(config.maxBatch(), 5);
        for (int round = 0; round < 2; round++) {
            List<Call> calls = new ArrayList<>();
            for (int i = 0; i < seqs; i++) {
                int[] prompt = new int[Math.min(8 + 8 * i, model.contextLength() - seqs - 1)];
                if (prompt.length < 1) return;
                for (int j = 0; j < prompt.length; j++) prompt[j] = (j * 7919 + i + 31 * round) % vocab;
                Sampling s = new Sampling(2 + i, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);
                calls.add(new Call(new Plan(false, prompt, null, s, 1, false, false, false), vocab));
            }
            List<Sequence> all = new ArrayList<>();
            for (Call c : calls) all.addAll(c.sequences);
            if (scheduler.submit(all) != Scheduler.Refusal.NONE) return;
            try {
                for (Call c : calls) {
                    for (Call.Event e; (e = c.next(60_000)) != null; ) if (e.finish() != null || e.error() != null) break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // one short inspection too: the playground's first request otherwise waits seconds for the
        // JIT (the forward pass with attention recorded, the per-position top tokens, the JSON)
        for (int round = 0; round < 3; round++) {
            int n = Math.min(128, model.contextLength());
            com.fasterxml.jackson.databind.node.ObjectNode body = Answers.JSON.createObjectNode();
            com.fasterxml.jackson.databind.node.ArrayNode ids = body.putArray("ids");
            for (int j = 0; j < n; j++) ids.add((j * 7919 + 11 + round) % vocab);
            body.putArray("layers").add(0);
            body.put("top_k", 5);
            try {
                handler.playground.inspect(body, 60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ApiError e) {
                return; // a busy or refusing inspector only leaves the JIT colder
            }
        }
    }

    /** Where the scheduler thread's time went so far. */
    public SchedulerProfile schedulerProfile() {
        return scheduler.profile();
    }

    /**
     * Times every matrix product the scheduler thread runs from its next turn on, in
     * {@link dev.myllm.tensor.StepProfile} (read its entries, then stop it).
     */
    public void profileProducts() {
        scheduler.profileProducts();
    }

    /** Caps the tokens one {@code /v1/inspect} request may analyse (default 512, and never beyond the context). */
    public OpenAiServer inspectMaxTokens(int n) {
        handler.playground.maxTokens(n);
        return this;
    }

    /** The port it listens on (the real one when configured with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public String host() {
        return config.host();
    }

    /**
     * Graceful stop: refuse new requests (503), let running and queued ones finish for up to
     * {@code grace}, then cancel what is left and close.
     */
    public void shutdown(Duration grace) {
        handler.drain();
        scheduler.stopAccepting();
        long end = System.nanoTime() + grace.toNanos();
        Polling.until(scheduler::idle, end, 20);
        if (!scheduler.stop(SHUTTING_DOWN, schedulerStopWaitMillis)) {
            // a turn outlasts the wait (a long prompt's prefill on a big model): its requests, and
            // those queued behind it, hear now, before the connections close, rather than when the
            // turn ends and nobody is left to tell
            int told = handler.failAccepted(SHUTTING_DOWN, 2000);
            log.accept("shutdown: the scheduler's turn outlasted " + schedulerStopWaitMillis + " ms; told " + told + " running request(s) the server is shutting down");
        }
        try {
            jetty.setStopTimeout(Math.max(100, Math.min(2000, (end - System.nanoTime()) / 1_000_000)));
            jetty.stop();
        } catch (Exception e) {
            // stopping is best effort: the process is on its way out
        }
        handler.side.close();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    /** Waits until the HTTP server has stopped. */
    public void join() throws InterruptedException {
        jetty.join();
    }
}
