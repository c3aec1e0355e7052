package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.cli.Main;
import dev.myllm.finetune.Conversation;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.generate.GenerationConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Chapter 7 from Java: a tuned model answers instructions in its saved prompt format, as {@code myllm chat} does. */
class MyllmInstructTest {

    /** What greedy decoding of the prompt (in the format, with its response prefix) gives, stripped: the answer by hand. */
    private static String byHand(Myllm llm, PromptFormat f, InstructionExample e, int maxNewTokens) {
        return llm.generate(f.prompt(e) + f.responsePrefix(), GenerationConfig.greedy(maxNewTokens)).text().strip();
    }

    private static InstructionExample example(String instruction, String input, List<InstructionExample.Exchange> history) {
        return new InstructionExample(instruction, input, "", null, null, history);
    }

    @Test
    void aSavedFormatIsLoadedAndAnswersAsChatDoes(@TempDir Path dir) {
        Path model = dir.resolve("model");
        MyllmTest.tiny().save(model);
        SavedFormat.write(model, PromptFormat.PHI3);
        Myllm llm = Myllm.load(model);
        assertThat(llm.promptFormat()).contains(PromptFormat.PHI3);

        List<String> pieces = new ArrayList<>();
        String answer = llm.respond("Name a colour.", "", 8, pieces::add);
        assertThat(answer).isNotEmpty().isEqualTo(byHand(llm, PromptFormat.PHI3, example("Name a colour.", "", List.of()), 8));
        assertThat(String.join("", pieces).strip()).isEqualTo(answer);
        assertThat(pieces.getFirst()).doesNotStartWith(" ").doesNotStartWith("\n");

        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("chat", "--model", model.toString(), "--instruction", "Name a colour.", "--max-new-tokens", "8")).as(err.toString()).isZero();
        assertThat(out.toString().strip()).isEqualTo(answer);
    }

    @Test
    void withoutASavedFormatItIsTheBooksAlpacaOrTheOneGiven() {
        Myllm llm = MyllmTest.tiny();
        assertThat(llm.promptFormat()).isEmpty();
        InstructionExample e = example("Rewrite the sentence.", "The cat sat.", List.of());
        assertThat(llm.respond("Rewrite the sentence.", "The cat sat.", 6, null)).isEqualTo(byHand(llm, PromptFormat.ALPACA, e, 6));
        Myllm phi3 = llm.withPromptFormat(PromptFormat.PHI3);
        assertThat(phi3.promptFormat()).contains(PromptFormat.PHI3);
        assertThat(phi3.model()).isSameAs(llm.model());
        assertThat(phi3.respond("Rewrite the sentence.", "The cat sat.", 6, null)).isEqualTo(byHand(llm, PromptFormat.PHI3, e, 6));
        assertThat(llm.respond("Rewrite the sentence.")).isEqualTo(byHand(llm, PromptFormat.ALPACA, example("Rewrite the sentence.", "", List.of()), 256));
    }

    @Test
    void aConversationInAFormatWithTurnsKeepsItsExchanges() {
        Myllm llm = MyllmTest.tiny().withPromptFormat(PromptFormat.PHI3);
        Conversation chat = llm.conversation(5);
        String first = chat.say("Hello.", null);
        String second = chat.say("And then?", null);
        InstructionExample.Exchange one = new InstructionExample.Exchange("Hello.", first);
        assertThat(second).isEqualTo(byHand(llm, PromptFormat.PHI3, example("And then?", "", List.of(one)), 5));
        assertThat(chat.history()).containsExactly(one, new InstructionExample.Exchange("And then?", second));
        chat.reset();
        assertThat(chat.history()).isEmpty();
        assertThat(chat.say("And then?", null)).isEqualTo(byHand(llm, PromptFormat.PHI3, example("And then?", "", List.of()), 5));

        // Alpaca has no turns: each message alone
        Conversation alpaca = MyllmTest.tiny().conversation(5);
        alpaca.say("Hello.", null);
        assertThat(alpaca.history()).isEmpty();
    }

    @Test
    void aLongConversationDropsItsOldestExchangesFirst() {
        Myllm llm = MyllmTest.tiny().withPromptFormat(PromptFormat.PHI3);
        int ctx = llm.model().config().contextLength();
        Conversation chat = llm.conversation(4);
        // each message a third of the context: the third no longer fits beside both earlier exchanges
        String third = "word ".repeat(ctx / 3 - 10);
        chat.say("a " + third, null);
        chat.say("b " + third, null);
        chat.say("c " + third, null);
        assertThat(chat.history()).extracting(InstructionExample.Exchange::user).doesNotContain(("a " + third).strip());
        assertThat(chat.history().getLast().user()).isEqualTo(("c " + third).strip());
    }

    @Test
    void badInputIsOneLine() {
        Myllm llm = MyllmTest.tiny();
        assertThatThrownBy(() -> llm.respond(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the instruction is empty: give the task to answer");
        assertThatThrownBy(() -> llm.respond("Hi", "", 0, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxNewTokens must be at least 1, got 0");
        assertThatThrownBy(() -> llm.respond(null)).isInstanceOf(NullPointerException.class).hasMessage("instruction must not be null");
        assertThatThrownBy(() -> llm.withPromptFormat(null)).isInstanceOf(NullPointerException.class).hasMessage("format must not be null");
        String tooLong = "word ".repeat(llm.model().config().contextLength());
        assertThatThrownBy(() -> llm.conversation(4).say(tooLong, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the message is too long for the model's context; try a shorter one");
        assertThatThrownBy(() -> llm.respond(tooLong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the prompt is ").hasMessageContaining("tokens long but the model's context is");
    }
}
