package dev.myllm.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON of answers in OpenAI's shapes: whole completions and chat completions, their stream
 * chunks, usage, log-probabilities, model lists and errors.
 */
final class Answers {
    static final ObjectMapper JSON = new ObjectMapper();

    private final ServedModel m;
    private final Plan plan;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;

    /** The JSON of a stream chunk before its choice's index, and after its finish reason (rendered once per request). */
    private final String chunkHead, chunkTail;

    Answers(ServedModel m, Plan plan, String id) {
        this.m = m;
        this.plan = plan;
        this.id = id;
        this.chunkHead = "{\"id\":" + quote(id) + ",\"object\":" + quote(plan.chat() ? "chat.completion.chunk" : "text_completion")
                + ",\"created\":" + created + ",\"model\":" + quote(m.name()) + ",\"system_fingerprint\":null,\"choices\":[{\"index\":";
        this.chunkTail = plan.includeUsage() ? "}],\"usage\":null}\n\n" : "}]}\n\n";
    }

    /** A JSON string literal, escaped as Jackson writes it. */
    private static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8).append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        return sb.append('"').toString();
    }

    /**
     * The server-sent event {@code data: {chunk}\n\n} of {@link #chunk} for one token (or the end)
     * of choice {@code index}, in UTF-8. Without log-probabilities (the usual stream) it is pasted
     * from pieces rendered once per request, the same bytes as Jackson writes for the chunk's tree:
     * building and serializing a tree per token cost the request threads more than sending it.
     */
    byte[] chunkEvent(int index, String text, int id, Sequence.TokenLogprob lp, String finish, boolean first, int textOffset) {
        if (lp != null) return event(chunk(index, text, List.of(id), List.of(lp), finish, first, textOffset));
        StringBuilder sb = new StringBuilder(chunkHead.length() + text.length() + 96).append("data: ").append(chunkHead).append(index);
        if (plan.chat()) {
            sb.append(",\"delta\":{");
            if (first) sb.append("\"role\":\"assistant\"");
            if (finish == null || !text.isEmpty()) {
                if (first) sb.append(',');
                sb.append("\"content\":\"");
                JsonStringEncoder.getInstance().quoteAsString(text, sb);
                sb.append('"');
            }
            sb.append('}');
        } else {
            sb.append(",\"text\":\"");
            JsonStringEncoder.getInstance().quoteAsString(text, sb);
            sb.append('"');
        }
        sb.append(",\"logprobs\":null,\"finish_reason\":");
        if (finish == null) sb.append("null");
        else sb.append(quote(finish));
        return sb.append(chunkTail).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The server-sent event {@code data: {json}\n\n} of a JSON object, in UTF-8. */
    static byte[] event(ObjectNode o) {
        try {
            return ("data: " + JSON.writeValueAsString(o) + "\n\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One choice as it builds up, for the non-streaming answer. */
    static final class Choice {
        final StringBuilder text = new StringBuilder();
        final List<Integer> ids = new ArrayList<>();
        final List<Sequence.TokenLogprob> logprobs = new ArrayList<>();
        final List<Integer> promptIds = new ArrayList<>();
        final List<Sequence.TokenLogprob> promptLogprobs = new ArrayList<>(); // null for the first token
        String finish;
    }

    /** The whole answer. */
    ObjectNode complete(List<Choice> choices, int completionTokens, int cachedTokens) {
        ObjectNode o = head(plan.chat() ? "chat.completion" : "text_completion");
        ArrayNode arr = o.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            ObjectNode ch = arr.addObject();
            ch.put("index", i);
            if (plan.chat()) {
                ObjectNode msg = ch.putObject("message");
                msg.put("role", "assistant").put("content", c.text.toString()).putNull("refusal");
                if (plan.sampling().logprobs() >= 0) ch.set("logprobs", chatLogprobs(c.ids, c.logprobs));
                else ch.putNull("logprobs");
            } else {
                ch.put("text", (plan.echo() ? echoText(i) : "") + c.text);
                if (plan.sampling().logprobs() >= 0) {
                    List<Integer> ids = new ArrayList<>(c.promptIds);
                    ids.addAll(c.ids);
                    List<Sequence.TokenLogprob> lps = new ArrayList<>(c.promptLogprobs);
                    lps.addAll(c.logprobs);
                    ch.set("logprobs", completionLogprobs(ids, lps, 0));
                } else {
                    ch.putNull("logprobs");
                }
            }
            ch.put("finish_reason", c.finish);
        }
        o.set("usage", usage(completionTokens, cachedTokens));
        return o;
    }

    /** A stream chunk for choice {@code index}: text (or a chat delta), optional log-probabilities, finish reason. */
    ObjectNode chunk(int index, String text, List<Integer> ids, List<Sequence.TokenLogprob> lps, String finish,
                     boolean first, int textOffset) {
        ObjectNode o = head(plan.chat() ? "chat.completion.chunk" : "text_completion");
        ObjectNode ch = o.putArray("choices").addObject();
        ch.put("index", index);
        if (plan.chat()) {
            ObjectNode delta = ch.putObject("delta");
            if (first) delta.put("role", "assistant");
            if (finish == null || !text.isEmpty()) delta.put("content", text);
            ch.set("logprobs", lps.isEmpty() ? null : chatLogprobs(ids, lps));
        } else {
            ch.put("text", text);
            ch.set("logprobs", lps.isEmpty() ? null : completionLogprobs(ids, lps, textOffset));
        }
        ch.put("finish_reason", finish);
        if (plan.includeUsage()) o.putNull("usage");
        return o;
    }

    /** The last chunk of a stream with {@code stream_options.include_usage}: no choices, the usage. */
    ObjectNode usageChunk(int completionTokens, int cachedTokens) {
        ObjectNode o = head(plan.chat() ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        o.set("usage", usage(completionTokens, cachedTokens));
        return o;
    }

    /** The prompt of choice {@code index} as text (echo). */
    String echoText(int index) {
        String text = plan.promptTexts().get(index / plan.n());
        return text != null ? text : m.text(plan.promptOf(index));
    }

    private ObjectNode head(String object) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id).put("object", object).put("created", created).put("model", m.name());
        o.putNull("system_fingerprint");
        return o;
    }

    /** OpenAI's usage, with the prompt tokens a kept KV cache held ({@code prompt_tokens_details.cached_tokens}). */
    private ObjectNode usage(int completionTokens, int cachedTokens) {
        ObjectNode u = JSON.createObjectNode();
        int prompt = plan.promptTokens();
        u.put("prompt_tokens", prompt).put("completion_tokens", completionTokens).put("total_tokens", prompt + completionTokens);
        u.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        return u;
    }

    private ObjectNode completionLogprobs(List<Integer> ids, List<Sequence.TokenLogprob> lps, int offset) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode tokens = o.putArray("tokens"), lp = o.putArray("token_logprobs"), top = o.putArray("top_logprobs"),
                off = o.putArray("text_offset");
        for (int i = 0; i < ids.size(); i++) {
            String t = token(ids.get(i));
            tokens.add(t);
            if (lps.get(i) == null) { // the first token of an echoed prompt: nothing before it to predict it
                lp.addNull();
                top.addNull();
            } else {
                lp.add(lps.get(i).logprob());
                ObjectNode alt = top.addObject();
                for (int j = 0; j < lps.get(i).topIds().length; j++) alt.put(token(lps.get(i).topIds()[j]), lps.get(i).topLogprobs()[j]);
            }
            off.add(offset);
            offset += t.length();
        }
        return o;
    }

    private ObjectNode chatLogprobs(List<Integer> ids, List<Sequence.TokenLogprob> lps) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (int i = 0; i < ids.size(); i++) {
            ObjectNode e = content.addObject();
            tokenEntry(e, ids.get(i), lps.get(i).logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (int j = 0; j < lps.get(i).topIds().length; j++) tokenEntry(top.addObject(), lps.get(i).topIds()[j], lps.get(i).topLogprobs()[j]);
        }
        o.putNull("refusal");
        return o;
    }

    private void tokenEntry(ObjectNode e, int id, float logprob) {
        byte[] b = m.decoder().bytes(id);
        e.put("token", new String(b, StandardCharsets.UTF_8)).put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte x : b) bytes.add(x & 0xff);
    }

    /** A token's text; a piece of a UTF-8 character shows as the replacement character. */
    String token(int id) {
        return new String(m.decoder().bytes(id), StandardCharsets.UTF_8);
    }

    /** OpenAI's error object. */
    static ObjectNode error(ApiError e) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage()).put("type", e.type).put("param", e.param).put("code", e.code);
        return o;
    }

    /** {@code GET /v1/models/NAME}. */
    static ObjectNode model(ServedModel m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", m.name()).put("object", "model").put("created", m.created()).put("owned_by", "myllm");
        o.put("context_length", m.contextLength());
        if (m.classifier() != null) {
            o.put("task", "classify");
            o.putPOJO("labels", m.classifier().labels());
        } else {
            o.put("task", "generate").put("chat_template", m.chat().name());
        }
        return o;
    }

    /** {@code GET /v1/models}. */
    static ObjectNode models(ServedModel m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "list");
        o.putArray("data").add(model(m));
        return o;
    }
}
