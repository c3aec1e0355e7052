package dev.myllm.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/** A request's body as one JSON value: read up to the size limit and parsed, every failure a 4xx in OpenAI's shape. */
final class RequestBody {
    /**
     * A body is one JSON value: {"prompt":"a"} xyz is refused, not read as its first value. NaN and
     * the infinities, which JSON lacks but some clients' serializers write, are read as numbers, so
     * that the field they were sent for refuses them with its own 400 (naming it and its range). A
     * field twice in one object is refused: which one was meant is a guess, and a proxy in front that
     * guesses otherwise (the first, where the parser keeps the last) would check another request.
     */
    private static final ObjectReader READER = Answers.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Set on a request whose body could not be read to its end: nothing more is read from its connection. */
    static final String BROKEN = "myllm.body-broken";

    private RequestBody() {
    }

    /**
     * The body's JSON; 415 when its type or encoding is not plain JSON, 413 beyond {@code max} bytes,
     * 400 when it is empty, not JSON or its framing broken (a bad chunk, the client's end before the
     * body's), 408 when it stops arriving for {@code idle}.
     */
    static JsonNode read(Request req, int max, Duration idle) throws IOException {
        checkType(req);
        long length = req.getLength();
        ApiError tooLarge = new ApiError(413, "invalid_request_error", null, "request_too_large",
                "The request body is larger than this server's limit of " + max + " bytes");
        if (length > max) throw tooLarge;
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(req)) {
            body = in.readNBytes(max + 1);
        } catch (IOException | RuntimeException e) {
            // the client's fault, not the server's: a 500 here told the client to retry the same broken request
            req.setAttribute(BROKEN, Boolean.TRUE);
            throw unreadable(e, idle);
        }
        if (body.length > max) throw tooLarge;
        if (body.length == 0) throw ApiError.badRequest("The request body is empty; send a JSON object");
        try {
            return READER.readTree(body);
        } catch (StreamReadException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Duplicate field") && e.getProcessor() != null) {
                String field = path(e.getProcessor().getParsingContext());
                throw ApiError.badField(field, field + " appears twice in the request body; send each field once");
            }
            throw ApiError.badRequest("We could not parse the JSON body of your request: " + problem(e));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("We could not parse the JSON body of your request: " + problem(e));
        }
    }

    /** The 4xx for a body that could not be read to its end, by what the HTTP layer said of it. */
    private static ApiError unreadable(Throwable e, Duration idle) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) {
                return new ApiError(408, "timeout_error", null, "request_timeout", "The request body stopped arriving: nothing came for "
                        + idle.toSeconds() + " s (the idle timeout) before its end");
            }
            if (c instanceof HttpException h && h.getCode() >= 400 && h.getCode() < 500) {
                String why = h.getReason() == null || h.getReason().isBlank() ? HttpStatus.getMessage(h.getCode()) : h.getReason();
                return new ApiError(h.getCode(), "invalid_request_error", null, null, "The request body could not be read: " + why);
            }
        }
        return ApiError.badRequest("The request body ended before all of it arrived");
    }

    /**
     * Refuses a body whose Content-Type is not JSON ({@code application/json} or {@code
     * application/*+json}; none at all is read as JSON, as curl and scripts may send it) and one that
     * is compressed. A web page may post text/plain or a form to a server on this machine without
     * asking first (no CORS preflight): read as JSON, that would make any page its client.
     */
    private static void checkType(Request req) {
        String type = req.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type != null && !type.isBlank()) {
            String media = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            boolean json = media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
            if (!json) throw unsupported("Content-Type " + media + " is not JSON: send the body as application/json");
        }
        String encoding = req.getHeaders().get(HttpHeader.CONTENT_ENCODING);
        if (encoding != null && !encoding.isBlank() && !encoding.strip().equalsIgnoreCase("identity")) {
            throw unsupported("Content-Encoding " + encoding.strip() + " is not supported: send the body uncompressed");
        }
    }

    private static ApiError unsupported(String message) {
        return new ApiError(415, "invalid_request_error", null, "unsupported_media_type", message);
    }

    /** Where the parser is, as a 400's {@code param} names a field: {@code messages[0].role}. */
    private static String path(JsonStreamContext at) {
        StringBuilder sb = new StringBuilder();
        for (JsonStreamContext c = at; c != null && !c.inRoot(); c = c.getParent()) {
            String step = c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName();
            if (step == null) continue;
            if (sb.length() > 0 && sb.charAt(0) != '[') sb.insert(0, '.');
            sb.insert(0, step);
        }
        return sb.toString();
    }

    /**
     * What the parser found wrong, and where, in words for the client: without the parser's own
     * API (the feature that would allow it, the class it was reading into, its source description).
     */
    static String problem(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        m = m.replaceAll(", from `[^`]*`", "");                                // "(1000, from `StreamReadConstraints...`)"
        m = m.replaceAll(":? *(enable|not allowed as per) `[^`]*`( to allow)?", ""); // "...: enable `JsonReadFeature.X` to allow"
        m = withoutApiParentheses(m);
        int tick = m.indexOf('`');
        if (tick >= 0) m = m.substring(0, tick).replaceAll("[\\s:(]+$", ""); // anything else naming the parser's classes
        m = m.replaceAll("[\\r\\n]+", " ").strip();
        JsonLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0) m += " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        return m;
    }

    /** {@code m} without the parenthesised parts (nested ones whole) that name the parser's API or describe its source. */
    private static String withoutApiParentheses(String m) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < m.length()) {
            char c = m.charAt(i);
            if (c != '(') {
                out.append(c);
                i++;
                continue;
            }
            int depth = 0, end = i;
            for (; end < m.length(); end++) {
                if (m.charAt(end) == '(') depth++;
                else if (m.charAt(end) == ')' && --depth == 0) break;
            }
            if (end >= m.length()) { // unbalanced: keep the rest as it is
                out.append(m, i, m.length());
                break;
            }
            String part = m.substring(i, end + 1);
            if (part.contains("`") || part.contains("Feature") || part.contains("[Source")) {
                while (out.length() > 0 && out.charAt(out.length() - 1) == ' ') out.setLength(out.length() - 1);
            } else {
                out.append(part);
            }
            i = end + 1;
        }
        return out.toString();
    }
}
