package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.finetune.PromptFormat;
import org.junit.jupiter.api.Test;

/**
 * What llama.cpp itself makes of the GGUF export's {@code tokenizer.chat_template}: its Jinja path
 * (llama-cli's and llama-server's default) renders exactly the prompt our server renders, and its
 * non-Jinja path, which guesses one of its built-in formats from the template's text, finds none and
 * refuses with "try using --jinja" rather than sending a prompt in another model's format. The
 * renderings come from {@code tools/llama_chat_reference.cpp} built against the llama.cpp of
 * node-llama-cpp 3.21.1 (fixture {@code server/chat_template_llama_cpp.json}), made from the very
 * templates the export writes: a changed template fails here until the fixture is made again.
 */
class LlamaCppChatTemplateTest {
    private static final String FIXTURE = "/server/chat_template_llama_cpp.json";

    @Test
    void llamaCppRendersWhatTheServerRendersAndGuessesNoOtherFormat() throws Exception {
        JsonNode fixture = ChatTemplateFixtures.load(FIXTURE, dump -> "rebuild the fixture with tools/llama_chat_reference.cpp (see its"
                + " header) from " + dump + " into src/test/resources" + FIXTURE);
        int checked = 0;
        for (JsonNode c : fixture.get("cases")) {
            ChatTemplateFixtures.Case k = ChatTemplateFixtures.expected(c);
            assertThat(c.get("jinja").has("error")).as("llama.cpp's Jinja path failed: %s", c.get("jinja")).isFalse();
            assertThat(c.get("jinja").get("text").asText()).as("%s, %s, generation prompt %s", k.format(), k.chat(), c.get("add_generation_prompt"))
                    .isEqualTo(k.want());
            assertThat(c.get("legacy").has("text")).as("llama.cpp's non-Jinja path took a built-in format: %s", c.get("legacy")).isFalse();
            assertThat(c.get("legacy").get("error").asText()).contains("try using --jinja");
            checked++;
        }
        assertThat(checked).isEqualTo(PromptFormat.values().length * 6 * 2);
        for (PromptFormat f : PromptFormat.values()) {
            assertThat(fixture.get("llama_chat_apply_template").get(f.name()).asInt()).as("built-in format found for %s", f).isEqualTo(-1);
        }
        // and a rendering spelled out, so the comparison is not of two equal mistakes
        assertThat(fixture.get("cases").get(2).get("jinja").get("text").asText()).isEqualTo("Below is an instruction that describes a task."
                + " Write a response that appropriately completes the request.\n\n### Instruction:\nYou are terse.\n\nName a colour.\nOnly one."
                + "\n\n### Response:\n");
    }
}
