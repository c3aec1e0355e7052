package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DPO notebook's collate, log-probabilities and loss. */
class DpoTest {
    static final Tokenizer GPT2 = Tokenizers.load("gpt2");

    static List<InstructionExample> firstPreferences() throws Exception {
        try (InputStream in = DpoTest.class.getResourceAsStream("/finetune/preference-first3.json")) {
            return InstructionData.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "prefs");
        }
    }

    @Test
    void aBrokenBestFileIsOneLineNamingItOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createDirectories(out.resolve(KeepBest.DIR)).resolve(KeepBest.FILE);
        // Jackson reading the file itself: "FILE: Unexpected end-of-input ... [Source: REDACTED ...] ... [Source: REDACTED ...]"
        java.nio.file.Files.writeString(f, "{\"step\": 4, \"val_reward_accuracy\": ");
        assertBrokenBest(out, f + ": not valid JSON: Unexpected end-of-input");
        java.nio.file.Files.write(f, new byte[]{'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        assertBrokenBest(out, f + ": cannot read: not UTF-8 text");
        // a best file without its accuracy failed on a null or a cast, without a word about the file
        java.nio.file.Files.writeString(f, "{\"step\": 4}");
        assertBrokenBest(out, f + ": not the kept model's step and val_reward_accuracy (numbers), got {\"step\":4}");
        // a directory in its place was taken for no best file, and the resumed run started its best over
        java.nio.file.Files.delete(f);
        java.nio.file.Files.createDirectory(f);
        assertBrokenBest(out, f + ": is a directory");
        java.nio.file.Files.delete(f);
        assertThat(new KeepBest(null, out, true, "--keep-best", IllegalStateException::new).read()).isEmpty();
        java.nio.file.Files.writeString(f, "{\"step\": 4, \"val_reward_accuracy\": 0.75}\n");
        assertThat(new KeepBest(null, out, true, "--keep-best", IllegalStateException::new).read())
                .containsEntry("step", 4).containsEntry("val_reward_accuracy", 0.75);
    }

    private static void assertBrokenBest(java.nio.file.Path out, String message) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new KeepBest(null, out, true, "--keep-best", IllegalStateException::new))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("[Source")
                        .containsOnlyOnce(out.resolve(KeepBest.DIR).toString()));
    }

    @Test
    void collateMatchesTheNotebook() throws Exception {
        PreferenceDataset ds = new PreferenceDataset(firstPreferences().subList(0, 2), GPT2, PromptFormat.ALPACA, 1024, "prefs");
        PreferenceBatch b = ds.batch(new int[]{0, 1}, 50256, 1024);
        assertThat(b.rows()).isEqualTo(2);
        assertThat(b.cols()).isEqualTo(81);
        boolean[] m0 = Arrays.copyOf(b.chosenMask(), 81);
        for (int t = 0; t < 81; t++) assertThat(m0[t]).as("chosen_mask[0][%d]", t).isEqualTo(t >= 50 && t < 74);
        // the mask starts at "### Response:\n": the prompt (48 tokens) and two newlines are out
        assertThat(b.chosen()[50]).isEqualTo(21017);
        assertThat(b.chosen()[80]).isEqualTo(50256);
        PreferenceBatch cut = ds.batch(new int[]{0, 1}, 50256, 60);
        assertThat(cut.cols()).isEqualTo(60);
        assertThat(Arrays.copyOf(cut.rejected(), 60)).isEqualTo(Arrays.copyOf(b.rejected(), 60));
    }

    @Test
    void anAppendedEndTokenEndsBothAnswersInsideTheMask() throws Exception {
        List<InstructionExample> two = firstPreferences().subList(0, 2);
        PreferenceBatch book = new PreferenceDataset(two, GPT2, PromptFormat.ALPACA, 1024, "prefs").batch(new int[]{0, 1}, 50256, 1024);
        PreferenceBatch ended = new PreferenceDataset(two, GPT2, PromptFormat.ALPACA, 1024, "prefs", 50256).batch(new int[]{0, 1}, 50256, 1024);
        assertThat(ended.cols()).isEqualTo(82); // the longest answer is one token longer
        // row 0: the same 74 tokens, then the end token at 74, now selected (the notebook's mask ends at 73)
        assertThat(Arrays.copyOf(ended.chosen(), 74)).isEqualTo(Arrays.copyOf(book.chosen(), 74));
        assertThat(ended.chosen()[74]).isEqualTo(50256);
        for (int t = 0; t < 82; t++) assertThat(ended.chosenMask()[t]).as("chosen_mask[0][%d]", t).isEqualTo(t >= 50 && t < 75);
        // every row's selection grows by exactly that one token, chosen and rejected
        for (int row = 0; row < 2; row++) {
            assertThat(count(ended.chosenMask(), row, 82)).isEqualTo(count(book.chosenMask(), row, 81) + 1);
            assertThat(count(ended.rejectedMask(), row, 82)).isEqualTo(count(book.rejectedMask(), row, 81) + 1);
        }
    }

    private static int count(boolean[] mask, int row, int cols) {
        int n = 0;
        for (int t = 0; t < cols; t++) if (mask[row * cols + t]) n++;
        return n;
    }

    @Test
    void policyEqualToReferenceGivesLn2AndZeroRewards() throws Exception {
        GPTConfig c = new GPTConfig(GPTConfig.GPT2_VOCAB, 128, 16, 2, 1, 0f, true, true, 1e-5f);
        GPTModel policy = RandomModels.uniform(c, 5);
        PreferenceDataset ds = new PreferenceDataset(firstPreferences(), GPT2, PromptFormat.ALPACA, 128, "prefs");
        PreferenceBatch b = ds.batch(new int[]{0, 1, 2}, 50256, 128);
        DpoLoss.Result r = DpoLoss.batch(policy::forward, policy::forward, b, 0.1);
        assertThat((double) r.loss().item()).isCloseTo(Math.log(2), offset(1e-7));
        assertThat(r.chosenReward()).isZero();
        assertThat(r.rejectedReward()).isZero();
        assertThat(r.margin()).isZero();
        assertThat(r.accuracy()).isZero();
    }

    @Test
    void sequenceLogProbsAreMaskedMeansOfTokenLogProbs() {
        // two rows, three positions, vocabulary 2: row 0 counts positions 1 and 2, row 1 only position 2
        float[] x = {0f, 1f, 2f, 0f, 0f, 0f, 1f, 1f, 3f, 1f, 0f, 0f};
        Tensor logits = Tensor.of(x, 2, 3, 2);
        int[] ids = {0, 1, 0, 1, 1, 0};
        boolean[] mask = {false, true, true, false, false, true};
        float[] lp = SequenceLogProbs.of(logits, ids, mask, 2, 3).toArray();
        double a = 1 - Math.log(1 + Math.E);          // log softmax([0,1])[1]
        double b = 2 - Math.log(Math.exp(2) + 1);     // log softmax([2,0])[0]
        double c = 3 - Math.log(Math.exp(3) + Math.E); // log softmax([3,1])[0], position 1 of row 1
        assertThat((double) lp[0]).isCloseTo((a + b) / 2, offset(1e-6));
        assertThat((double) lp[1]).isCloseTo(c, offset(1e-6));
    }

    @Test
    void lossAndRewardsFollowTheFormula() {
        Tensor pc = Tensor.vector(-1.0f, -2.0f).requiresGrad(true);
        Tensor pr = Tensor.vector(-1.5f, -1.0f).requiresGrad(true);
        float[] rc = {-1.2f, -2.0f}, rr = {-1.2f, -1.2f};
        DpoLoss.Result r = DpoLoss.loss(pc, pr, rc, rr, 0.1);
        double z0 = (-1.0 + 1.2) - (-1.5 + 1.2), z1 = (-2.0 + 2.0) - (-1.0 + 1.2);
        double expect = (-Math.log(1 / (1 + Math.exp(-0.1 * z0))) - Math.log(1 / (1 + Math.exp(-0.1 * z1)))) / 2;
        assertThat((double) r.loss().item()).isCloseTo(expect, offset(1e-6));
        assertThat(r.chosenReward()).isCloseTo(((-1.0 + 1.2) + 0) / 2, offset(1e-6));
        assertThat(r.rejectedReward()).isCloseTo(((-1.5 + 1.2) + (-1.0 + 1.2)) / 2, offset(1e-6));
        assertThat(r.accuracy()).isEqualTo(0.5);
        r.loss().backward();
        double g0 = -0.1 / (1 + Math.exp(0.1 * z0)) / 2;
        assertThat((double) pc.grad().data()[0]).isCloseTo(g0, offset(1e-6));
        assertThat((double) pr.grad().data()[0]).isCloseTo(-g0, offset(1e-6));
    }

    @Test
    void theNllTermAddsAlphaTimesTheChosenNllAndItsGradient() {
        Tensor pc = Tensor.vector(-1.0f, -2.0f).requiresGrad(true);
        Tensor pr = Tensor.vector(-1.5f, -1.0f).requiresGrad(true);
        float[] rc = {-1.2f, -2.0f}, rr = {-1.2f, -1.2f};
        double dpo = DpoLoss.loss(pc, pr, rc, rr, 0.1).loss().item();
        DpoLoss.Result r = DpoLoss.loss(pc, pr, rc, rr, 0.1, 0.75);
        assertThat((double) r.loss().item()).isCloseTo(dpo + 0.75 * (1.0 + 2.0) / 2, offset(1e-6));
        r.loss().backward();
        double z0 = (-1.0 + 1.2) - (-1.5 + 1.2);
        double g0 = -0.1 / (1 + Math.exp(0.1 * z0)) / 2;
        assertThat((double) pc.grad().data()[0]).isCloseTo(g0 - 0.75 / 2, offset(1e-6));
        assertThat((double) pr.grad().data()[0]).isCloseTo(-g0, offset(1e-6)); // the rejected side is DPO's alone
    }

    @Test
    void withWeightZeroPolicyEqualToReferenceStillGivesLn2() throws Exception {
        GPTConfig c = new GPTConfig(GPTConfig.GPT2_VOCAB, 128, 16, 2, 1, 0f, true, true, 1e-5f);
        GPTModel policy = RandomModels.uniform(c, 5);
        PreferenceDataset ds = new PreferenceDataset(firstPreferences(), GPT2, PromptFormat.ALPACA, 128, "prefs");
        PreferenceBatch b = ds.batch(new int[]{0, 1, 2}, 50256, 128);
        DpoLoss.Result r = DpoLoss.batch(policy::forward, DpoLoss.reference(policy::forward, b), b, 0.1, 0);
        assertThat((double) r.loss().item()).isCloseTo(Math.log(2), offset(1e-7));
        DpoLoss.Result withNll = DpoLoss.batch(policy::forward, DpoLoss.reference(policy::forward, b), b, 0.1, 2);
        double meanChosen = (r.policyChosen()[0] + r.policyChosen()[1] + r.policyChosen()[2]) / 3.0;
        assertThat((double) withNll.loss().item()).isCloseTo(Math.log(2) - 2 * meanChosen, offset(1e-5));
    }

    @Test
    void evaluationRunsTheReferenceOnceAndThePolicyOncePerEvaluation() throws Exception {
        GPTConfig c = new GPTConfig(GPTConfig.GPT2_VOCAB, 128, 16, 2, 1, 0f, true, true, 1e-5f);
        GPTModel policy = RandomModels.uniform(c, 5), reference = RandomModels.uniform(c, 6);
        PreferenceDataset ds = new PreferenceDataset(firstPreferences(), GPT2, PromptFormat.ALPACA, 128, "prefs");
        List<dev.myllm.data.Batch> batches = List.of(PreferenceBatches.encode(ds.batch(new int[]{0, 1}, 50256, 128)),
                PreferenceBatches.encode(ds.batch(new int[]{2}, 50256, 128)));
        int[] policyCalls = {0}, referenceCalls = {0};
        DpoObjective obj = new DpoObjective((ids, bt, t) -> {
            policyCalls[0]++;
            return policy.forward(ids, bt, t);
        }, (ids, bt, t) -> {
            referenceCalls[0]++;
            return reference.forward(ids, bt, t);
        }, 0.1);
        // as the trainer evaluates: the loss over the batches, then the metrics over the same batches
        double loss = dev.myllm.train.Losses.loaderLoss(obj, batches, 0);
        java.util.Map<String, Double> m;
        try (dev.myllm.tensor.GradMode g = dev.myllm.tensor.GradMode.noGrad()) {
            m = obj.metrics(batches, 0);
        }
        assertThat(policyCalls[0]).isEqualTo(4);    // chosen and rejected of two batches, once
        assertThat(referenceCalls[0]).isEqualTo(4);
        // the metrics are means over the three pairs, not over the two batches
        List<DpoObjective.Pair> pairs = obj.pairs(batches, 0);
        assertThat(pairs).hasSize(3);
        assertThat(m.get("pairs")).isEqualTo(3.0);
        double margin = 0;
        for (DpoObjective.Pair p : pairs) margin += (p.chosenReward() - p.rejectedReward()) / 3;
        assertThat(m.get("reward_margin")).isCloseTo(margin, offset(1e-9));
        assertThat(policyCalls[0]).isEqualTo(4);
        // a training step invalidates the policy's results; the reference's stay
        try (dev.myllm.tensor.Arena a = dev.myllm.tensor.Arena.open()) {
            obj.loss(batches.get(1));
        }
        assertThat(policyCalls[0]).isEqualTo(6);
        assertThat(referenceCalls[0]).isEqualTo(6); // a training batch's reference pass is not kept
        assertThat(dev.myllm.train.Losses.loaderLoss(obj, batches, 0)).isCloseTo(loss, offset(1e-6)); // weights unchanged
        assertThat(policyCalls[0]).isEqualTo(10);
        assertThat(referenceCalls[0]).isEqualTo(6);
    }

    @Test
    void syntheticPreferencesShareNoQuestionWithTheTestSplitAndCoverEveryFamily() {
        // finetune dpo --data synthetic trains on the train part and validates on the val part of the same split that
        // eval instruct --split test scores: none of their questions may be a test question
        InstructionData.Split s = InstructionData.bookSplit(SyntheticTasks.generate(InstructionDatasets.SYNTHETIC_SIZE, 123));
        java.util.Set<String> test = new java.util.HashSet<>();
        for (InstructionExample e : s.test()) test.add(e.instruction() + "\n" + e.input());
        java.util.Map<String, Integer> valFamilies = new java.util.TreeMap<>();
        for (List<InstructionExample> part : List.of(s.train(), s.val())) {
            for (InstructionExample e : part) {
                assertThat(test).as(e.toString()).doesNotContain(e.instruction() + "\n" + e.input());
                // the rejected answer is wrong but in the chosen one's words: the same first word
                assertThat(SyntheticTasks.exactMatch(e.rejected(), e.chosen())).as(e.toString()).isFalse();
                assertThat(e.rejected().split("[ -]")[0].matches("[0-9]+")).as(e.toString()).isEqualTo(e.chosen().split("[ -]")[0].matches("[0-9]+"));
            }
        }
        for (InstructionExample e : s.val()) valFamilies.merge(SyntheticTasks.family(e), 1, Integer::sum);
        assertThat(valFamilies.keySet()).containsExactlyInAnyOrderElementsOf(SyntheticTasks.families());
        // families with few distinct questions (plurals, past tenses, differences) run out early: 5 or more each
        assertThat(valFamilies.values()).allMatch(n -> n >= 5);
        assertThat(valFamilies.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(300);
    }
}
