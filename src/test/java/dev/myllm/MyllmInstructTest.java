package dev.myllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.finetune.Conversation;
import dev.myllm.finetune.InstructStore;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.finetune.Trainable;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.io.ModelDirectory;
import dev.myllm.io.Safetensors;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
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
    /** A small model with its own vocabulary, and 40 records in a file (as FinetuneInstructCliTest's). */
    record Tiny(Path base, Path data) {
        static Tiny in(Path dir) throws Exception {
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
            return new Tiny(base, data);
        }

        /** {@code myllm finetune instruct} on it, into {@code out}, with {@code extra} options. */
        void cli(Path out, String... extra) {
            List<String> args = new ArrayList<>(List.of("finetune", "instruct", "--model", base.toString(), "--data", data.toString(),
                    "--lr", "1e-3", "--eval-every", "3", "--eval-batches", "1", "--out", out.toString()));
            args.addAll(List.of(extra));
            MyllmTest.cli(args.toArray(String[]::new));
        }
    }

    /** Each step's loss in a run's metrics.jsonl, and the listener saw the same. */
    private static List<Double> sameLosses(Path lib, Path cli, List<Trainer.StepReport> steps, int count) throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<String> libLog = Files.readAllLines(lib.resolve("metrics.jsonl")), cliLog = Files.readAllLines(cli.resolve("metrics.jsonl"));
        assertThat(libLog).hasSize(count).hasSameSizeAs(cliLog);
        List<Double> losses = new ArrayList<>();
        for (int i = 0; i < libLog.size(); i++) {
            JsonNode a = m.readTree(libLog.get(i)), b = m.readTree(cliLog.get(i));
            assertThat(a.get("loss").asDouble()).as("step %d", i + 1).isEqualTo(b.get("loss").asDouble()).isEqualTo(steps.get(i).loss());
            assertThat(a.path("val_loss").asDouble(-1)).as("step %d", i + 1).isEqualTo(b.path("val_loss").asDouble(-1));
            losses.add(a.get("loss").asDouble());
        }
        return losses;
    }

    /** The files of {@code dir} (recursively) ending in one of {@code endings}, relative to it. */
    /** The files under {@code dir} ending in one of {@code endings} (none given: all), relative and sorted. */
    static List<Path> files(Path dir, String... endings) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(dir::relativize).filter(p -> endings.length == 0 || List.of(endings).stream().anyMatch(p.toString()::endsWith)).sorted().toList();
        }
    }

    /** {@code lib} holds the files {@code cli} does (those ending in one of {@code endings}; none given: all), byte for byte. */
    static void sameFiles(Path lib, Path cli, String... endings) throws Exception {
        List<Path> want = files(cli, endings);
        assertThat(files(lib, endings)).isEqualTo(want);
        for (Path f : want) assertThat(Files.mismatch(lib.resolve(f), cli.resolve(f))).as(f.toString()).isEqualTo(-1L);
    }

    /** The model returned is model/'s: saved again it is the same file, and it answers as model/ loaded does. */
    static void returnsModelDir(Myllm tuned, Path run, Path scratch) throws Exception {
        tuned.save(scratch);
        assertThat(Files.mismatch(scratch.resolve("model.safetensors"), run.resolve("model/model.safetensors"))).isEqualTo(-1L);
        assertThat(tuned.model().parameters()).allMatch(Tensor::requiresGrad);
        assertThat(tuned.respond("Say yes.", "", 3, null)).isEqualTo(Myllm.load(run.resolve("model")).respond("Say yes.", "", 3, null));
    }

    /** A listener that collects the steps. */
    static Trainer.Listener into(List<Trainer.StepReport> steps) {
        return new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                steps.add(r);
            }
        };
    }

    @Test
    void finetunesAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path base = t.base(), data = t.data();
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetuneInstructions(InstructOptions.of(base, data.toString(), lib).withFormat(PromptFormat.PHI3)
                .withTraining(2, 8, 1e-3).withEvaluation(3, 1).withMaskedInstruction(true), into(steps));
        t.cli(cli, "--format", "phi3", "--mask-instruction");

        // the same steps, losses and weights, the format saved beside them
        List<Double> losses = sameLosses(lib, cli, steps, 8); // 34 training records, batches of 8 (last dropped), 2 epochs
        assertThat(losses.getLast()).isLessThan(losses.getFirst());
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

    @Test
    void finetunesWithLoRAAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetuneInstructions(InstructOptions.of(t.base(), t.data().toString(), lib).withLoRA(4, 8)
                .withTraining(1, 8, 1e-3).withEvaluation(3, 1), into(steps));
        t.cli(cli, "--trainable", "lora", "--lora-rank", "4", "--lora-alpha", "8", "--epochs", "1");

        // the same adapters (drawn from seed + 1, scaled by alpha/rank), trained the same way, bit for bit
        sameLosses(lib, cli, steps, 4);
        sameFiles(lib.resolve("model"), cli.resolve("model"), ".safetensors", ".json");
        assertThat(lib.resolve("model").resolve(InstructStore.ADAPTER).resolve("adapter_model.safetensors")).exists();
        // model/ has the update merged in: the blocks moved, the frozen embedding did not
        var before = Safetensors.read(t.base().resolve("model.safetensors"));
        var after = Safetensors.read(lib.resolve("model/model.safetensors"));
        assertThat(after.get("wte.weight").data()).isEqualTo(before.get("wte.weight").data());
        assertThat(after.get("h.0.mlp.c_fc.weight").data()).isNotEqualTo(before.get("h.0.mlp.c_fc.weight").data());

        // the model returned is model/'s: the adapters merged in memory too, every weight trainable as a loaded one's
        returnsModelDir(tuned, cli, dir.resolve("returned"));
    }

    @Test
    void finetunesWithThePrintedBooksLoRAScaleAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli"), perRank = dir.resolve("per-rank");
        InstructOptions o = InstructOptions.of(t.base(), t.data().toString(), lib).withTraining(1, 8, 1e-3).withEvaluation(3, 1);
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm.finetuneInstructions(new InstructOptions(o.model(), o.data(), o.out(), o.format(), o.epochs(), o.batchSize(), o.maxLength(), o.lr(),
                o.weightDecay(), o.maskInstruction(), o.evalEvery(), o.evalBatches(), o.seed(), Trainable.LORA,
                new LoRA.Settings(4, 8, LoRA.Scale.ALPHA), o.run()), into(steps));
        t.cli(cli, "--trainable", "lora", "--lora-rank", "4", "--lora-alpha", "8", "--lora-scale", "alpha", "--epochs", "1");
        t.cli(perRank, "--trainable", "lora", "--lora-rank", "4", "--lora-alpha", "8", "--epochs", "1");

        // the update scaled by alpha (8), not alpha/rank (2): the command says so with --lora-scale, and saves it for --resume
        sameLosses(lib, cli, steps, 4);
        sameFiles(lib.resolve("model"), cli.resolve("model"), ".safetensors", ".json");
        assertThat(Files.readAllBytes(cli.resolve("model/model.safetensors"))).isNotEqualTo(Files.readAllBytes(perRank.resolve("model/model.safetensors")));
        ObjectMapper json = new ObjectMapper();
        JsonNode saved = json.readTree(dev.myllm.train.Checkpoints.resolve(cli).resolve("trainer_state.json").toFile()).get("options");
        assertThat(saved.get("lora-scale").asText()).isEqualTo("alpha");
        assertThat(json.readTree(dev.myllm.train.Checkpoints.resolve(lib).resolve("trainer_state.json").toFile()).get("options")).isEqualTo(saved);
    }

    @Test
    void finetunesTheLastBlockAsTheCommandLineDoes(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Path lib = dir.resolve("lib"), cli = dir.resolve("cli");
        List<Trainer.StepReport> steps = new ArrayList<>();
        Myllm tuned = Myllm.finetuneInstructions(InstructOptions.of(t.base(), t.data().toString(), lib).withTrainable(Trainable.LAST_BLOCK)
                .withTraining(1, 8, 1e-3).withEvaluation(3, 1), into(steps));
        t.cli(cli, "--trainable", "last-block", "--epochs", "1");

        sameLosses(lib, cli, steps, 4);
        sameFiles(lib.resolve("model"), cli.resolve("model"), ".safetensors");
        // only the last block (and the final LayerNorm) moved
        var before = Safetensors.read(t.base().resolve("model.safetensors"));
        var after = Safetensors.read(lib.resolve("model/model.safetensors"));
        assertThat(after.get("wte.weight").data()).isEqualTo(before.get("wte.weight").data());
        assertThat(after.get("h.0.attn.c_attn.weight").data()).isEqualTo(before.get("h.0.attn.c_attn.weight").data());
        assertThat(after.get("h.1.attn.c_attn.weight").data()).isNotEqualTo(before.get("h.1.attn.c_attn.weight").data());
        assertThat(tuned.model().parameters()).allMatch(Tensor::requiresGrad);
        assertThat(tuned.respond("Say yes.", "", 3, null)).isEqualTo(Myllm.load(cli.resolve("model")).respond("Say yes.", "", 3, null));
    }

    @Test
    void theLastTwoBlocksOfATwoBlockModelLeaveTheEmbeddingsFrozen(@TempDir Path dir) throws Exception {
        Tiny t = Tiny.in(dir);
        Myllm.finetuneInstructions(InstructOptions.of(t.base(), t.data().toString(), dir.resolve("lib")).withTrainable(Trainable.LAST_TWO_BLOCKS)
                .withTraining(1, 8, 1e-3).withEvaluation(0, 1), null);
        // every block trains, as the help says the embeddings do not (they did when the blocks were all the model had)
        var before = Safetensors.read(t.base().resolve("model.safetensors"));
        var after = Safetensors.read(dir.resolve("lib/model/model.safetensors"));
        for (String frozen : List.of("wte.weight", "wpe.weight")) {
            assertThat(java.util.Arrays.equals(after.get(frozen).data(), before.get(frozen).data())).as(frozen + " unchanged").isTrue();
        }
        for (String moved : List.of("h.0.attn.c_attn.weight", "h.1.mlp.c_fc.weight", "ln_f.weight")) {
            assertThat(java.util.Arrays.equals(after.get(moved).data(), before.get(moved).data())).as(moved + " unchanged").isFalse();
        }
    }

    @Test
    void badTrainingChoicesAreOneLine() {
        InstructOptions o = InstructOptions.of(Path.of("base"), "synthetic", Path.of("out"));
        assertThat(o.trainable()).isEqualTo(Trainable.ALL);
        assertThat(o.lora()).isNull();
        // the same checks as PreferenceOptions': a weight decay that is not a number is refused too
        assertThatThrownBy(() -> new InstructOptions(o.model(), o.data(), o.out(), null, 1, 8, 100, 1e-3, Double.NaN, true, 0, 1, 1, Trainable.ALL, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("weightDecay must be >= 0, got NaN");
        assertThatThrownBy(() -> o.withTrainable(Trainable.LORA)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("trainable: LoRA needs its rank and alpha; use withLoRA(rank, alpha)");
        assertThatThrownBy(() -> o.withTrainable(Trainable.HEAD)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("trainable: a language model has no new head to train alone; choose ALL, LAST_BLOCK, LAST_TWO_BLOCKS or LORA");
        assertThatThrownBy(() -> o.withTrainable(null)).isInstanceOf(IllegalArgumentException.class).hasMessage("trainable: what trains is required");
        assertThatThrownBy(() -> o.withLoRA(0, 8)).isInstanceOf(IllegalArgumentException.class).hasMessage("rank must be >= 1, got 0");
        assertThatThrownBy(() -> o.withLoRA(4, 0)).isInstanceOf(IllegalArgumentException.class).hasMessage("alpha must be positive, got 0.0");

        InstructOptions lora = o.withLoRA(4, 8);
        assertThat(lora.lora()).isEqualTo(new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK));
        assertThat(lora.lora().scale()).isEqualTo(2.0);
        assertThat(lora.withSeed(7).withTraining(1, 4, 1e-4).lora()).as("kept through other changes").isEqualTo(lora.lora());
        assertThat(lora.withTrainable(Trainable.LORA).lora()).isEqualTo(lora.lora());
        assertThat(lora.withTrainable(Trainable.LAST_TWO_BLOCKS).lora()).as("another choice of what trains drops the adapters' settings").isNull();
        // the constructor without them, as before, trains every weight
        assertThat(new InstructOptions(Path.of("base"), "synthetic", Path.of("out"), null, 2, 8, 1024, 5e-5, 0.1, false, 5, 5, 123)).isEqualTo(o);
    }
}
