package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Responder;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code chat} driven through standard input and {@code eval instruct} against a fake judge. */
class InstructCliTest {
    static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    /** What the tiny preset answers, computed without the command line. */
    static String expectedAnswer(String instruction, int maxNew) {
        GPTModel m = new GPTModel(GPTConfig.preset("gpt2-tiny"), 123); // the default --seed
        Responder r = new Responder(m, GPT2, dev.myllm.generate.TokenDecoder.of(GPT2), PromptFormat.ALPACA, maxNew);
        return r.stream(new InstructionExample(instruction, "", "", null, null, List.of()), s -> { });
    }

    static CliRun withStdin(String input, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return CliRun.run(args);
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void chatAnswersFromStandardInputResetsAndExits() {
        String a = expectedAnswer("Name a colour.", 6);
        CliRun r = withStdin("Name a colour.\n/reset\n/rest\n\n/exit\nnever read\n", "chat", "--preset", "gpt2-tiny", "--max-new-tokens", "6");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Chatting with preset gpt2-tiny (alpaca format)");
        // a mistyped command is said to be one, not sent to the model
        assertThat(r.out()).contains("> " + a.strip() + "\n> (conversation forgotten)\n> > > \n");
        assertThat(r.err()).isEqualTo("myllm: unknown command /rest: /reset forgets, /exit leaves\n");
        assertThat(r.out()).doesNotContain("never read");
        // the one-shot form prints the same answer and nothing else
        CliRun once = CliRun.run("chat", "--preset", "gpt2-tiny", "--max-new-tokens", "6", "--instruction", "Name a colour.");
        assertThat(once.code()).isZero();
        assertThat(once.out()).isEqualTo(a.strip() + "\n");
        CliRun empty = CliRun.run("chat", "--preset", "gpt2-tiny", "--instruction", " ");
        assertThat(empty.code()).isEqualTo(2);
        assertThat(empty.err()).isEqualTo("myllm: --instruction is empty: give the task to answer\n");
    }

    @Test
    void aPromptLongerThanTheContextIsOneLine() {
        CliRun r = CliRun.run("chat", "--preset", "gpt2-tiny", "--instruction", "word ".repeat(200));
        assertThat(r.code()).isNotZero();
        assertThat(r.err().strip()).startsWith("myllm: --instruction: the prompt is ").contains("but the model's context is 128 tokens")
                .doesNotContain("\n");
        // in a format with turns it also said "or /reset the conversation", of a one-shot answer that has none
        CliRun phi3 = CliRun.run("chat", "--preset", "gpt2-tiny", "--format", "phi3", "--instruction", "word ".repeat(200));
        assertThat(phi3.code()).isEqualTo(2);
        assertThat(phi3.err().strip()).startsWith("myllm: --instruction: the prompt is ").endsWith("tokens: shorten the instruction")
                .doesNotContain("/reset");
        CliRun chat = withStdin("word ".repeat(200) + "\n/exit\n", "chat", "--preset", "gpt2-tiny");
        assertThat(chat.code()).isZero();
        assertThat(chat.err()).contains("too long for the model's context");
        CliRun input = CliRun.run("chat", "--preset", "gpt2-tiny", "--input", "x");
        assertThat(input.err()).contains("--input needs --instruction");
    }

    @Test
    void evalWritesResponsesAndAsksTheJudge(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("d.jsonl"), "{\"instruction\": \"Name a colour.\", \"output\": \"Red.\"}\n"
                + "{\"instruction\": \"Say yes.\", \"input\": \"please\", \"output\": \"Yes.\"}\n");
        AtomicInteger calls = new AtomicInteger();
        HttpServer judge = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        judge.createContext("/api/chat", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] b = (calls.incrementAndGet() == 1 ? "{\"message\":{\"content\":\"85\"},\"done\":true}\n"
                    : "{\"message\":{\"content\":\"I would say 70\"},\"done\":true}\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        });
        judge.start();
        try {
            Path out = dir.resolve("responses.json");
            CliRun r = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", data.toString(), "--split", "all",
                    "--max-new-tokens", "4", "--out", out.toString(), "--exact-match",
                    "--judge-url", "http://127.0.0.1:" + judge.getAddress().getPort(), "--judge-model", "fake");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode json = new ObjectMapper().readTree(out.toFile());
            assertThat(json.size()).isEqualTo(2);
            assertThat(json.get(1).get("input").asText()).isEqualTo("please");
            assertThat(json.get(0).get("model_response").isTextual()).isTrue();
            assertThat(r.out()).contains("exact match: 0 of 2 (0.0%)").contains("Number of scores: 1 of 2").contains("Average score: 85.00");
            assertThat(r.err()).contains("Could not convert score: I would say 70");
        } finally {
            judge.stop(0);
        }
        CliRun down = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", data.toString(), "--split", "all",
                "--max-new-tokens", "2", "--judge-url", "http://127.0.0.1:1");
        assertThat(down.code()).isNotZero();
        assertThat(down.err()).contains("myllm: --judge-url: cannot reach the judge at http://127.0.0.1:1/api/chat");
        CliRun bad = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", Files.writeString(dir.resolve("b.json"),
                "[{\"output\": \"x\"}]").toString());
        assertThat(bad.err().strip()).isEqualTo("myllm: --data: " + dir.resolve("b.json") + ": record 0 has no \"instruction\"");
    }

    @Test
    void scoringRefusesAnEntryWithoutAReference(@TempDir Path dir) throws Exception {
        // an empty reference is matched by an empty response: a model tuned on empty outputs, which answers EOS at once, scored 100%
        Path data = Files.writeString(dir.resolve("e.jsonl"), "{\"instruction\": \"Name a colour.\", \"output\": \"Red.\"}\n"
                + "{\"instruction\": \"Say yes.\", \"output\": \" \"}\n");
        CliRun r = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", data.toString(), "--split", "all",
                "--max-new-tokens", "2", "--exact-match");
        assertThat(r.code()).as(r.out()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("myllm: --data " + data + ": entry 1 of --split all has an empty \"output\": "
                + "no reference to score its response against (--exact-match, --judge-url)\n");
        assertThat(r.out()).isEmpty();
        // without scoring, the responses are still written
        CliRun written = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", data.toString(), "--split", "all",
                "--max-new-tokens", "2", "--out", dir.resolve("r.json").toString());
        assertThat(written.code()).as(written.err()).isZero();
        assertThat(written.out()).isEqualTo("wrote 2 responses to " + dir.resolve("r.json") + "\n");
    }

    @Test
    void evalSplitListsEveryValueAndABadOneIsRefusedBeforeTheData(@TempDir Path dir) {
        CliRun help = CliRun.run("eval", "instruct", "--help");
        assertThat(help.out().replaceAll("\\s+", " ")).contains("--split=train|val|test|all")
                .contains("to answer: train, val (or validation), test, or all (every record), default test.");
        // the data was read (a file, or a download of the book's) before the split was looked at
        Path missing = dir.resolve("missing.json");
        CliRun bad = CliRun.run("eval", "instruct", "--preset", "gpt2-tiny", "--data", missing.toString(), "--split", "dev");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("myllm: --split: unknown split 'dev' (known: train, val or validation, test, all)\n");
    }
}
