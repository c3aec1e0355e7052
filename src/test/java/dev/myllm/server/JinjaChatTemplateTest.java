package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.finetune.PromptFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The GGUF export's {@code tokenizer.chat_template} renders, in Python's jinja2 (plain and with
 * Hugging Face's trim_blocks/lstrip_blocks), exactly the prompt our server renders.
 */
class JinjaChatTemplateTest {
    private static final String PY = """
            import json, sys, jinja2
            cases = json.load(sys.stdin)
            out = []
            for c in cases:
                for env in (jinja2.Environment(), jinja2.Environment(trim_blocks=True, lstrip_blocks=True)):
                    t = env.from_string(c['template'])
                    out.append(t.render(messages=c['messages'], add_generation_prompt=True))
                    out.append(t.render(messages=c['messages'], add_generation_prompt=False))
            json.dump(out, sys.stdout)
            """;

    static List<List<ChatTemplate.Message>> chats() {
        var u = (java.util.function.Function<String, ChatTemplate.Message>) s -> new ChatTemplate.Message("user", s);
        var a = (java.util.function.Function<String, ChatTemplate.Message>) s -> new ChatTemplate.Message("assistant", s);
        var sys = new ChatTemplate.Message("system", "You are terse.");
        return List.of(
                List.of(u.apply("Who is Emma?")),
                List.of(sys, u.apply("Name a colour.\nOnly one.")),
                List.of(u.apply("Hi"), a.apply("Hello!"), u.apply("What's 2+2? {{ not code }} 'quoted' \\ back")),
                List.of(sys, u.apply("a"), u.apply("b"), a.apply("B"), new ChatTemplate.Message("developer", "Be kind."), u.apply("c")),
                List.of(u.apply("x"), a.apply("y")),
                List.of(new ChatTemplate.Message("tool", "42"), u.apply("and?")));
    }

    @Test
    void theTemplateRendersWhatTheServerRenders() throws Exception {
        Process probe;
        try {
            probe = new ProcessBuilder("python3", "-c", "import jinja2").start();
        } catch (java.io.IOException e) {
            probe = null;
        }
        Assumptions.assumeTrue(probe != null && probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0, "python3 with jinja2 is not installed");

        ArrayNode cases = Answers.JSON.createArrayNode();
        List<String> want = new ArrayList<>();
        for (PromptFormat f : PromptFormat.values()) {
            ChatTemplate ours = ChatTemplate.of(f);
            String prefix = f.responsePrefix();
            for (List<ChatTemplate.Message> chat : chats()) {
                ObjectNode c = cases.addObject().put("template", ChatTemplate.jinja(f));
                ArrayNode ms = c.putArray("messages");
                for (ChatTemplate.Message m : chat) ms.addObject().put("role", m.role()).put("content", m.content());
                String rendered = ours.render(chat);
                assertThat(rendered).endsWith(prefix);
                for (int env = 0; env < 2; env++) {
                    want.add(rendered);
                    want.add(rendered.substring(0, rendered.length() - prefix.length())); // no generation prompt: no response prefix
                }
            }
        }
        Process p = new ProcessBuilder("python3", "-c", PY).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().write(Answers.JSON.writeValueAsBytes(cases));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        List<String> got = List.of(Answers.JSON.readValue(out, String[].class));
        assertThat(got).hasSize(want.size());
        for (int i = 0; i < want.size(); i++) assertThat(got.get(i)).as("case %d", i).isEqualTo(want.get(i));
        // and a fixed case spelled out, so the comparison is not of two equal mistakes
        assertThat(ChatTemplate.of(PromptFormat.PHI3).render(List.of(new ChatTemplate.Message("user", "Hi"),
                new ChatTemplate.Message("assistant", "Hello!"), new ChatTemplate.Message("user", "Bye"))))
                .isEqualTo("<|user|>\nHi\n<|assistant|>:\nHello!\n<|user|>\nBye\n<|assistant|>:\n");
        assertThat(got.get(chats().size() * 4 + 8)).isEqualTo("<|user|>\nHi\n<|assistant|>:\nHello!\n<|user|>\nWhat's 2+2? {{ not code }} 'quoted' \\ back\n<|assistant|>:\n");
    }
}
