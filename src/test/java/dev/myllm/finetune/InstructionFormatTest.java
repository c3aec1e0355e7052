package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.data.Batch;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Chapter 7's prompt strings, split, collate, masking and loss against the book's numbers. */
class InstructionFormatTest {
    static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    static List<InstructionExample> bookData() throws IOException {
        try (InputStream in = InstructionFormatTest.class.getResourceAsStream("/finetune/instruction-data.json")) {
            return InstructionData.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "instruction-data.json");
        }
    }

    @Test
    void alpacaPromptIsTheBooksVerbatim() {
        InstructionExample withInput = InstructionExample.of("Fix it.", "He go.", "He goes.");
        assertThat(PromptFormat.ALPACA.prompt(withInput)).isEqualTo("Below is an instruction that describes a task. Write a response"
                + " that appropriately completes the request.\n\n### Instruction:\nFix it.\n\n### Input:\nHe go.");
        assertThat(PromptFormat.ALPACA.fullText(InstructionExample.of("Say hi.", "", "Hi."), "Hi.")).isEqualTo("Below is an instruction"
                + " that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nSay hi."
                + "\n\n### Response:\nHi.");
        assertThat(GPT2.encode(PromptFormat.ALPACA.responsePrefix())).containsExactly(198, 198, 21017, 18261, 25, 198);
        String preamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
        assertThat(GPT2.encode(preamble)).hasSize(18);
        assertThat(PromptFormat.ALPACA.extract("\n\n### Response:\nThe meal is prepared.  ")).isEqualTo("The meal is prepared.");
    }

    @Test
    void phi3PromptIsExerciseSevenOne() {
        InstructionExample e = InstructionExample.of("Fix it.", "He go.", "He goes.");
        assertThat(PromptFormat.PHI3.fullText(e, e.output())).isEqualTo("<|user|>\nFix it.\nHe go.\n<|assistant|>:\nHe goes.");
        assertThat(GPT2.encode("<|user|>", Specials.TEXT)).containsExactly(27, 91, 7220, 91, 29);
        assertThat(PromptFormat.PHI3.extract("\n<|assistant|>:\nHe goes.\n")).isEqualTo("He goes.");
        InstructionExample turn2 = new InstructionExample("And you?", "", "", null, null, List.of(new InstructionExample.Exchange("Hi", "Hello")));
        assertThat(PromptFormat.PHI3.prompt(turn2)).isEqualTo("<|user|>\nHi\n<|assistant|>:\nHello\n<|user|>\nAnd you?");
        assertThat(PromptFormat.parse("PHI3")).isEqualTo(PromptFormat.PHI3);
        assertThatThrownBy(() -> PromptFormat.parse("chatml")).hasMessageContaining("unknown prompt format 'chatml'");
    }

    @Test
    void bookSplitIs935Then110TestThen55Val() throws IOException {
        List<InstructionExample> data = bookData();
        assertThat(data).hasSize(1100);
        assertThat(data.stream().filter(e -> !e.input().isEmpty()).count()).isEqualTo(325);
        assertThat(data.get(50).input()).contains("Ocassion");
        assertThat(data.get(999).instruction()).contains("complicated");
        InstructionData.Split s = InstructionData.bookSplit(data);
        assertThat(s.train()).hasSize(935);
        assertThat(s.test()).hasSize(110);
        assertThat(s.val()).hasSize(55);
        assertThat(s.val().getFirst().instruction() + s.val().getFirst().input()).contains("The chef cooks the meal every day.");
        assertThat(s.test().getFirst().instruction() + s.test().getFirst().input()).contains("The car is very fast.");
        assertThat(s.train().getLast()).isSameAs(data.get(934));
        assertThat(s.test().getFirst()).isSameAs(data.get(935));
    }

    @Test
    void promptTokensArePrefixesOfTheFullText() throws IOException {
        List<InstructionExample> data = bookData().subList(0, 50);
        InstructionDataset ds = new InstructionDataset(data, GPT2, PromptFormat.ALPACA, 1024, "x");
        for (int i = 0; i < ds.size(); i++) {
            int[] full = ds.tokens(i);
            int l = ds.instructionLength(i);
            assertThat(Arrays.copyOf(full, l)).isEqualTo(GPT2.encode(PromptFormat.ALPACA.prompt(data.get(i))));
            assertThat(full[l]).isEqualTo(198);
            assertThat(full[l + 1]).isEqualTo(198);
        }
    }

    @Test
    void aPreferenceRecordWithoutAnOutputIsRefusedForInstructionTuning() {
        // finetune dpo reads such records; instruction tuning would learn a response that is not there
        InstructionExample answered = new InstructionExample("Name a colour.", "", "Red.", null, null, List.of());
        InstructionExample preference = new InstructionExample("Name a fruit.", "", null, "Apple.", "Car.", List.of());
        assertThatThrownBy(() -> new InstructionDataset(List.of(answered, preference), GPT2, PromptFormat.ALPACA, 1024, "train.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("train.json: record 1 has no \"output\" to learn (a preference record, for finetune dpo)");
    }

    @Test
    void collateToyMatchesTheBook() {
        Batch b = InstructionCollate.collate(List.of(new int[]{0, 1, 2, 3, 4}, new int[]{5, 6}, new int[]{7, 8, 9}), null, 50256, 1024);
        int p = 50256, x = -100;
        assertThat(b.rows()).isEqualTo(3);
        assertThat(b.cols()).isEqualTo(5);
        assertThat(b.inputs()).containsExactly(0, 1, 2, 3, 4, 5, 6, p, p, p, 7, 8, 9, p, p);
        assertThat(b.targets()).containsExactly(1, 2, 3, 4, p, 6, p, x, x, x, 8, 9, p, x, x);
        Batch cut = InstructionCollate.collate(List.of(new int[]{0, 1, 2, 3, 4}, new int[]{5, 6}), null, 50256, 3);
        assertThat(cut.cols()).isEqualTo(3);
        assertThat(cut.targets()).containsExactly(1, 2, 3, 6, p, x);
    }

    @Test
    void instructionMaskingMatchesTheExercise() throws IOException {
        InstructionExample sort = bookData().get(43); // "Sort the following list in alphabetical order."
        InstructionDataset ds = new InstructionDataset(List.of(sort), GPT2, PromptFormat.ALPACA, 1024, "x");
        int[] longest = new int[64];
        Arrays.fill(longest, 11);
        Batch b = InstructionCollate.collate(List.of(longest, ds.tokens(0), new int[]{1, 2, 3}), new int[]{10, ds.instructionLength(0), 2},
                50256, 1024);
        assertThat(b.rows()).isEqualTo(3);
        assertThat(b.cols()).isEqualTo(64);
        int[] row1 = Arrays.copyOfRange(b.targets(), 64, 128);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 46; i++) expected.add(-100);
        for (int t : new int[]{198, 198, 21017, 18261, 25, 198, 34, 12204, 375, 576, 11, 42651, 11, 1168, 37052, 50256, -100, -100}) {
            expected.add(t);
        }
        assertThat(row1).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
        int[] in1 = Arrays.copyOfRange(b.inputs(), 64, 128);
        assertThat(Arrays.copyOf(in1, 61)).isEqualTo(Arrays.copyOf(ds.tokens(0), 61));
        assertThat(Arrays.copyOfRange(in1, 62, 64)).containsExactly(50256, 50256);
    }

    @Test
    void crossEntropyToysIgnoreMinus100() {
        Tensor two = Tensor.of(new float[]{-1f, 1f, -0.5f, 1.5f}, 2, 2);
        assertThat(Ops.crossEntropy(two, new int[]{0, 1}).item()).isCloseTo(1.1269f, org.assertj.core.data.Offset.offset(1e-4f));
        Tensor three = Tensor.of(new float[]{-1f, 1f, -0.5f, 1.5f, -0.5f, 1.5f}, 3, 2);
        assertThat(Ops.crossEntropy(three, new int[]{0, 1, 1}).item()).isCloseTo(0.7936f, org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(Ops.crossEntropy(three, new int[]{0, 1, -100}).item()).isCloseTo(1.1269f, org.assertj.core.data.Offset.offset(1e-4f));
    }
}
