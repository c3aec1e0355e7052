package dev.myllm.finetune;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A conversation with an instruction-tuned model, as {@code myllm chat} holds it: each message is
 * answered in the model's prompt format; a format with turns (Phi-3) sees the earlier exchanges,
 * the oldest dropped first when they no longer fit the context; Alpaca sees each message alone.
 */
public final class Conversation {
    private final Responder responder;
    private final List<InstructionExample.Exchange> history = new ArrayList<>();

    /**
     * A conversation answered by {@code responder} (the library gives one from {@code Myllm.conversation}).
     *
     * @param responder the model, its prompt format and the answers' length
     * @throws NullPointerException when {@code responder} is null
     */
    public Conversation(Responder responder) {
        this.responder = Objects.requireNonNull(responder, "responder must not be null");
    }

    /**
     * Answers {@code message}, streaming the answer's pieces to {@code onText} (may be null), and
     * keeps the exchange for the next message when the format has turns.
     *
     * @param message the user's message
     * @param onText  receives the answer piece by piece (may be null)
     * @return the answer, stripped
     * @throws NullPointerException     when {@code message} is null
     * @throws IllegalArgumentException when the message is blank, or too long for the context even alone
     */
    public String say(String message, Consumer<String> onText) {
        String text = Objects.requireNonNull(message, "message must not be null").strip();
        if (text.isEmpty()) throw new IllegalArgumentException("the message is empty");
        PromptFormat f = responder.format();
        InstructionExample e = example(text, f.hasTurns() ? history : List.of());
        while (!responder.fits(e) && !e.history().isEmpty()) e = example(text, e.history().subList(1, e.history().size()));
        if (!responder.fits(e)) throw new IllegalArgumentException("the message is too long for the model's context; try a shorter one");
        String answer = responder.stream(e, onText == null ? piece -> { } : onText);
        if (f.hasTurns()) {
            List<InstructionExample.Exchange> kept = new ArrayList<>(e.history());
            kept.add(new InstructionExample.Exchange(text, answer));
            history.clear();
            history.addAll(kept);
        }
        return answer;
    }

    /** Forgets the earlier exchanges. */
    public void reset() {
        history.clear();
    }

    /** The exchanges the next message's prompt would show (none for a format without turns). */
    public List<InstructionExample.Exchange> history() {
        return List.copyOf(history);
    }

    private static InstructionExample example(String text, List<InstructionExample.Exchange> history) {
        return new InstructionExample(text, "", "", null, null, history);
    }
}
