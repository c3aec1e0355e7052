package dev.myllm.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The errors Jetty answers itself, before a request reaches {@link ApiHandler} (a URI it will not
 * take, such as {@code /a/../../b}, a malformed request line, headers over the limit), in
 * OpenAI's error shape rather than Jetty's HTML page; each is logged and counted as the handler's
 * requests are ({@code endpoint="refused"} in {@code /metrics}), so a scan or a broken client shows.
 */
final class JsonErrorHandler extends ErrorHandler {
    /** Set on a request {@link ApiHandler} has taken: it logs and counts that request itself. */
    static final String SEEN = "myllm.seen";

    private final Metrics metrics;
    private final Consumer<String> log;

    JsonErrorHandler(Metrics metrics, Consumer<String> log) {
        this.metrics = metrics;
        this.log = log;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        if (request.getAttribute(SEEN) == null) {
            // the raw target (a refused URI is one Jetty would not normalise); a request line Jetty
            // could not read at all comes as its stand-in "BAD /badMessage"
            String method = request.getMethod();
            refused(method.equals("BAD") ? "- -" : method + " " + request.getHttpURI().getPathQuery(), code, message);
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, body(code, message), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        refused("- -", status, reason); // (no request: the request line or its headers could not be read)
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason).getBytes(StandardCharsets.UTF_8));
    }

    private void refused(String request, int status, String reason) {
        metrics.request("refused", status, 0, 0, 0);
        String why = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
        log.accept(request + " " + status + " refused by the HTTP layer: " + why);
    }

    /** The JSON of an error with this status; Jetty's reason, else the status's own words. */
    static String body(int status, String reason) {
        String message = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
        ApiError e = new ApiError(status, status >= 500 ? "server_error" : "invalid_request_error", null, null,
                message + " (HTTP " + status + ")");
        try {
            return Answers.JSON.writeValueAsString(Answers.error(e));
        } catch (JsonProcessingException x) {
            throw new IllegalStateException(x);
        }
    }
}
