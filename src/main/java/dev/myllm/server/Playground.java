package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The web playground: its static page (HTML, CSS and JavaScript shipped in the jar, no network
 * needed) at {@code /} and {@code /playground/*}, and the {@link Inspector} behind
 * {@code /v1/inspect}. Inspections run on the {@link SideThread}, one at a time beside the decoding scheduler.
 */
final class Playground {
    static final int DEFAULT_MAX_TOKENS = 512;
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "svg", "image/svg+xml", "png", "image/png");

    private final ServedModel model;
    /** Where inspections run (with embeddings, one at a time). */
    private final SideThread side;
    private volatile Inspector inspector;

    Playground(ServedModel model, SideThread side) {
        this.model = model;
        this.side = side;
        this.inspector = new Inspector(model, DEFAULT_MAX_TOKENS);
    }

    void maxTokens(int n) {
        if (n < 1) throw new IllegalArgumentException("inspect max tokens must be >= 1, got " + n);
        inspector = new Inspector(model, n);
    }

    /** A static asset by request path: its media type and bytes, or null when there is none. */
    static Asset asset(String path) throws IOException {
        String name = path.equals("/") || path.equals("/index.html") ? "index.html"
                : path.startsWith("/playground/") ? path.substring("/playground/".length()) : null;
        if (name == null || name.isEmpty() || !name.matches("[a-z0-9-]+\\.[a-z]+")) return null;
        String type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        if (type == null) return null;
        try (InputStream in = Playground.class.getResourceAsStream("playground/" + name)) {
            return in == null ? null : new Asset(type, in.readAllBytes());
        }
    }

    /** A file of the page. */
    record Asset(String type, byte[] bytes) {
    }

    ObjectNode inspect(JsonNode body, long waitMillis) throws InterruptedException {
        Inspector in = inspector;
        return side.run(() -> in.inspect(body), waitMillis);
    }

    ObjectNode modelInfo() {
        return inspector.modelInfo();
    }
}
