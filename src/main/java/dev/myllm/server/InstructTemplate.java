package dev.myllm.server;

import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * Chat through the prompt format an instruction-tuned model was trained with (Alpaca or Phi-3,
 * saved beside its weights): the last user message is the instruction (after any system
 * message), earlier user/assistant pairs are the history when the format has turns, and the
 * answer starts after the format's response prefix.
 */
record InstructTemplate(PromptFormat format) implements ChatTemplate {
    @Override
    public String name() {
        return format.id();
    }

    @Override
    public String render(List<Message> messages) {
        StringBuilder system = new StringBuilder();
        List<InstructionExample.Exchange> history = new ArrayList<>();
        String pendingUser = null, last = "";
        for (Message m : messages) {
            switch (m.role()) {
                case "system", "developer" -> system.append(m.content()).append("\n\n");
                case "assistant" -> {
                    if (pendingUser != null) history.add(new InstructionExample.Exchange(pendingUser, m.content()));
                    pendingUser = null;
                }
                default -> {
                    if (pendingUser != null) history.add(new InstructionExample.Exchange(pendingUser, ""));
                    pendingUser = m.content();
                }
            }
        }
        if (pendingUser != null) last = pendingUser;
        InstructionExample e = new InstructionExample(system + last, "", "", null, null,
                format.hasTurns() ? history : List.of());
        return format.prompt(e) + format.responsePrefix();
    }

    @Override
    public List<String> stops() {
        return format == PromptFormat.PHI3 ? List.of("<|user|>") : List.of("### Instruction:");
    }
}
