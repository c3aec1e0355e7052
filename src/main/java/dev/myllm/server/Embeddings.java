package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.tokenizer.Specials;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * {@code POST /v1/embeddings} in OpenAI's shapes: each input (a string, token ids, or a list of
 * either) becomes the model's mean-pooled, unit-length embedding ({@link dev.myllm.model.GPTModel#embedding}),
 * as floats or, with {@code encoding_format: "base64"} (what OpenAI's Python and JavaScript SDKs ask
 * for), as the base64 of little-endian float32 bytes.
 */
final class Embeddings {
    /** Most inputs in one request, as OpenAI allows. */
    static final int MAX_INPUTS = 2048;
    /**
     * Most tokens in one request, in contexts: the side thread runs a request whole and alone (16
     * of gpt2-small's take about ten seconds here).
     */
    static final int MAX_CONTEXTS = 16;

    private final ServedModel served;

    Embeddings(ServedModel served) {
        this.served = served;
    }

    /** The inputs of a request body as token ids, checked: a 400 names what is wrong. */
    record Request(List<int[]> inputs, boolean base64) {
    }

    Request read(JsonNode body) {
        Fields f = new Fields(body);
        String name = f.string("model", served.name());
        if (!name.equals(served.name())) {
            throw ApiError.notFound("model", "model_not_found", "The model '" + Fields.shown(name) + "' does not exist; this server has '" + served.name() + "'");
        }
        String format = f.string("encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiError.badField("encoding_format", "encoding_format must be float or base64, got '" + Fields.shown(format) + "'");
        }
        int width = served.model().config().embDim();
        Integer dims = f.integer("dimensions", null, 1, Integer.MAX_VALUE);
        if (dims != null && dims != width) {
            throw ApiError.badField("dimensions", "this model's embeddings have " + width + " dimensions, got " + dims);
        }
        JsonNode in = f.get("input");
        if (in == null) throw ApiError.badField("input", "input is required");
        List<int[]> inputs = new ArrayList<>();
        // a string, a list of ids, or a list of strings or of lists of ids (several inputs)
        boolean several = in.isArray() && !in.isEmpty() && (in.get(0).isTextual() || in.get(0).isArray());
        if (several) {
            if (in.size() > MAX_INPUTS) throw ApiError.badField("input", "at most " + MAX_INPUTS + " inputs in one request, got " + in.size());
            for (int i = 0; i < in.size(); i++) inputs.add(ids(in.get(i), "input[" + i + "]"));
        } else {
            inputs.add(ids(in, "input"));
        }
        long tokens = 0, most = (long) MAX_CONTEXTS * served.contextLength();
        for (int[] ids : inputs) tokens += ids.length;
        if (tokens > most) {
            throw ApiError.badField("input", "the inputs make " + tokens + " tokens; one request may have at most " + most
                    + " (" + MAX_CONTEXTS + " contexts): send them in several");
        }
        return new Request(inputs, format.equals("base64"));
    }

    private int[] ids(JsonNode n, String at) {
        int[] ids;
        if (n.isTextual()) {
            if (n.asText().isEmpty()) throw ApiError.badField("input", at + " is an empty string");
            ids = served.tokenizer().encode(n.asText(), Specials.ALLOW);
        } else if (n.isArray() && !n.isEmpty()) {
            ids = Fields.tokenIds(n, "input", at, served.vocabSize());
        } else {
            throw ApiError.badField("input", at + " must be a non-empty string or list of token ids");
        }
        if (ids.length > served.contextLength()) {
            throw ApiError.badField("input", at + " has " + ids.length + " tokens; the context length is " + served.contextLength());
        }
        return ids;
    }

    /** What {@link #answer} made: the response body, or null when the request was abandoned after {@code embedded} inputs. */
    record Answer(ObjectNode json, int embedded) {
    }

    /**
     * The answer: one embedding per input, in order, and the tokens read (on the side thread). Before
     * each input it asks {@code abandoned} (a client gone, which a long request of sixteen contexts
     * would otherwise outlive by seconds, holding the side thread) and stops if so.
     */
    Answer answer(Request r, BooleanSupplier abandoned) {
        ObjectNode o = Answers.JSON.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        int tokens = 0;
        for (int i = 0; i < r.inputs().size(); i++) {
            if (abandoned.getAsBoolean()) return new Answer(null, i);
            int[] ids = r.inputs().get(i);
            tokens += ids.length;
            float[] e = served.model().embedding(ids);
            ObjectNode d = data.addObject();
            d.put("object", "embedding");
            d.put("index", i);
            if (r.base64()) {
                ByteBuffer b = ByteBuffer.allocate(4 * e.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : e) b.putFloat(v);
                d.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode a = d.putArray("embedding");
                for (float v : e) a.add(v);
            }
        }
        o.put("model", served.name());
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return new Answer(o, r.inputs().size());
    }
}
