package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.finetune.PromptFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The chat-template fixtures that reference tools under {@code tools/} write (jinja2, llama.cpp): each
 * holds the templates it was made from, so a fixture older than the export's templates fails with how
 * to make it again, and each case is a chat whose expected text is what our server renders.
 */
final class ChatTemplateFixtures {
    private ChatTemplateFixtures() {
    }

    /** One case's chat, and the server's rendering of it with or without the response prefix, as the case asks. */
    record Case(PromptFormat format, List<ChatTemplate.Message> chat, String want) {
    }

    /**
     * The fixture at {@code resource}, after checking it was made from the export's templates; if not,
     * the export's Jinja templates are written to {@code target/chat-templates.json} and the error is {@code remake} of that path.
     */
    static JsonNode load(String resource, Function<Path, String> remake) throws IOException {
        return load(resource, ChatTemplate::jinja, "chat-templates.json", remake);
    }

    /** {@link #load(String, Function)} of a fixture made from other templates ({@code template} of each format), dumped to {@code target/dumpName}. */
    static JsonNode load(String resource, Function<PromptFormat, String> template, String dumpName, Function<Path, String> remake) throws IOException {
        JsonNode fixture;
        try (InputStream in = ChatTemplateFixtures.class.getResourceAsStream(resource)) {
            fixture = in == null ? null : Answers.JSON.readTree(in);
        }
        Map<String, String> ours = new LinkedHashMap<>();
        for (PromptFormat f : PromptFormat.values()) ours.put(f.name(), template.apply(f));
        if (fixture == null || !Answers.JSON.convertValue(fixture.get("templates"), Map.class).equals(ours)) {
            Path dump = Path.of("target", dumpName);
            Files.createDirectories(dump.getParent());
            Files.writeString(dump, Answers.JSON.writeValueAsString(ours));
            throw new AssertionError("the export's chat templates changed: " + remake.apply(dump));
        }
        return fixture;
    }

    /** What the server renders for the case {@code c} ({@code format}, {@code messages}, {@code add_generation_prompt}). */
    static Case expected(JsonNode c) {
        PromptFormat f = PromptFormat.valueOf(c.get("format").asText());
        List<ChatTemplate.Message> chat = new ArrayList<>();
        for (JsonNode m : c.get("messages")) chat.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
        String rendered = ChatTemplate.of(f).render(chat), prefix = f.responsePrefix();
        if (!rendered.endsWith(prefix)) throw new AssertionError(f + ": the rendering does not end with the response prefix: " + rendered);
        // without the generation prompt: no response prefix
        String want = c.get("add_generation_prompt").asBoolean() ? rendered : rendered.substring(0, rendered.length() - prefix.length());
        return new Case(f, chat, want);
    }
}
