package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Reads request fields with OpenAI's types and ranges; any mismatch is a 400 that names the field. */
final class Fields {
    private final JsonNode body;

    Fields(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        this.body = body;
    }

    /** The field, or null when absent or JSON null. */
    JsonNode get(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    String string(String name, String fallback) {
        JsonNode n = get(name);
        if (n == null) return fallback;
        if (!n.isTextual()) throw ApiError.badField(name, name + " must be a string");
        return n.asText();
    }

    boolean bool(String name, boolean fallback) {
        JsonNode n = get(name);
        if (n == null) return fallback;
        if (!n.isBoolean()) throw ApiError.badField(name, name + " must be true or false");
        return n.asBoolean();
    }

    /** An integer in [min, max], or {@code fallback} (which may be null) when absent. */
    Integer integer(String name, Integer fallback, long min, long max) {
        JsonNode n = get(name);
        if (n == null) return fallback;
        if (!integral(n)) throw ApiError.badField(name, name + " must be an integer");
        long v = n.asLong();
        if (!n.canConvertToLong() || v < min || v > max) {
            throw ApiError.badField(name, name + " must be between " + min + " and " + max + ", got " + shown(n));
        }
        return (int) v;
    }

    /** A 64-bit integer (written as the other integer fields may be: 42, 42.0, 4.2e1), or null when absent. */
    Long longValue(String name) {
        JsonNode n = get(name);
        if (n == null) return null;
        if (!integral(n)) throw ApiError.badField(name, name + " must be an integer");
        if (!n.canConvertToLong()) {
            throw ApiError.badField(name, name + " must be between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got " + shown(n));
        }
        return n.asLong();
    }

    /** An integer, or a number with nothing after its point (Python writes 42.0 for a float that holds 42). */
    private static boolean integral(JsonNode n) {
        return n.isIntegralNumber() || (n.isNumber() && n.asDouble() == Math.rint(n.asDouble()));
    }

    /** A number in [min, max] (inclusive unless {@code openMin}). */
    float number(String name, float fallback, double min, boolean openMin, double max) {
        JsonNode n = get(name);
        if (n == null) return fallback;
        if (!n.isNumber()) throw ApiError.badField(name, name + " must be a number");
        double v = n.asDouble();
        if (!(openMin ? v > min : v >= min) || !(v <= max)) {
            throw ApiError.badField(name, name + " must be " + (openMin ? "> " : ">= ") + fmt(min) + " and <= " + fmt(max) + ", got " + shown(n));
        }
        return (float) v;
    }

    /** {@code stop}: a string or a list of up to {@code max} non-empty strings. */
    List<String> stops(String name, int max) {
        JsonNode n = get(name);
        List<String> out = new ArrayList<>();
        if (n == null) return out;
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            for (JsonNode s : n) {
                if (!s.isTextual()) throw ApiError.badField(name, name + " must be a string or a list of strings");
                out.add(s.asText());
            }
        } else {
            throw ApiError.badField(name, name + " must be a string or a list of strings");
        }
        if (out.size() > max) throw ApiError.badField(name, name + " may hold at most " + max + " strings, got " + out.size());
        for (String s : out) if (s.isEmpty()) throw ApiError.badField(name, name + " must not contain an empty string");
        return out;
    }

    /** A non-empty JSON list as token ids in [0, vocab); otherwise a 400 for {@code field} naming the entry ({@code at[i]}) and its value. */
    static int[] tokenIds(JsonNode list, String field, String at, int vocab) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = list.get(i);
            // canConvertToInt first: a number beyond 64 bits reads as its low bits (2^64 + 1 as 1)
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= vocab) {
                throw ApiError.badField(field, at + "[" + i + "] must be a token id in [0, " + vocab + "), got " + shown(t));
            }
            ids[i] = t.asInt();
        }
        return ids;
    }

    /** Rejects a field this server does not implement, unless it is absent or has a neutral value. */
    void unsupported(String name, String why) {
        JsonNode n = get(name);
        if (n == null || (n.isContainerNode() && n.isEmpty())) return;
        throw ApiError.badField(name, name + " is not supported: " + why);
    }

    /** A value as an error message quotes it: its JSON (a number as written), at most {@value #SHOWN} characters of it. */
    static String shown(JsonNode v) {
        return shown(v.isNumber() ? v.asText() : v.toString());
    }

    /** Most characters of a value an error message repeats: the client sent it, and a long one would bury the message. */
    static final int SHOWN = 40;

    /** {@code s}, or its first {@value #SHOWN} characters and how long it is. */
    static String shown(String s) {
        if (s.codePointCount(0, s.length()) <= SHOWN + 8) return s;
        return s.substring(0, s.offsetByCodePoints(0, SHOWN)) + "... (" + s.length() + " characters)";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
