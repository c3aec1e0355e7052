package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.tokenizer.Specials;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A checked {@code /v1/completions} or {@code /v1/chat/completions} request: the prompts as ids
 * (several for a completion whose {@code prompt} is a list; their texts, or null where ids were
 * sent), the sampling settings, how many choices per prompt, and how to answer (stream, usage,
 * echo, log-probabilities). Choice {@code p·n + i} is the i-th choice of prompt p, as OpenAI numbers them.
 */
record Plan(boolean chat, List<int[]> prompts, List<String> promptTexts, Sampling sampling, int n, boolean stream,
            boolean includeUsage, boolean echo) {
    /** Most prompts in one request (each one is a sequence in the scheduler's queue, times n). */
    static final int MAX_PROMPTS = 64;

    /** A request with one prompt ({@code text} null when it came as ids). */
    Plan(boolean chat, int[] prompt, String text, Sampling sampling, int n, boolean stream, boolean includeUsage, boolean echo) {
        this(chat, List.of(prompt), java.util.Collections.singletonList(text), sampling, n, stream, includeUsage, echo);
    }

    /** Choices in the answer: n for each prompt. */
    int choices() {
        return prompts.size() * n;
    }

    /** The prompt of choice {@code index}. */
    int[] promptOf(int index) {
        return prompts.get(index / n);
    }

    /** Prompt tokens counted once per prompt (not once per choice), as OpenAI's usage does. */
    int promptTokens() {
        int t = 0;
        for (int[] p : prompts) t += p.length;
        return t;
    }

    /** The prompts' text for the log line (ids are decoded by the caller when wanted). */
    String promptText() {
        return prompts.size() == 1 ? promptTexts.get(0) : String.valueOf(promptTexts);
    }

    /** Server-side caps on what one request may ask for; {@code maxSequences} is the scheduler's queue (--max-queue). */
    record Limits(int maxTokens, int maxN, int maxStops, int maxSequences) {
    }

    static Plan completion(JsonNode body, ServedModel m, Limits limits) {
        Fields f = new Fields(body);
        checkModel(f, m);
        JsonNode p = f.get("prompt");
        if (p == null) throw ApiError.badField("prompt", "prompt is required");
        List<int[]> prompts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        // a string, a list of ids, or a list of either (several prompts), as OpenAI accepts
        boolean batch = p.isArray() && !p.isEmpty() && (p.get(0).isTextual() || p.get(0).isArray());
        if (batch) {
            if (p.size() > MAX_PROMPTS) throw ApiError.badField("prompt", "at most " + MAX_PROMPTS + " prompts in one request, got " + p.size());
            for (int i = 0; i < p.size(); i++) addPrompt(p.get(i), "prompt[" + i + "]", m, prompts, texts);
        } else {
            addPrompt(p, "prompt", m, prompts, texts);
        }
        int longest = 0;
        for (int[] ids : prompts) longest = Math.max(longest, ids.length);
        f.unsupported("suffix", "this model only continues text");
        Integer bestOf = f.integer("best_of", null, 1, limits.maxN());
        int n = f.integer("n", 1, 1, limits.maxN());
        if (bestOf != null && bestOf != n) throw ApiError.badField("best_of", "best_of other than n is not supported");
        checkSequences(prompts.size(), n, limits);
        int room = m.contextLength() - longest;
        if (room < 1) throw ApiError.badField("prompt", "the prompt has " + longest + " tokens; the context length is " + m.contextLength());
        boolean echo = f.bool("echo", false);
        JsonNode given = f.get("max_tokens");
        if (!echo && given != null && given.isNumber() && given.asDouble() == 0) { // a completion's 0 means something with echo: say what
            throw ApiError.badField("max_tokens", "max_tokens must be between 1 and " + limits.maxTokens() + ", got 0 (0, with echo true, scores the prompt)");
        }
        int maxTokens = maxTokens(f, "max_tokens", 16, room, limits, longest, m, echo ? 0 : 1); // echo and 0: score the prompt
        Integer logprobs = f.integer("logprobs", null, 0, 5);
        boolean stream = f.bool("stream", false);
        if (stream && echo && logprobs != null) throw ApiError.badField("echo", "echo with logprobs is answered whole: leave out stream");
        Sampling s = sampling(f, maxTokens, logprobs == null ? -1 : logprobs, limits, m.vocabSize());
        return new Plan(false, List.copyOf(prompts), java.util.Collections.unmodifiableList(texts), s, n, stream,
                includeUsage(f, stream), echo);
    }

    /** One prompt: a string, or a list of token ids. */
    private static void addPrompt(JsonNode p, String at, ServedModel m, List<int[]> prompts, List<String> texts) {
        int[] ids;
        String text = null;
        if (p.isTextual()) {
            text = p.asText();
            ids = m.tokenizer().encode(text, Specials.ALLOW);
        } else if (p.isArray()) {
            ids = Fields.tokenIds(p, "prompt", at, m.vocabSize());
        } else {
            throw ApiError.badField("prompt", at + " must be a string or a list of token ids");
        }
        if (ids.length == 0) throw ApiError.badField("prompt", at + " is empty: give at least one token");
        prompts.add(ids);
        texts.add(text);
    }

    static Plan chat(JsonNode body, ServedModel m, Limits limits) {
        Fields f = new Fields(body);
        checkModel(f, m);
        JsonNode msgs = f.get("messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) throw ApiError.badField("messages", "messages must be a non-empty list");
        List<ChatTemplate.Message> list = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode msg = msgs.get(i);
            String at = "messages[" + i + "]";
            if (!msg.isObject()) throw ApiError.badField(at, at + " must be an object");
            JsonNode role = msg.get("role");
            if (role == null || !role.isTextual() || !List.of("system", "developer", "user", "assistant", "tool").contains(role.asText())) {
                throw ApiError.badField(at + ".role", at + ".role must be one of system, developer, user, assistant, tool");
            }
            list.add(new ChatTemplate.Message(role.asText(), content(msg.get("content"), at + ".content", role.asText())));
        }
        f.unsupported("tools", "this model does not call tools");
        f.unsupported("functions", "this model does not call functions");
        JsonNode rf = f.get("response_format");
        if (rf != null && !(rf.isObject() && "text".equals(rf.path("type").asText()))) {
            throw ApiError.badField("response_format", "response_format must be {\"type\": \"text\"}: this server makes text only");
        }
        String text = m.chat().render(list);
        int[] ids = m.tokenizer().encode(text, Specials.TEXT);
        int room = m.contextLength() - ids.length;
        if (room < 1) throw ApiError.badField("messages", "the messages make " + ids.length + " tokens; the context length is " + m.contextLength());
        String field = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens = maxTokens(f, field, Math.min(room, limits.maxTokens()), room, limits, ids.length, m, 1);
        boolean logprobs = f.bool("logprobs", false);
        Integer top = f.integer("top_logprobs", null, 0, 20);
        if (top != null && !logprobs) throw ApiError.badField("top_logprobs", "top_logprobs needs logprobs: true");
        int n = f.integer("n", 1, 1, limits.maxN());
        checkSequences(1, n, limits);
        boolean stream = f.bool("stream", false);
        Sampling s = sampling(f, maxTokens, logprobs ? (top == null ? 0 : top) : -1, limits, m.vocabSize());
        List<String> stops = new ArrayList<>(s.stops());
        for (String stop : m.chat().stops()) if (!stops.contains(stop)) stops.add(stop);
        s = s.withStops(stops);
        return new Plan(true, ids, text, s, n, stream, includeUsage(f, stream), false);
    }

    /** A message's text: a string, or a list of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode c, String at, String role) {
        if (c == null || c.isNull()) {
            if (role.equals("assistant")) return "";
            throw ApiError.badField(at, at + " is required");
        }
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.badField(at, at + " parts must be {\"type\": \"text\", \"text\": ...}; this model reads text only");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.badField(at, at + " must be a string or a list of text parts");
    }

    /**
     * Refuses a request of more sequences (prompts × n) than the scheduler ever queues: a 429 would
     * tell its client to retry what can never be taken.
     */
    private static void checkSequences(int prompts, int n, Limits limits) {
        if ((long) prompts * n <= limits.maxSequences()) return;
        String made = prompts > 1 ? prompts + " prompts × n " + n : "n " + n;
        throw ApiError.badField(n > 1 ? "n" : "prompt", "this request makes " + (long) prompts * n + " sequences (" + made
                + "); this server queues at most " + limits.maxSequences() + " at once: send " + (n > 1 ? "a smaller n" : "fewer prompts")
                + " or several requests");
    }

    private static void checkModel(Fields f, ServedModel m) {
        String name = f.string("model", m.name());
        if (!name.equals(m.name())) {
            throw ApiError.notFound("model", "model_not_found", "The model '" + Fields.shown(name) + "' does not exist; this server has '" + m.name() + "'");
        }
    }

    private static int maxTokens(Fields f, String field, int fallback, int room, Limits limits, int promptTokens, ServedModel m, int min) {
        int v = f.integer(field, fallback, min, limits.maxTokens()); // the range named is this server's (--max-tokens)
        if (v > room) {
            throw ApiError.badField(field, "the prompt (" + promptTokens + " tokens) plus " + field + " (" + v
                    + ") exceeds the context length " + m.contextLength());
        }
        return v;
    }

    private static Sampling sampling(Fields f, int maxTokens, int logprobs, Limits limits, int vocab) {
        float temperature = f.number("temperature", 1f, 0, false, 2);
        float topP = f.number("top_p", 1f, 0, true, 1);
        int topK = f.integer("top_k", 0, 0, Integer.MAX_VALUE);
        Long seed = f.longValue("seed");
        float presence = f.number("presence_penalty", 0f, -2, false, 2);
        float frequency = f.number("frequency_penalty", 0f, -2, false, 2);
        List<String> stops = f.stops("stop", limits.maxStops());
        boolean ignoreEos = f.bool("ignore_eos", false); // an extension (vLLM's name): exactly max_tokens, for benchmarks
        return new Sampling(maxTokens, temperature, topP, topK, seed == null ? ThreadLocalRandom.current().nextLong() : seed,
                presence, frequency, stops, logprobs, ignoreEos, logitBias(f, vocab));
    }

    /**
     * OpenAI's {@code logit_bias}: an object of token ids (as strings) to values in [-100, 100], each
     * added to its token's logit before the pick (-100 in effect bans a token, 100 forces it);
     * null when absent or empty.
     */
    private static Sampling.LogitBias logitBias(Fields f, int vocab) {
        JsonNode n = f.get("logit_bias");
        if (n == null) return null;
        if (!n.isObject()) throw ApiError.badField("logit_bias", "logit_bias must be an object of token ids to numbers");
        if (n.isEmpty()) return null;
        int[] ids = new int[n.size()];
        float[] values = new float[n.size()];
        int i = 0;
        for (var e : n.properties()) {
            String key = e.getKey();
            int id;
            try {
                id = Integer.parseInt(key);
            } catch (NumberFormatException x) {
                id = -1;
            }
            if (id < 0 || id >= vocab || !key.equals(Integer.toString(id))) {
                throw ApiError.badField("logit_bias", "logit_bias keys must be token ids in [0, " + vocab + "), got '" + Fields.shown(key) + "'");
            }
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(v.asDouble() >= -100 && v.asDouble() <= 100)) {
                throw ApiError.badField("logit_bias", "logit_bias values must be numbers between -100 and 100, got " + Fields.shown(v) + " for token " + key);
            }
            ids[i] = id;
            values[i++] = (float) v.asDouble();
        }
        return new Sampling.LogitBias(ids, values);
    }

    private static boolean includeUsage(Fields f, boolean stream) {
        JsonNode so = f.get("stream_options");
        if (so == null) return false;
        if (!stream) throw ApiError.badField("stream_options", "stream_options is only allowed with stream: true");
        if (!so.isObject()) throw ApiError.badField("stream_options", "stream_options must be an object");
        JsonNode u = so.get("include_usage");
        if (u != null && !u.isNull() && !u.isBoolean()) throw ApiError.badField("stream_options.include_usage", "stream_options.include_usage must be true or false");
        return u != null && u.asBoolean();
    }
}
