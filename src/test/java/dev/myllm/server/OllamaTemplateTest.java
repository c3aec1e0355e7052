package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.finetune.PromptFormat;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Ollama template that {@code export --modelfile} writes renders, in Go's {@code text/template}
 * as Ollama runs a template over {@code .Messages}, exactly the prompt our server renders for the
 * messages Ollama hands the template (Ollama joins consecutive messages of one role first). The
 * renderings come from {@code tools/ollama_template_reference.go} (fixture {@code
 * server/chat_template_ollama.json}), made from the very templates the export writes: a changed
 * template fails here until the fixture is made again.
 */
class OllamaTemplateTest {
    private static final String FIXTURE = "/server/chat_template_ollama.json";

    @Test
    void theTemplateRendersWhatTheServerRendersForOllamasMessages() throws Exception {
        JsonNode fixture = ChatTemplateFixtures.load(FIXTURE, ChatTemplate::ollama, "ollama-templates.json",
                dump -> "go run tools/ollama_template_reference.go " + dump + " > src/test/resources" + FIXTURE);
        int checked = 0, joined = 0;
        for (JsonNode c : fixture.get("cases")) {
            PromptFormat f = PromptFormat.valueOf(c.get("format").asText());
            List<ChatTemplate.Message> sent = messages(c.get("messages")), collated = messages(c.get("collated"));
            assertThat(c.get("text").asText()).as("%s, %s", f, sent).isEqualTo(ChatTemplate.of(f).render(collated));
            if (!collated.equals(sent)) {
                joined++;
                // two system messages in a row: joined as the server joins them, the same prompt;
                // two user messages in a row: one turn for Ollama, an unanswered turn and the next for
                // the server (Phi-3; Alpaca keeps only the last instruction either way)
                boolean users = collated.contains(new ChatTemplate.Message("user", "a\n\nb"));
                assertThat(users || collated.contains(new ChatTemplate.Message("system", "One.\n\nTwo."))).as("%s", collated).isTrue();
                assertThat(ChatTemplate.of(f).render(sent).equals(ChatTemplate.of(f).render(collated))).as("%s", sent).isEqualTo(!(users && f.hasTurns()));
            }
            checked++;
        }
        assertThat(checked).isEqualTo(PromptFormat.values().length * 7);
        assertThat(joined).isEqualTo(PromptFormat.values().length * 2);
    }

    @Test
    void theTemplatesAreTheFormatsWithoutTheirMarkersInLiteralText() {
        // spelled out, so the comparison above is not of two equal mistakes
        String alpaca = ChatTemplate.ollama(PromptFormat.ALPACA);
        assertThat(alpaca).startsWith("{{- $system := \"\" }}").contains("{{ range .Messages }}".replace("{{ ", "{{- "))
                .endsWith("{{- \"\" }}{{ \"Below is an instruction that describes a task. Write a response that appropriately completes the request."
                        + "\\n\\n### Instruction:\\n\" }}{{ $system }}{{ if $open }}{{ $pending }}{{ end }}{{ \"\\n\\n### Response:\\n\" }}")
                .doesNotContain("\"\"\"");
        assertThat(ChatTemplate.ollama(PromptFormat.PHI3)).endsWith(
                "{{- $history }}{{ \"<|user|>\\n\" }}{{ $system }}{{ if $open }}{{ $pending }}{{ end }}{{ \"\\n<|assistant|>:\\n\" }}");
    }

    private static List<ChatTemplate.Message> messages(JsonNode list) {
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (JsonNode m : list) out.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
        return out;
    }
}
