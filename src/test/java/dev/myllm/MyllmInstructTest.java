package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.finetune.Conversation;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.BpeTrainer;
import dev.myllm.tokenizer.TrainedBpe;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chapter 7 from Java: instruction tuning as {@code myllm finetune instruct}, and answers in the saved prompt format as {@code myllm chat}. */
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

        assertThat(MyllmTest.cli("chat", "--model", model.toString(), "--instruction", "Name a colour.", "--max-new-tokens", "8").strip()).isEqualTo(answer);
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
    @Test
    void finetunesAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        // a small model with its own vocabulary, and 40 records in a file (as FinetuneInstructCliTest's)
        Path base = dir.resolve("base");
        List<InstructionExample> records = SyntheticTasks.generate(40, 1);
        List<String> texts = new ArrayList<>();
        for (InstructionExample e : records) texts.add(PromptFormat.ALPACA.fullText(e, e.output()));
        TrainedBpe tok = new BpeTrainer().train(texts, 400, List.of("<|endoftext|>"), null);
        ModelDirectory.save(new GPTModel(new GPTConfig(tok.vocabSize(), 128, 32, 2, 2, 0f, true, true, 1e-5f), 3), base);
        tok.save(base.resolve(GptModelStore.TOKENIZER_FILE));
        Path data = dir.resolve("records.json");
        List<Map<String, String>> json = new ArrayList<>();
        for (InstructionExample e : records) json.add(Map.of("instruction", e.instruction(), "input", e.input(), "output", e.output()));
        new ObjectMapper().writeValue(data.toFile(), json);

        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetuneInstructions(InstructOptions.of(base, data.toString(), lib).withFormat(PromptFormat.PHI3)
                .withTraining(2, 8, 1e-3).withEvaluation(3, 1).withMaskedInstruction(true), new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        steps.add(r);
                    }
                });
        MyllmTest.cli("finetune", "instruct", "--model", base.toString(), "--data", data.toString(), "--format", "phi3",
                "--lr", "1e-3", "--eval-every", "3", "--eval-batches", "1", "--mask-instruction", "--out", cli.toString());

        // the same steps, losses and weights, the format saved beside them
        List<String> libLog = Files.readAllLines(lib.resolve("metrics.jsonl")), cliLog = Files.readAllLines(cli.resolve("metrics.jsonl"));
        assertThat(libLog).hasSize(8).hasSameSizeAs(cliLog); // 34 training records, batches of 8 (last dropped), 2 epochs
        for (int i = 0; i < libLog.size(); i++) {
            JsonNode a = new ObjectMapper().readTree(libLog.get(i)), b = new ObjectMapper().readTree(cliLog.get(i));
            assertThat(a.get("loss").asDouble()).isEqualTo(b.get("loss").asDouble()).isEqualTo(steps.get(i).loss());
            assertThat(a.path("val_loss").asDouble(-1)).isEqualTo(b.path("val_loss").asDouble(-1));
        }
        assertThat(steps.getLast().loss()).isLessThan(steps.getFirst().loss());
        assertThat(Files.mismatch(lib.resolve("model/model.safetensors"), cli.resolve("model/model.safetensors"))).isEqualTo(-1L);
        assertThat(SavedFormat.read(lib.resolve("model"))).isEqualTo(PromptFormat.PHI3);
        assertThat(lib.resolve("model").resolve(GptModelStore.TOKENIZER_FILE)).exists();
        assertThat(tuned.promptFormat()).contains(PromptFormat.PHI3);
        assertThat(tuned.respond("Say yes.", "", 3, null)).isEqualTo(Myllm.load(cli.resolve("model")).respond("Say yes.", "", 3, null));

        assertThatThrownBy(() -> Myllm.finetuneInstructions(InstructOptions.of(base, data.toString(), lib), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("out: " + lib + " already holds a run; give another directory");
        assertThatThrownBy(() -> InstructOptions.of(base, data.toString(), lib).withTraining(0, 8, 1e-3))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("epochs must be >= 1, got 0");
    }
}
