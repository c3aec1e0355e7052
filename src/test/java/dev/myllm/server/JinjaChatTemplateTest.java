package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.finetune.PromptFormat;
import java.util.List;
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
        JsonNode fixture = ChatTemplateFixtures.load(FIXTURE,
                dump -> "python3 tools/chat_template_reference.py " + dump + " > src/test/resources" + FIXTURE);
        int checked = 0;
        for (JsonNode c : fixture.get("cases")) {
            ChatTemplateFixtures.Case k = ChatTemplateFixtures.expected(c);
            assertThat(c.get("text").asText()).as("%s, %s, %s", k.format(), c.get("env").asText(), k.chat()).isEqualTo(k.want());
            checked++;
        }
        assertThat(checked).isEqualTo(PromptFormat.values().length * 2 * 6 * 2);
        // and a case spelled out, so the comparison is not of two equal mistakes
        assertThat(ChatTemplate.of(PromptFormat.PHI3).render(List.of(new ChatTemplate.Message("user", "Hi"),
                new ChatTemplate.Message("assistant", "Hello!"), new ChatTemplate.Message("user", "What's 2+2? {{ not code }} 'quoted' \\ back"))))
                .isEqualTo("<|user|>\nHi\n<|assistant|>:\nHello!\n<|user|>\nWhat's 2+2? {{ not code }} 'quoted' \\ back\n<|assistant|>:\n");
    }
}
