package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.finetune.TokenRule;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Rng;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile input at every POST route, one request per row against one server: each bad field, body or
 * framing gets a 4xx in OpenAI's error shape whose {@code param} and message name the field (never a
 * 500, a stack trace or a hung connection), unknown fields are ignored everywhere, every log line stays
 * one line, and the server goes on answering.
 */
class HostileInputTest {
    static final int IDLE_SECONDS = 2;
    static TestServers.Running srv;
    /** A classifier behind its own server: {@code /v1/classify} is only served for one. */
    static TestServers.Running clf;

    @BeforeAll
    static void start() throws Exception {
        ServerConfig c = ServerConfig.defaults().withBatch(4, 8).withLimits(4096, 48, 3)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(IDLE_SECONDS), Duration.ofSeconds(1));
        srv = TestServers.start(TestServers.model(3), c);
        GPTClassifier k = GPTClassifier.withNewHead(RandomModels.uniform(TestServers.CONFIG, 9), List.of("ham", "spam"), true,
                TokenRule.LAST, 50256, new Rng(4));
        clf = TestServers.start(ServedModel.classifier("spam", k, TestServers.gpt2(), dev.myllm.generate.TokenDecoder.of(TestServers.gpt2()), 0L), c);
    }

    @AfterAll
    static void stop() {
        srv.close();
        clf.close();
    }

    /** One request: the route, the body's bytes, its Content-Type (null: none), and the status and {@code param} expected. */
    record Row(String path, byte[] body, String type, int status, String param) {
        Row(String path, String body, int status, String param) {
            this(path, body.getBytes(StandardCharsets.UTF_8), "application/json", status, param);
        }

        String show() {
            String b = new String(body, StandardCharsets.UTF_8);
            return path + " " + (b.length() > 90 ? b.substring(0, 90) + "..." : b) + (type == null ? " (no Content-Type)"
                    : type.equals("application/json") ? "" : " (" + type + ")");
        }
    }

    static final String COMPLETION = "{'prompt':'a','max_tokens':1,'temperature':0}";
    static final String CHAT = "{'messages':[{'role':'user','content':'a'}],'max_tokens':1,'temperature':0}";
    static final String EMBED = "{'input':'a'}";
    static final String INSPECT = "{'text':'a b','layers':[0]}";
    static final String CLASSIFY = "{'input':'a'}";
    static final String C = "/v1/completions", H = "/v1/chat/completions", E = "/v1/embeddings", I = "/v1/inspect", K = "/v1/classify";

    /** JSON written with single quotes (none of these bodies has one inside a string). */
    static String q(String s) {
        return s.replace('\'', '"');
    }

    /** {@code base} with {@code field} set to the raw JSON text {@code raw} (spliced in as text: NaN and the like stay as sent). */
    static String with(String base, String field, String raw) {
        try {
            ObjectNode o = (ObjectNode) TestServers.JSON.readTree(q(base));
            o.remove(field);
            String rest = TestServers.JSON.writeValueAsString(o);
            return "{\"" + field + "\":" + raw + (o.isEmpty() ? "" : ",") + rest.substring(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Row row(String path, String body, int status, String param) {
        return new Row(path, q(body), status, param);
    }

    static Row set(String path, String base, String field, String raw, int status, String param) {
        return new Row(path, with(base, field, q(raw)), status, param);
    }

    static String base(String path) {
        return switch (path) {
            case C -> COMPLETION;
            case H -> CHAT;
            case E -> EMBED;
            case I -> INSPECT;
            default -> CLASSIFY;
        };
    }

    static final List<String> NOT_NUMBERS = List.of("'1'", "true", "[1]", "{}");
    static final List<String> BAD_INTEGERS = List.of("'1'", "true", "[1]", "{}", "1.5", "1e308", "-1e308",
            "99999999999999999999999", "-99999999999999999999999", "-1");
    static final List<String> BAD_NUMBERS = List.of("'1'", "true", "[1]", "{}", "1e308", "-1e308", "99999999999999999999999");
    static final List<String> BAD_BOOLEANS = List.of("'true'", "1", "0", "[]", "{}", "'yes'");
    static final List<String> BAD_STRINGS = List.of("5", "true", "[]", "{}", "['tiny']");

    /** Every field of every route with values of the wrong JSON type or out of range, and null (the default) for the optional ones. */
    static List<Row> typeRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H, E, I)) {
            for (String v : BAD_STRINGS) rows.add(set(path, base(path), "model", v, 400, "model"));
            rows.add(set(path, base(path), "model", "null", 200, null));
            rows.add(set(path, base(path), "model", "'gpt-4'", 404, "model"));
            rows.add(set(path, base(path), "no_such_field", "{'x':[1,null]}", 200, null)); // OpenAI ignores unknown fields, and so do we
        }
        for (String path : List.of(C, H)) {
            for (String f : List.of("temperature", "top_p", "presence_penalty", "frequency_penalty")) {
                for (String v : BAD_NUMBERS) rows.add(set(path, base(path), f, v, 400, f));
                rows.add(set(path, base(path), f, "null", 200, null));
                boolean nonNegative = f.equals("top_p") || f.equals("temperature"); // the least negative double
                rows.add(set(path, base(path), f, "-4.9e-324", nonNegative ? 400 : 200, nonNegative ? f : null));
            }
            for (String f : List.of("max_tokens", "n", "top_k")) {
                for (String v : BAD_INTEGERS) rows.add(set(path, base(path), f, v, 400, f));
                rows.add(set(path, base(path), f, "1.0", 200, null));
                rows.add(set(path, base(path), f, "1e0", 200, null));
            }
            for (String v : List.of("-0", "-0.0", "0")) rows.add(set(path, base(path), "max_tokens", v, 400, "max_tokens"));
            rows.add(set(path, base(path), "n", "-0", 400, "n"));
            rows.add(set(path, base(path), "max_tokens", "null", 200, null));
            for (String v : List.of("'1'", "true", "[1]", "{}", "1.5", "1e308", "99999999999999999999999", "9223372036854775808")) {
                rows.add(set(path, base(path), "seed", v, 400, "seed"));
            }
            for (String v : List.of("-1", "0", "9223372036854775807", "-9223372036854775808", "null")) {
                rows.add(set(path, base(path), "seed", v, 200, null));
            }
            for (String f : List.of("stream", "ignore_eos")) {
                for (String v : BAD_BOOLEANS) rows.add(set(path, base(path), f, v, 400, f));
                rows.add(set(path, base(path), f, "null", 200, null));
            }
            for (String v : List.of("5", "{}", "[1]", "[null]", "[['a']]", "''", "['']", "['a','']", "[" + "'x',".repeat(16) + "'x']")) {
                rows.add(set(path, base(path), "stop", v, 400, "stop"));
            }
            for (String v : List.of("null", "[]", "'\\n'", "['a','b']")) rows.add(set(path, base(path), "stop", v, 200, null));
            for (String v : List.of("'x'", "5", "[]", "[1]", "{'x':1}", "{'-1':1}", "{'50257':1}", "{'01':1}", "{' 1':1}",
                    "{'1':'a'}", "{'1':101}", "{'1':null}", "{'1':[1]}", "{'99999999999999999999':1}")) {
                rows.add(set(path, base(path), "logit_bias", v, 400, "logit_bias"));
            }
            for (String v : List.of("null", "{}", "{'1':-100}", "{'1':100.0}")) rows.add(set(path, base(path), "logit_bias", v, 200, null));
            // stream_options only with stream: true, and then an object with a boolean include_usage
            rows.add(set(path, base(path), "stream_options", "{'include_usage':true}", 400, "stream_options"));
            rows.add(set(path, base(path), "stream_options", "{}", 400, "stream_options"));
            rows.add(set(path, base(path), "stream_options", "null", 200, null));
            String streamed = with(base(path), "stream", "true");
            rows.add(set(path, streamed, "stream_options", "'x'", 400, "stream_options"));
            rows.add(set(path, streamed, "stream_options", "[true]", 400, "stream_options"));
            rows.add(set(path, streamed, "stream_options", "{'include_usage':'yes'}", 400, "stream_options.include_usage"));
            rows.add(set(path, streamed, "stream_options", "{'include_usage':true,'other':1}", 200, null));
            // several choices streamed: OpenAI's chunks carry each one's index
            rows.add(set(path, streamed, "n", "3", 200, null));
        }
        for (String v : BAD_INTEGERS) {
            rows.add(set(C, COMPLETION, "logprobs", v, 400, "logprobs"));
            rows.add(set(C, COMPLETION, "best_of", v, 400, "best_of"));
            rows.add(set(H, CHAT, "max_completion_tokens", v, 400, "max_completion_tokens"));
            rows.add(set(H, with(CHAT, "logprobs", "true"), "top_logprobs", v, 400, "top_logprobs"));
            rows.add(set(E, EMBED, "dimensions", v, 400, "dimensions"));
            rows.add(set(I, INSPECT, "top_k", v, 400, "top_k"));
            rows.add(set(I, INSPECT, "decimals", v, 400, "decimals"));
        }
        for (String v : BAD_BOOLEANS) {
            rows.add(set(C, COMPLETION, "echo", v, 400, "echo"));
            rows.add(set(H, CHAT, "logprobs", v, 400, "logprobs"));
            rows.add(set(I, INSPECT, "last_logits", v, 400, "last_logits"));
        }
        for (String v : BAD_STRINGS) rows.add(set(E, EMBED, "encoding_format", v, 400, "encoding_format"));
        for (String v : BAD_STRINGS) rows.add(set(K, CLASSIFY, "model", v, 400, "model"));
        rows.add(set(K, CLASSIFY, "no_such_field", "{'x':[1,null]}", 200, null));
        rows.add(set(K, CLASSIFY, "model", "null", 200, null));
        return rows;
    }

    /** NaN and the infinities (not JSON, but sent) at every numeric field: the field's own 400, not a parse error. */
    static List<Row> nonNumberRows() {
        List<Row> rows = new ArrayList<>();
        for (String v : List.of("NaN", "Infinity", "-Infinity")) {
            for (String path : List.of(C, H)) {
                for (String f : List.of("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens", "n", "top_k", "seed")) {
                    rows.add(set(path, base(path), f, v, 400, f));
                }
                rows.add(set(path, base(path), "logit_bias", "{'1':" + v + "}", 400, "logit_bias"));
            }
            rows.add(set(C, COMPLETION, "logprobs", v, 400, "logprobs"));
            rows.add(set(C, COMPLETION, "best_of", v, 400, "best_of"));
            rows.add(set(C, COMPLETION, "prompt", "[" + v + "]", 400, "prompt"));
            rows.add(set(H, CHAT, "max_completion_tokens", v, 400, "max_completion_tokens"));
            rows.add(set(H, with(CHAT, "logprobs", "true"), "top_logprobs", v, 400, "top_logprobs"));
            rows.add(set(E, EMBED, "dimensions", v, 400, "dimensions"));
            rows.add(set(E, EMBED, "input", "[" + v + "]", 400, "input"));
            rows.add(set(I, INSPECT, "top_k", v, 400, "top_k"));
            rows.add(set(I, INSPECT, "decimals", v, 400, "decimals"));
            rows.add(set(I, INSPECT, "layers", "[" + v + "]", 400, "layers"));
        }
        return rows;
    }

    /** A field twice, at the top or deeper: which one was meant is anyone's guess (and a proxy in front may read the other). */
    static List<Row> duplicateRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H, E, I, K)) {
            String b = base(path), field = b.substring(2, b.indexOf(':') - 1); // the body's first field
            rows.add(row(path, b.replaceFirst("\\{", "{'" + field + "':null,"), 400, field));
            rows.add(set(path, b, "model", path.equals(K) ? "'spam','model':'spam'" : "'tiny','model':'tiny'", 400, "model"));
        }
        rows.add(row(H, "{'messages':[{'role':'user','role':'user','content':'a'}],'max_tokens':1}", 400, "messages[0].role"));
        rows.add(row(C, "{'prompt':'a','max_tokens':1,'logit_bias':{'1':1,'1':2}}", 400, "logit_bias.1"));
        rows.add(row(C, "{'prompt':'a','max_tokens':1,'stream':true,'stream_options':{'include_usage':true,'include_usage':false}}", 400,
                "stream_options.include_usage"));
        rows.add(row(C, "{'prompt':'a','max_tokens':1,'x':{'y':1,'y':2}}", 400, "x.y")); // in an unknown field too
        return rows;
    }

    /** Integers beyond 64 bits where a token id or an index goes: refused, not read as their low bits (2^64 + 1 is not 1). */
    static List<Row> hugeIntegerRows() {
        return List.of(
                set(C, COMPLETION, "prompt", "[18446744073709551617]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[[18446744073709551617]]", 400, "prompt"),
                set(E, EMBED, "input", "[18446744073709551617]", 400, "input"),
                set(E, EMBED, "input", "[[1], [18446744073709551617]]", 400, "input"),
                row(I, "{'ids':[1,18446744073709551617]}", 400, "ids"),
                set(I, INSPECT, "layers", "[18446744073709551616]", 400, "layers"),
                set(I, INSPECT, "heads", "[18446744073709551617]", 400, "heads"));
    }

    /** The Content-Type: JSON (or none, as curl -d and scripts may send) is read; a form, text or other type is not JSON. */
    static List<Row> contentTypeRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H, E, I, K)) {
            byte[] ok = q(base(path)).getBytes(StandardCharsets.UTF_8);
            for (String type : List.of("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                    "application/xml", "application/jsonx", "json", "application/json+x", "multipart/json")) {
                rows.add(new Row(path, ok, type, 415, null));
            }
            for (String type : List.of("application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json", "application/json ;x=y", " ")) {
                rows.add(new Row(path, ok, type, 200, null));
            }
            rows.add(new Row(path, ok, null, 200, null));
        }
        return rows;
    }

    /** More sequences (prompts × n) than the server ever queues: no retry helps, so a 400 naming the field, not a 429. */
    static List<Row> queueRows() {
        return List.of(
                set(C, with(COMPLETION, "prompt", q("['a','b','c']")), "n", "3", 400, "n"),
                set(C, COMPLETION, "prompt", "['a','b','c','d','e','f','g','h','i']", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['a','b','c','d','e','f','g','h']", 200, null),
                set(H, CHAT, "n", "3", 200, null));
    }

    /** An integer field takes an integral number written with a fraction or an exponent (42.0, 4.2e1), seed as the others. */
    static List<Row> integralRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H)) {
            for (String v : List.of("42.0", "4.2e1", "-1.0")) rows.add(set(path, base(path), "seed", v, 200, null));
        }
        return rows;
    }

    /** A message names its field even when the value is refused as a whole; a long value is not repeated back in full. */
    static List<Row> messageRows() {
        String nested = "[".repeat(900) + "1" + "]".repeat(900);
        return List.of(
                set(H, CHAT, "response_format", "{'type':'json_object'}", 400, "response_format"),
                set(H, CHAT, "response_format", "'text'", 400, "response_format"),
                set(C, COMPLETION, "prompt", "[['" + "a".repeat(3000) + "']]", 400, "prompt"),
                set(C, COMPLETION, "prompt", nested, 400, "prompt"),
                set(E, EMBED, "input", "[1, '" + "a".repeat(3000) + "']", 400, "input"),
                set(I, INSPECT, "layers", "[" + nested + "]", 400, "layers"),
                set(C, COMPLETION, "stop", "['a', {'x':'" + "a".repeat(3000) + "'}]", 400, "stop"),
                set(C, COMPLETION, "logit_bias", "{'" + "1".repeat(3000) + "':1}", 400, "logit_bias"),
                set(C, COMPLETION, "logit_bias", "{'1':'" + "a".repeat(3000) + "'}", 400, "logit_bias"),
                set(C, COMPLETION, "temperature", "1" + "0".repeat(900), 400, "temperature"),
                set(E, EMBED, "encoding_format", "'" + "a".repeat(3000) + "'", 400, "encoding_format"),
                set(C, COMPLETION, "model", "'" + "a".repeat(3000) + "'", 404, "model"));
    }

    /** JSON the parser refuses: the message says what is wrong in the body, not which parser feature is off or which Java class. */
    static List<Row> parseErrorRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H, E, I, K)) {
            for (String body : List.of("{", "{'a':1} {'b':2}", "{'a':1} x", "{'a':1 /* note */}", "{'a':1 // note\n}", "{'a':+1}", "{'a':NaN1}",
                    "{'a':" + "9".repeat(1200) + "}", "{'a':" + "[".repeat(1200) + "]".repeat(1200) + "}", "{'a':'\\u12'}", "{'a\\u0000':1,}")) {
                rows.add(row(path, body, 400, null));
            }
            rows.add(new Row(path, new byte[]{(byte) 0xfe, (byte) 0xff, 0, '{'}, "application/json", 400, null)); // UTF-16, cut short
        }
        return rows;
    }

    static String ids(int n, String id) {
        return "[" + (id + ",").repeat(n - 1) + id + "]";
    }

    /** What each route makes of its main input: prompts, messages, inputs, texts and ids. */
    static List<Row> inputRows() {
        return List.of(
                // completions: prompt is a string, a list of ids, or a list of either
                row(C, "{'max_tokens':1}", 400, "prompt"),
                set(C, COMPLETION, "prompt", "null", 400, "prompt"),
                set(C, COMPLETION, "prompt", "''", 400, "prompt"),
                set(C, COMPLETION, "prompt", "'   '", 200, null),
                set(C, COMPLETION, "prompt", "'\\u0000\\ud800\\udfff\\ud800 x'", 200, null),
                set(C, COMPLETION, "prompt", "5", 400, "prompt"),
                set(C, COMPLETION, "prompt", "true", 400, "prompt"),
                set(C, COMPLETION, "prompt", "{}", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[[]]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['']", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['a', 1]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[1, 'a']", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['a', null]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['a', {}]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[[1, 2], [3, 'x']]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[[[1]]]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[-1]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[50257]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[1.5]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[true]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[null]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[4294967297]", 400, "prompt"),
                set(C, COMPLETION, "prompt", "[50256, 0]", 200, null),
                set(C, COMPLETION, "prompt", "['a', [464, 3139]]", 200, null),
                set(C, COMPLETION, "prompt", "'<|endoftext|>'", 200, null),
                set(C, COMPLETION, "prompt", ids(95, "1"), 200, null),
                set(C, COMPLETION, "prompt", ids(96, "1"), 400, "prompt"),
                set(C, COMPLETION, "prompt", "[" + "'a',".repeat(64) + "'a']", 400, "prompt"),
                set(C, COMPLETION, "prompt", "['a','b']", 200, null),
                set(C, COMPLETION, "suffix", "'x'", 400, "suffix"),
                set(C, COMPLETION, "best_of", "2", 400, "best_of"),
                set(C, COMPLETION, "logprobs", "6", 400, "logprobs"),
                set(C, COMPLETION, "logprobs", "5", 200, null),
                set(C, COMPLETION, "max_tokens", "49", 400, "max_tokens"),
                row(C, "{'prompt':'a','max_tokens':1,'stream':true,'echo':true,'logprobs':1}", 400, "echo"),
                row(C, "{'prompt':'a','max_tokens':0,'echo':true}", 200, null),
                // chat: messages
                row(H, "{'max_tokens':1}", 400, "messages"),
                set(H, CHAT, "messages", "null", 400, "messages"),
                set(H, CHAT, "messages", "[]", 400, "messages"),
                set(H, CHAT, "messages", "{}", 400, "messages"),
                set(H, CHAT, "messages", "'hi'", 400, "messages"),
                set(H, CHAT, "messages", "['hi']", 400, "messages[0]"),
                set(H, CHAT, "messages", "[null]", 400, "messages[0]"),
                set(H, CHAT, "messages", "[[]]", 400, "messages[0]"),
                set(H, CHAT, "messages", "[{'role':'user','content':'a'}, 5]", 400, "messages[1]"),
                set(H, CHAT, "messages", "[{}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':null,'content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':5,'content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':'wizard','content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':'User','content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':'','content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':['user'],'content':'a'}]", 400, "messages[0].role"),
                set(H, CHAT, "messages", "[{'role':'user'}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':null}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':5}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':true}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':{}}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':{'type':'text','text':'a'}}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':''}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'user','content':'   '}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'user','content':[]}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:image/png;base64,AA=='}}]}]",
                        400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':[{'type':'text','text':'a'},{'type':'input_audio','input_audio':{}}]}]",
                        400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':[{'type':'text'}]}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':[{'type':'text','text':5}]}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':['a']}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':[null]}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'user','content':[[{'type':'text','text':'a'}]]}]", 400, "messages[0].content"),
                set(H, CHAT, "messages", "[{'role':'assistant','content':null},{'role':'user','content':'a'}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'system','content':'a'},{'role':'developer','content':'b'},{'role':'tool','content':'c'},"
                        + "{'role':'user','content':'d','name':5,'extra':{}}]", 200, null),
                set(H, CHAT, "messages", "[{'role':'user','content':'" + "a ".repeat(200) + "'}]", 400, "messages"),
                set(H, CHAT, "response_format", "{'type':'text'}", 200, null),
                set(H, CHAT, "tools", "[{'type':'function'}]", 400, "tools"),
                set(H, CHAT, "tools", "'x'", 400, "tools"),
                set(H, CHAT, "tools", "[]", 200, null),
                set(H, CHAT, "functions", "[{}]", 400, "functions"),
                set(H, CHAT, "top_logprobs", "2", 400, "top_logprobs"),
                set(H, with(CHAT, "logprobs", "true"), "top_logprobs", "21", 400, "top_logprobs"),
                set(H, with(CHAT, "logprobs", "true"), "top_logprobs", "20", 200, null),
                set(H, with(CHAT, "logprobs", "false"), "top_logprobs", "2", 400, "top_logprobs"),
                set(H, CHAT, "max_tokens", "49", 400, "max_tokens"),
                // embeddings: input is a text, a list of ids, or a list of either
                row(E, "{}", 400, "input"),
                set(E, EMBED, "input", "null", 400, "input"),
                set(E, EMBED, "input", "''", 400, "input"),
                set(E, EMBED, "input", "5", 400, "input"),
                set(E, EMBED, "input", "{}", 400, "input"),
                set(E, EMBED, "input", "[]", 400, "input"),
                set(E, EMBED, "input", "[[]]", 400, "input"),
                set(E, EMBED, "input", "['a', 5]", 400, "input"),
                set(E, EMBED, "input", "[1, 'a']", 400, "input"),
                set(E, EMBED, "input", "[-1]", 400, "input"),
                set(E, EMBED, "input", "['a', [464, 3139]]", 200, null),
                set(E, EMBED, "encoding_format", "'base32'", 400, "encoding_format"),
                set(E, EMBED, "encoding_format", "'base64'", 200, null),
                set(E, EMBED, "dimensions", "31", 400, "dimensions"),
                set(E, EMBED, "dimensions", "32", 200, null),
                // inspect: text or ids, layers and heads
                row(I, "{}", 400, "text"),
                row(I, "{'text':'a','ids':[1]}", 400, "ids"),
                set(I, INSPECT, "text", "5", 400, "text"),
                set(I, INSPECT, "text", "''", 400, "text"),
                set(I, INSPECT, "text", "['a']", 400, "text"),
                row(I, "{'ids':[]}", 400, "ids"),
                row(I, "{'ids':'1 2'}", 400, "ids"),
                row(I, "{'ids':[1,-1]}", 400, "ids"),
                row(I, "{'ids':[1,1.5]}", 400, "ids"),
                row(I, "{'ids':[1,2]}", 200, null),
                set(I, INSPECT, "layers", "'some'", 400, "layers"),
                set(I, INSPECT, "layers", "5", 400, "layers"),
                set(I, INSPECT, "layers", "[2]", 400, "layers"),
                set(I, INSPECT, "layers", "[-1]", 400, "layers"),
                set(I, INSPECT, "layers", "[0, 0]", 400, "layers"),
                set(I, INSPECT, "layers", "[0.5]", 400, "layers"),
                set(I, INSPECT, "layers", "'all'", 200, null),
                set(I, INSPECT, "heads", "{}", 400, "heads"),
                set(I, INSPECT, "top_k", "21", 400, "top_k"),
                set(I, INSPECT, "decimals", "7", 400, "decimals"),
                // classify: input is a text or a list of up to 32
                row(K, "{}", 400, "input"),
                set(K, CLASSIFY, "input", "7", 400, "input"),
                set(K, CLASSIFY, "input", "''", 400, "input"),
                set(K, CLASSIFY, "input", "[]", 400, "input"),
                set(K, CLASSIFY, "input", "['a', 5]", 400, "input"),
                set(K, CLASSIFY, "input", "['a', '']", 400, "input"),
                set(K, CLASSIFY, "input", "[" + "'a',".repeat(32) + "'a']", 400, "input"),
                set(K, CLASSIFY, "input", "['a', 'b']", 200, null));
    }

    /** Bodies that are not one JSON object, or not JSON at all, or not UTF-8, at every route. */
    static List<Row> bodyRows() {
        List<Row> rows = new ArrayList<>();
        for (String path : List.of(C, H, E, I, K)) {
            for (String body : List.of("", "  \n", "null", "[]", "[{}]", "'x'", "5", "true", "{'prompt':", "{not json}", "{'a':1,}",
                    "{'a':1}]", "{'a':01}", "{'a':'\\x'}", "{'a':'line\nbreak'}", "{a:1}", "{'a':.5}", "{'a':tru}", "\u0000")) {
                rows.add(row(path, body, 400, null));
            }
            rows.add(new Row(path, "{\"x\":\u0000}".getBytes(StandardCharsets.UTF_8), "application/json", 400, null));
            // bytes that are not UTF-8, inside a string and outside
            byte[] bad = q(base(path)).replace("\"a", "\"a\u0001").getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bad.length; i++) if (bad[i] == 1) bad[i] = (byte) 0xff;
            rows.add(new Row(path, bad, "application/json", 400, null));
            rows.add(new Row(path, new byte[]{'{', (byte) 0xc3, '}'}, "application/json", 400, null));
        }
        return rows;
    }

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    /** What is wrong with the answer to {@code r}, or null. */
    static String check(Row r, int status, String body) {
        if (status != r.status()) return "status " + status + ", expected " + r.status() + ": " + cut(body);
        if (status == 200) {
            if (!body.startsWith("{") && !body.startsWith("data: {")) return "200 but not JSON or a stream: " + cut(body);
            return null;
        }
        JsonNode e;
        try {
            e = TestServers.JSON.readTree(body).get("error");
        } catch (Exception x) {
            return "not JSON: " + cut(body);
        }
        if (e == null || !e.isObject()) return "no error object: " + cut(body);
        for (String k : List.of("message", "type", "param", "code")) if (!e.has(k)) return "error without " + k + ": " + body;
        String message = e.get("message").asText(), param = e.get("param").isNull() ? null : e.get("param").asText();
        if (message.isBlank() || e.get("type").asText().isBlank()) return "blank message or type: " + body;
        if (!java.util.Objects.equals(param, r.param())) return "param " + param + ", expected " + r.param() + ": " + message;
        if (param != null && !message.contains(param)) return "message does not name " + param + ": " + message;
        if (message.length() > 400) return "message of " + message.length() + " characters: " + cut(message);
        for (String internal : List.of("Exception", "\tat ", "java.", "com.fasterxml", "dev.myllm", "jackson", "Jackson", "`", "Feature",
                "[Source", "REDACTED")) {
            if (message.contains(internal)) return "message shows internals (" + internal + "): " + message;
        }
        return null;
    }

    static String cut(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    @Test
    void everyRowGetsItsStatusAndNamesItsField() throws Exception {
        List<Row> rows = new ArrayList<>(typeRows());
        rows.addAll(inputRows());
        rows.addAll(bodyRows());
        rows.addAll(nonNumberRows());
        rows.addAll(duplicateRows());
        rows.addAll(hugeIntegerRows());
        rows.addAll(contentTypeRows());
        rows.addAll(queueRows());
        rows.addAll(integralRows());
        rows.addAll(messageRows());
        rows.addAll(parseErrorRows());
        List<String> wrong = new ArrayList<>();
        for (Row r : rows) {
            String base = r.path().equals(K) ? clf.base() : srv.base();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + r.path())).timeout(Duration.ofSeconds(20))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(r.body()));
            if (r.type() != null) b.header("Content-Type", r.type());
            String why;
            try {
                HttpResponse<String> resp = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
                why = check(r, resp.statusCode(), resp.body());
            } catch (java.io.IOException e) {
                why = "no answer: " + e;
            }
            if (why != null) wrong.add(r.show() + "\n    " + why);
        }
        wrong.addAll(brokenLogLines());
        assertThat(wrong).as("%d of %d rows", wrong.size(), rows.size()).isEmpty();
    }

    /** One raw HTTP/1.1 exchange on its own connection: the whole response as text, or what went wrong; at most {@code seconds}. */
    static String raw(TestServers.Running s, byte[] request, int seconds) throws Exception {
        return raw(s, request, seconds, false);
    }

    /** As {@link #raw(TestServers.Running, byte[], int)}, and with {@code end} the client then closes its sending side. */
    static String raw(TestServers.Running s, byte[] request, int seconds, boolean end) throws Exception {
        URI u = URI.create(s.base());
        try (Socket sock = new Socket(u.getHost(), u.getPort())) {
            sock.setSoTimeout(seconds * 1000);
            OutputStream out = sock.getOutputStream();
            out.write(request);
            out.flush();
            if (end) sock.shutdownOutput();
            InputStream in = sock.getInputStream();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n);
            } catch (java.net.SocketTimeoutException e) {
                return "HUNG after " + seconds + " s: " + got.toString(StandardCharsets.UTF_8);
            } catch (java.net.SocketException e) {
                // a reset after the answer: what was read is the answer
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    static byte[] request(String path, String headers, String body) {
        return ("POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    /** The status of a raw response, and its body as an OpenAI error (checked as a row's). */
    static String checkRaw(String what, String response, int status) {
        if (response.startsWith("HUNG")) return what + ": " + response;
        if (!response.startsWith("HTTP/1.1 ")) return what + ": no status line: " + cut(response);
        int got = Integer.parseInt(response.substring(9, 12));
        String body = response.contains("\r\n\r\n") ? response.substring(response.indexOf("\r\n\r\n") + 4) : "";
        if (response.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) body = unchunk(body);
        String why = check(new Row(C, new byte[0], null, status, null), got, body);
        return why == null ? null : what + ": " + why;
    }

    static String unchunk(String s) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (at < s.length()) {
            int eol = s.indexOf("\r\n", at);
            if (eol < 0) break;
            int n = Integer.parseInt(s.substring(at, eol).trim(), 16);
            if (n == 0) break;
            out.append(s, eol + 2, eol + 2 + n);
            at = eol + 2 + n + 2;
        }
        return out.toString();
    }

    @Test
    void framingIsRefusedOrReadAndNothingHangs() throws Exception {
        String body = q(COMPLETION), json = "Content-Type: application/json\r\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        String chunked = Integer.toHexString(10) + "\r\n" + body.substring(0, 10) + "\r\n" + Integer.toHexString(len - 10) + "\r\n"
                + body.substring(10) + "\r\n0\r\n\r\n";
        String big = "{\"prompt\":\"" + "a".repeat(5000) + "\"}";
        StringBuilder bigChunks = new StringBuilder();
        for (int i = 0; i < big.length(); i += 1000) {
            String part = big.substring(i, Math.min(big.length(), i + 1000));
            bigChunks.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
        }
        bigChunks.append("0\r\n\r\n");
        record Raw(String what, byte[] request, int status, boolean end) {
            Raw(String what, byte[] request, int status) {
                this(what, request, status, false);
            }
        }
        List<Raw> cases = List.of(
                new Raw("chunked", request(C, json + "Transfer-Encoding: chunked\r\n", chunked), 200),
                new Raw("chunked in one-byte chunks", request(C, json + "Transfer-Encoding: chunked\r\n",
                        body.chars().mapToObj(c -> "1\r\n" + (char) c + "\r\n").reduce("", String::concat) + "0\r\n\r\n"), 200),
                new Raw("chunked over the limit", request(C, json + "Transfer-Encoding: chunked\r\n", bigChunks.toString()), 413),
                new Raw("Content-Length over the limit", request(C, json + "Content-Length: " + big.length() + "\r\n", big), 413),
                new Raw("Content-Length over the limit, body not sent", request(C, json + "Content-Length: 100000000\r\n", ""), 413),
                new Raw("a bad chunk size", request(C, json + "Transfer-Encoding: chunked\r\n", "zz\r\n" + body + "\r\n0\r\n\r\n"), 400),
                new Raw("a chunk longer than its size", request(C, json + "Transfer-Encoding: chunked\r\n", "2\r\n" + body + "\r\n0\r\n\r\n"), 400),
                new Raw("a body cut short by the client's end", request(C, json + "Content-Length: " + (len + 50) + "\r\n", body), 400, true),
                new Raw("chunks cut short by the client's end", request(C, json + "Transfer-Encoding: chunked\r\n", "40\r\n" + body), 400, true),
                new Raw("chunked and Content-Length", request(C, json + "Transfer-Encoding: chunked\r\nContent-Length: " + len + "\r\n", chunked), 400),
                new Raw("a Content-Length that is no number", request(C, json + "Content-Length: abc\r\n", body), 400),
                new Raw("two Content-Lengths", request(C, json + "Content-Length: " + len + "\r\nContent-Length: 3\r\n", body), 400),
                new Raw("a negative Content-Length", request(C, json + "Content-Length: -1\r\n", body), 400),
                new Raw("Transfer-Encoding gzip", request(C, json + "Transfer-Encoding: gzip\r\n", body), 400),
                new Raw("Expect: 100-continue", request(C, json + "Expect: 100-continue\r\nContent-Length: " + len + "\r\n", body), 200),
                new Raw("Content-Encoding gzip", request(C, json + "Content-Encoding: gzip\r\nContent-Length: " + len + "\r\n", body), 415),
                new Raw("no body", request(C, json + "Content-Length: 0\r\n", ""), 400),
                new Raw("a line break in the path", request(C + "%0d%0aFORGED%20200", json + "Content-Length: " + len + "\r\n", body), 400),
                new Raw("a line break in the path of a known route", request(C.replace("/v1/", "/v1/%0a"), json + "Content-Length: " + len + "\r\n", body), 400),
                new Raw("a Unicode line separator in the path", request("/v1/%E2%80%A8%C2%85x", json + "Content-Length: " + len + "\r\n", body), 404));
        List<String> wrong = new ArrayList<>();
        for (Raw r : cases) {
            String why = checkRaw(r.what(), raw(srv, r.request(), 15, r.end()), r.status());
            if (why != null) wrong.add(why);
        }
        // a body that stops short of its Content-Length: answered or closed by the idle timeout, while others are answered meanwhile
        long t0 = System.nanoTime();
        CompletableFuture<String> shortBody = CompletableFuture.supplyAsync(() -> {
            try {
                return raw(srv, request(C, json + "Content-Length: " + (len + 50) + "\r\n", body), IDLE_SECONDS + 10);
            } catch (Exception e) {
                return "HUNG: " + e;
            }
        });
        Thread.sleep(200);
        HttpResponse<String> other = TestServers.post(srv.base() + C, body, null);
        if (other.statusCode() != 200) wrong.add("a request beside the short body: " + other.statusCode() + " " + other.body());
        String answer = shortBody.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (answer.startsWith("HUNG") || seconds > IDLE_SECONDS + 5) wrong.add("a short body: after " + seconds + " s: " + answer);
        else if (!answer.isEmpty()) {
            String why = checkRaw("a short body", answer, 408);
            if (why != null) wrong.add(why);
        }
        wrong.addAll(brokenLogLines());
        assertThat(wrong).isEmpty();
        // and the server goes on answering, on a new connection
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> ok = fresh.send(HttpRequest.newBuilder(URI.create(srv.base() + C)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }

    /** The log lines that are not one line: each request's line stays one, whatever the request held. */
    static List<String> brokenLogLines() {
        List<String> broken = new ArrayList<>();
        for (TestServers.Running s : List.of(srv, clf)) {
            for (String line : s.log()) if (line.matches("(?s).*[\\n\\r\\u0085\\u2028\\u2029].*")) broken.add("a log line of several: " + line);
        }
        return broken;
    }
}
