package dev.myllm.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The HTTP routes: {@code /health}, {@code /metrics}, {@code /v1/models}, {@code /v1/completions},
 * {@code /v1/chat/completions}. Checks the key, the body size and every field; answers errors in
 * OpenAI's shape; streams with server-sent events; logs one line per request.
 */
final class ApiHandler extends Handler.Abstract {
    private final ServedModel model;
    private final ServerConfig config;
    private final Scheduler scheduler;
    private final Metrics metrics;
    private final Consumer<String> log;
    private final byte[] key;
    private final Plan.Limits limits;
    private final Classifier classifier; // null for a language model
    final Playground playground;
    /** Inspections and embeddings, one at a time beside the scheduler. */
    final SideThread side = new SideThread();
    private final Embeddings embeddings;
    private volatile boolean loading; // listening, but warming up: /health says so until ready
    private volatile boolean draining;

    ApiHandler(ServedModel model, ServerConfig config, Scheduler scheduler, Metrics metrics, Consumer<String> log) {
        this.model = model;
        this.config = config;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.log = log;
        this.key = config.apiKey() == null ? null : ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        this.limits = new Plan.Limits(config.maxTokens(), config.maxN(), 16, config.maxQueue());
        this.classifier = model.classifier() == null ? null : new Classifier(model);
        this.playground = new Playground(model, side);
        this.embeddings = new Embeddings(model);
    }

    /** Requests the scheduler took and that have not answered yet. */
    private final java.util.Set<Call> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Answers every accepted request still running as failed with {@code message} (a shutdown
     * whose scheduler turn outlasts its wait), then waits up to {@code millis} for them to be
     * written; returns how many were still open.
     */
    int failAccepted(String message, long millis) {
        int n = 0;
        for (Call c : accepted) {
            c.failAll(message);
            n++;
        }
        Polling.until(accepted::isEmpty, System.nanoTime() + millis * 1_000_000, 5);
        return n;
    }

    void drain() {
        draining = true;
    }

    void loading(boolean on) {
        loading = on;
    }

    /** What the log line and the metrics report about one request. */
    private static final class Outcome {
        int status = 200;
        int promptTokens;
        int completionTokens;
        /** Prompt tokens reused from a kept cache (the answer's {@code cached_tokens}). */
        int cachedTokens;
        String prompt;
        String note = "";
    }

    @Override
    public boolean handle(Request req, Response resp, Callback cb) {
        long t0 = System.nanoTime();
        req.setAttribute(JsonErrorHandler.SEEN, Boolean.TRUE);
        String path = Request.getPathInContext(req), method = req.getMethod();
        Outcome out = new Outcome();
        // named before routing, so that a refused request (400, 401, 404, 405, ...) is counted under the endpoint it was sent to
        String endpoint = endpointOf(path);
        try {
            endpoint = route(req, resp, cb, path, method, out);
        } catch (ApiError e) {
            out.status = e.status;
            out.note = e.code == null ? "" : e.code;
            finishBody(req, resp);
            sendJson(resp, cb, e.status, Answers.error(e));
        } catch (Throwable e) {
            // a bug, not bad input: still a well-formed answer, and the server keeps going
            // (what went wrong is for the log line, not for the client)
            ApiError internal = ApiError.internal();
            out.status = internal.status;
            out.note = internal.code + ": " + ApiError.detail(e);
            finishBody(req, resp);
            sendJson(resp, cb, internal.status, Answers.error(internal));
        } finally {
            metrics.request(endpoint, out.status, out.promptTokens, out.completionTokens, out.cachedTokens);
            // a load balancer's polls of a healthy server would fill the log: only the others are logged
            if (!(endpoint.equals("health") && out.status == 200)) log.accept(logLine(method, path, out, t0));
        }
        return true;
    }

    /** The endpoint a request to {@code path} is counted under in {@code myllm_requests_total}; "other" for a URL no route serves. */
    static String endpointOf(String path) {
        return switch (path) {
            case "/health" -> "health";
            case "/metrics" -> "metrics";
            case "/v1/models" -> "models";
            case "/v1/completions" -> "completions";
            case "/v1/chat/completions" -> "chat";
            case "/v1/classify" -> "classify";
            case "/v1/embeddings" -> "embeddings";
            case "/v1/inspect", "/v1/inspect/model" -> "inspect";
            default -> path.startsWith("/v1/models/") ? "models" : "other";
        };
    }

    /** The request's log line: method, path, status, tokens in and out, time, and the prompt with --log-prompts. */
    private String logLine(String method, String path, Outcome out, long t0) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %s %d %d+%d tokens %.0f ms",
                method, path, out.status, out.promptTokens, out.completionTokens, (System.nanoTime() - t0) / 1e6));
        if (!out.note.isEmpty()) line.append(' ').append(out.note);
        if (config.logPrompts() && out.prompt != null) line.append(" prompt=").append(Answers.JSON.valueToTree(out.prompt));
        return oneLine(line);
    }

    /**
     * {@code s} with its control characters and Unicode line separators (U+0085, U+2028) escaped as in JSON: the path is logged
     * decoded, so /v1/%E2%80%A8x brought a line separator into the log, which a log reader may take for a new line.
     */
    static String oneLine(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    private String route(Request req, Response resp, Callback cb, String path, String method, Outcome out) throws Exception {
        switch (path) {
            case "/health" -> {
                allow(method, "GET");
                // 503 until requests are answered at speed and once they are refused, so a load
                // balancer or a script waiting on /health sends nothing to wait behind the warm-up
                String status = draining ? "draining" : loading ? "loading" : "ok";
                ObjectNode o = Answers.JSON.createObjectNode().put("status", status);
                out.status = status.equals("ok") ? 200 : 503;
                sendJson(resp, cb, out.status, o);
                return "health";
            }
            case "/metrics" -> {
                allow(method, "GET");
                authorize(req);
                resp.setStatus(200);
                resp.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                Content.Sink.write(resp, true, metrics.render(), cb);
                return "metrics";
            }
            case "/v1/models" -> {
                allow(method, "GET");
                authorize(req);
                sendJson(resp, cb, 200, Answers.models(model));
                return "models";
            }
            case "/v1/completions", "/v1/chat/completions" -> {
                boolean chat = path.equals("/v1/chat/completions");
                allow(method, "POST");
                authorize(req);
                if (classifier != null) {
                    // 404 with param "model", as OpenAI answers a model asked at an endpoint it does not serve
                    throw ApiError.notFound("model", "model_not_generative",
                            "The model '" + model.name() + "' is a classifier and does not generate text: use POST /v1/classify, not " + path);
                }
                try (Scheduler.Arrival arrival = scheduler.arriving()) {
                    JsonNode body = readJson(req);
                    Plan plan = chat ? Plan.chat(body, model, limits) : Plan.completion(body, model, limits);
                    out.promptTokens = plan.promptTokens();
                    out.prompt = plan.promptText();
                    generate(req, resp, cb, plan, out, arrival);
                }
                return chat ? "chat" : "completions";
            }
            case "/v1/classify" -> {
                allow(method, "POST");
                authorize(req);
                if (classifier == null) {
                    throw ApiError.notFound("model", "model_not_classifier",
                            "The model '" + model.name() + "' is a language model, not a classifier: /v1/classify needs a classifier directory");
                }
                Classifier.Answer a = classifier.classify(readJson(req));
                out.promptTokens = a.tokens();
                sendJson(resp, cb, 200, a.json());
                return "classify";
            }
            case "/v1/embeddings" -> {
                allow(method, "POST");
                authorize(req);
                if (classifier != null) {
                    throw ApiError.notFound("model", "model_not_generative",
                            "The model '" + model.name() + "' is a classifier and makes no embeddings here: use POST /v1/classify");
                }
                embed(req, resp, cb, out);
                return "embeddings";
            }
            case "/v1/inspect" -> {
                allow(method, "POST");
                authorize(req);
                if (classifier != null) {
                    // its body has no vocabulary head: the tied token embedding would be read as one
                    throw ApiError.notFound("model", "model_not_generative",
                            "The model '" + model.name() + "' is a classifier and predicts no next tokens to inspect: use POST /v1/classify");
                }
                JsonNode body = readJson(req);
                ObjectNode answer = playground.inspect(body, config.requestTimeout().toMillis());
                out.promptTokens = answer.path("usage").path("prompt_tokens").asInt();
                sendJson(resp, cb, 200, answer);
                return "inspect";
            }
            case "/v1/inspect/model" -> {
                allow(method, "GET");
                authorize(req);
                if (classifier != null) {
                    // as POST /v1/inspect: a language model's description (tied vocabulary head, prompt format) would be false;
                    // the playground shows this message in its status line
                    throw ApiError.notFound("model", "model_not_generative",
                            "The model '" + model.name() + "' is a classifier, which the playground does not inspect: use POST /v1/classify");
                }
                sendJson(resp, cb, 200, playground.modelInfo());
                return "inspect";
            }
            default -> {
                Playground.Asset asset = method.equals("GET") || method.equals("HEAD") ? Playground.asset(path) : null;
                if (asset != null) {
                    resp.setStatus(200);
                    resp.getHeaders().put(HttpHeader.CONTENT_TYPE, asset.type());
                    resp.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
                    resp.write(true, ByteBuffer.wrap(asset.bytes()), cb); // for HEAD, Jetty sends the length and drops the bytes
                    return "playground";
                }
                if (path.startsWith("/v1/models/")) {
                    allow(method, "GET");
                    authorize(req);
                    String name = path.substring("/v1/models/".length());
                    if (!name.equals(model.name())) throw ApiError.notFound("model", "model_not_found", "The model '" + Fields.shown(name) + "' does not exist");
                    sendJson(resp, cb, 200, Answers.model(model));
                    return "models";
                }
                throw ApiError.notFound(null, "unknown_url", "Unknown request URL: " + method + " " + Fields.shown(path));
            }
        }
    }

    /** Refuses a method other than {@code expected} with 405; HEAD is taken where GET is (Jetty sends no body for it). */
    private static void allow(String method, String expected) {
        if (!method.equals(expected) && !(expected.equals("GET") && method.equals("HEAD"))) {
            throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", "Use " + expected + " for this URL, not " + method);
        }
    }

    private void authorize(Request req) {
        if (key == null) return;
        String h = req.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (h == null) throw ApiError.unauthorized("You didn't provide an API key: send the header Authorization: Bearer KEY");
        // constant time: the comparison does not stop at the first differing byte
        if (!MessageDigest.isEqual(key, h.getBytes(StandardCharsets.UTF_8))) throw ApiError.unauthorized("Incorrect API key provided");
    }

    /**
     * Before an error answer: reads what is left of the request's body (up to the body limit), so that the connection
     * can carry the client's next request. Jetty does not read an abandoned body that has not all arrived; it closes the
     * connection after the answer, with no {@code Connection: close} for the client to see, and a client that reuses
     * the connection gets no answer to its next request. A body beyond the limit is not read: the answer closes the
     * connection and says so; so does one whose body could not be read ({@link RequestBody#BROKEN}), which would only
     * fail again, or wait out the idle timeout again.
     */
    private void finishBody(Request req, Response resp) {
        if (resp.isCommitted()) return;
        long left = config.maxBodyBytes() + 1L;
        boolean ended = false;
        if (req.getLength() <= config.maxBodyBytes() && req.getAttribute(RequestBody.BROKEN) == null) {
            try (InputStream in = Content.Source.asInputStream(req)) {
                byte[] sink = new byte[8192];
                for (int n; left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) >= 0; ) left -= n;
                ended = left > 0;
            } catch (IOException e) {
                ended = false; // the client is gone or the body broken: nothing more comes on this connection
            }
        }
        if (!ended) resp.getHeaders().put(HttpHeader.CONNECTION, "close");
    }

    private JsonNode readJson(Request req) throws IOException {
        return RequestBody.read(req, config.maxBodyBytes(), config.idleTimeout());
    }

    private void generate(Request req, Response resp, Callback cb, Plan plan, Outcome out, Scheduler.Arrival arrival) throws Exception {
        if (draining) throw new ApiError(503, "server_error", null, "shutting_down", "The server is shutting down");
        Call call = new Call(plan, model.vocabSize());
        String id = (plan.chat() ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        Answers answers = new Answers(model, plan, id);
        // a stream's chunks are written by the scheduler thread as its tokens come; until the
        // request is accepted they only accumulate (a refusal still gets its status line)
        SseStream sse = null;
        if (plan.stream()) {
            sse = new SseStream(resp, call::cancel);
            ChunkWriter chunks = new ChunkWriter(answers, sse, plan.choices());
            if (plan.echo()) for (int i = 0; i < plan.choices(); i++) chunks.echo(i, answers.echoText(i));
            call.streamTo(chunks);
        }
        Scheduler.Refusal refusal = scheduler.submit(call.sequences);
        arrival.close(); // queued (or refused): no longer on its way
        switch (refusal) {
            case QUEUE_FULL -> throw new ApiError(429, "rate_limit_error", null, "queue_full",
                    "The server is busy (" + scheduler.waitingCount() + " sequences queued); retry later");
            case SHUTTING_DOWN -> throw new ApiError(503, "server_error", null, "shutting_down", "The server is shutting down");
            case NONE -> { }
        }
        accepted.add(call);
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        req.addFailureListener(t -> call.cancel()); // the connection failed: stop generating for it
        try {
            if (sse != null) {
                // an idle connection while the model works is fine (the time limit bounds it); a
                // write that makes no progress for the idle timeout is a client that stopped reading: fail it
                SseStream writes = sse;
                req.addIdleTimeoutListener(t -> writes.writing());
                stream(resp, cb, call, answers, sse, deadline, out);
            } else {
                req.addIdleTimeoutListener(t -> false);
                HangUpWatch watch = HangUpWatch.start(req, call::cancel);
                try {
                    whole(resp, cb, call, answers, deadline, out, watch);
                } finally {
                    watch.stop();
                }
            }
        } finally {
            call.cancel(); // no-op when all finished; frees the slots of an abandoned request at once
            out.completionTokens = call.completionTokens();
            out.cachedTokens = call.cachedTokens();
            accepted.remove(call);
        }
    }

    /**
     * Embeds a request's inputs on the side thread, watching its connection: a client that hangs up
     * stops the work before the next input (a 499 in the log), and the time limit ends it with a 408.
     */
    private void embed(Request req, Response resp, Callback cb, Outcome out) throws Exception {
        Embeddings.Request er = embeddings.read(readJson(req));
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        AtomicBoolean gone = new AtomicBoolean();
        req.addFailureListener(t -> gone.set(true));
        HangUpWatch watch = HangUpWatch.start(req, () -> gone.set(true));
        Embeddings.Answer answer;
        try {
            answer = side.run(() -> embeddings.answer(er, () -> {
                if (System.nanoTime() - deadline > 0) throw timeout();
                return gone.get();
            }), config.requestTimeout().toMillis());
        } finally {
            watch.stop();
        }
        if (answer.json() == null) {
            out.status = 499; // as a completion's: nobody is left to answer
            out.note = "client gone after " + answer.embedded() + " of " + er.inputs().size() + " inputs";
            cb.failed(new EofException("the client closed the connection"));
            return;
        }
        if (watch.pipelined()) resp.getHeaders().put(HttpHeader.CONNECTION, "close");
        out.promptTokens = answer.json().path("usage").path("prompt_tokens").asInt();
        sendJson(resp, cb, 200, answer.json());
    }

    private void whole(Response resp, Callback cb, Call call, Answers answers, long deadline, Outcome out, HangUpWatch watch)
            throws Exception {
        List<Answers.Choice> choices = new ArrayList<>();
        for (int i = 0; i < call.plan.choices(); i++) choices.add(new Answers.Choice());
        int open = choices.size();
        while (open > 0) {
            Call.Event e = call.next((deadline - System.nanoTime()) / 1_000_000);
            if (e == null) throw timeout();
            Answers.Choice c = choices.get(e.index());
            if (e.error() != null) {
                if (watch.hungUp()) {
                    out.status = 499; // nginx's "client closed request": nobody is left to answer
                    out.note = "client gone";
                    cb.failed(new org.eclipse.jetty.io.EofException("the client closed the connection"));
                    return;
                }
                throw failure(e.error());
            }
            if (e.prompt()) {
                c.promptIds.add(e.id());
                c.promptLogprobs.add(e.logprob());
                continue;
            }
            c.text.append(e.text());
            if (e.finish() != null) {
                c.finish = e.finish();
                open--;
            } else if (e.logprob() != null) {
                c.ids.add(e.id());
                c.logprobs.add(e.logprob());
            }
        }
        watch.stop(); // before the answer: the connection reads the next request after it
        if (watch.pipelined()) resp.getHeaders().put(HttpHeader.CONNECTION, "close");
        sendJson(resp, cb, 200, answers.complete(choices, call.completionTokens(), call.cachedTokens()));
    }

    /**
     * Waits for the end of every choice (their chunks are on their way: {@link ChunkWriter}), then
     * closes the stream with the usage chunk and {@code [DONE]}; a time limit or a failure ends it
     * with an error event instead.
     */
    private void stream(Response resp, Callback cb, Call call, Answers answers, SseStream sse, long deadline, Outcome out)
            throws Exception {
        resp.setStatus(200);
        resp.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        resp.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        sse.start();
        try {
            for (int open = call.plan.choices(); open > 0; ) {
                Call.Event e = call.next((deadline - System.nanoTime()) / 1_000_000);
                if (e == null) throw timeout();
                if (e.error() != null) {
                    if (sse.failed()) throw new org.eclipse.jetty.io.EofException("the client closed the connection");
                    throw failure(e.error());
                }
                if (e.finish() != null) open--;
            }
            byte[] usage = call.plan.includeUsage() ? Answers.event(answers.usageChunk(call.completionTokens(), call.cachedTokens())) : new byte[0];
            if (!sse.end(concat(usage, DONE))) throw new org.eclipse.jetty.io.EofException("the client closed the connection");
            sse.await();
            cb.succeeded();
        } catch (ApiError err) {
            // the status line is gone: the error travels as an event, then the stream ends
            out.status = err.status;
            out.note = err.code;
            call.cancel();
            try {
                sse.end(concat(Answers.event(Answers.error(err)), DONE)); // false when the client is gone: await says so
                sse.await();
                cb.succeeded();
            } catch (IOException gone) {
                cb.failed(gone);
            }
        } catch (IOException gone) {
            out.status = 499; // nginx's "client closed request"
            out.note = "client gone";
            call.cancel();
            cb.failed(gone);
        }
    }

    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private ApiError timeout() {
        return new ApiError(408, "timeout_error", null, "request_timeout",
                "The request took longer than this server's limit of " + config.requestTimeout().toSeconds() + " s");
    }

    /** The error a request answers when one of its sequences failed with {@code message} ({@link Sequence.Listener#failed}). */
    private static ApiError failure(String message) {
        if (message.contains("shutting down")) return new ApiError(503, "server_error", null, "shutting_down", "The server is shutting down");
        if (message.equals(Scheduler.INTERNAL_ERROR)) return ApiError.internal(); // the scheduler logged what went wrong
        return new ApiError(500, "server_error", null, null, "generation failed: " + message);
    }

    private static void sendJson(Response resp, Callback cb, int status, ObjectNode body) {
        resp.setStatus(status);
        resp.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        String s;
        try {
            s = Answers.JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Content.Sink.write(resp, true, s, cb);
    }
}
