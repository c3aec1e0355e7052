package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.finetune.PromptFormat;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The GGUF export's {@code tokenizer.chat_template} renders, in Python's jinja2 (plain and with
 * Hugging Face's trim_blocks/lstrip_blocks, with and without the generation prompt), exactly the
 * prompt our server renders. The renderings come from {@code tools/chat_template_reference.py}
 * (fixture {@code server/chat_template_jinja.json}), made from the very templates the export
 * writes: a changed template fails here until the fixture is made again.
 */
class JinjaChatTemplateTest {
    private static final String FIXTURE = "/server/chat_template_jinja.json";

    @Test
    void theTemplateRendersWhatTheServerRenders() throws Exception {
        JsonNode fixture;
        try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream(FIXTURE)) {
            fixture = in == null ? null : Answers.JSON.readTree(in);
        }
        Map<String, String> ours = new LinkedHashMap<>();
        for (PromptFormat f : PromptFormat.values()) ours.put(f.name(), ChatTemplate.jinja(f));
        if (fixture == null || !Answers.JSON.convertValue(fixture.get("templates"), Map.class).equals(ours)) {
            Path dump = Path.of("target", "chat-templates.json");
            Files.createDirectories(dump.getParent());
            Files.writeString(dump, Answers.JSON.writeValueAsString(ours));
            throw new AssertionError("the export's chat templates changed: python3 tools/chat_template_reference.py " + dump
                    + " > src/test/resources" + FIXTURE);
        }
        int checked = 0;
        for (JsonNode c : fixture.get("cases")) {
            PromptFormat f = PromptFormat.valueOf(c.get("format").asText());
            List<ChatTemplate.Message> chat = new ArrayList<>();
            for (JsonNode m : c.get("messages")) chat.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
            String rendered = ChatTemplate.of(f).render(chat), prefix = f.responsePrefix();
            assertThat(rendered).endsWith(prefix);
            // without the generation prompt: no response prefix
            String want = c.get("add_generation_prompt").asBoolean() ? rendered : rendered.substring(0, rendered.length() - prefix.length());
            assertThat(c.get("text").asText()).as("%s, %s, %s", f, c.get("env").asText(), chat).isEqualTo(want);
            checked++;
        }
        assertThat(checked).isEqualTo(PromptFormat.values().length * 2 * 6 * 2);
        // and a case spelled out, so the comparison is not of two equal mistakes
        assertThat(ChatTemplate.of(PromptFormat.PHI3).render(List.of(new ChatTemplate.Message("user", "Hi"),
                new ChatTemplate.Message("assistant", "Hello!"), new ChatTemplate.Message("user", "What's 2+2? {{ not code }} 'quoted' \\ back"))))
                .isEqualTo("<|user|>\nHi\n<|assistant|>:\nHello!\n<|user|>\nWhat's 2+2? {{ not code }} 'quoted' \\ back\n<|assistant|>:\n");
    }
}
