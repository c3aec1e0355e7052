package dev.myllm.server;

import java.util.List;

/** How a chat's messages become the prompt a model continues, and where its answer ends. */
public interface ChatTemplate {
    /** One chat message: {@code role} is system, user or assistant. */
    record Message(String role, String content) {
    }

    /** The template's name (shown in {@code /v1/models}). */
    String name();

    /** The prompt for the assistant's next turn. */
    String render(List<Message> messages);

    /** Text that ends the assistant's turn (besides the end-of-text token). */
    List<String> stops();

    /** The prompt format an instruction-tuned model was saved with (alpaca, phi3). */
    static ChatTemplate of(dev.myllm.finetune.PromptFormat format) {
        return new InstructTemplate(format);
    }

    /**
     * A Jinja chat template ({@code tokenizer.chat_template}, over {@code messages} and
     * {@code add_generation_prompt}) that renders what {@link #of of(format)} renders, for
     * llama.cpp's {@code --jinja}; only string contents.
     */
    static String jinja(dev.myllm.finetune.PromptFormat format) {
        return InstructTemplate.jinja(format);
    }

    /**
     * An Ollama template (Go's {@code text/template} over {@code .Messages}, a Modelfile's {@code
     * TEMPLATE}) that renders what {@link #of of(format)} renders for the messages Ollama hands it.
     */
    static String ollama(dev.myllm.finetune.PromptFormat format) {
        return InstructTemplate.ollama(format);
    }

    /**
     * The format for models that carry none: a plain transcript ({@code User: ...}, {@code
     * Assistant: ...}, a system message first as it is), which any base model can continue.
     */
    static ChatTemplate transcript() {
        return new ChatTemplate() {
            @Override
            public String name() {
                return "transcript";
            }

            @Override
            public String render(List<Message> messages) {
                StringBuilder sb = new StringBuilder();
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system", "developer" -> sb.append(m.content()).append("\n\n");
                        case "assistant" -> sb.append("Assistant: ").append(m.content()).append('\n');
                        default -> sb.append("User: ").append(m.content()).append('\n');
                    }
                }
                return sb.append("Assistant:").toString();
            }

            @Override
            public List<String> stops() {
                return List.of("\nUser:");
            }
        };
    }
}
