package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.myllm.io.ClassifierDirectory;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classifier's surgery, token rules, parameter counts, LoRA merge and directory round trip. */
class ClassifierTest {
    static final GPTConfig TINY = new GPTConfig(40, 16, 12, 2, 2, 0f, true, true, 1e-5f);
    static final int[] IDS = {5, 7, 9, 39, 39, 39, 1, 2, 3, 4, 5, 6}; // two rows of 6, pad 39

    static GPTClassifier tiny(TokenRule rule, long seed) {
        return GPTClassifier.withNewHead(RandomModels.uniform(TINY, seed), List.of("ham", "spam", "eggs"), true, rule, 39, new Rng(seed));
    }

    @Test
    void bookCounts() {
        GPTConfig small = GPTConfig.preset("gpt2-small");
        // appendix E: 124,441,346 with the 2-class head; LoRA r16 on every linear including the head: 2,666,528
        assertThat(small.parameterCount() + 768 * 2 + 2).isEqualTo(124_441_346L);
        assertThat(LoRA.parameterCount(small, 2, 16)).isEqualTo(2_666_528L);
        assertThat(LoRA.parameterCount(GPTConfig.preset("gpt2-medium"), 0, 16)).isEqualTo(7_898_384L);
        // chapter 6 default: last block + final norm + head
        assertThat(small.blockParameterCount() + 2 * 768 + 768 * 2 + 2).isEqualTo(7_090_946L);
    }

    @Test
    void freezingChoicesCountWhatTheyTrain() {
        GPTClassifier c = tiny(TokenRule.LAST, 1);
        long block = TINY.blockParameterCount(), head = 12 * 3 + 3;
        Trainable.HEAD.apply(c);
        assertThat(Trainable.trainableCount(c)).isEqualTo(head);
        Trainable.LAST_BLOCK.apply(c);
        assertThat(Trainable.trainableCount(c)).isEqualTo(block + 24 + head);
        Trainable.LAST_TWO_BLOCKS.apply(c);
        assertThat(Trainable.trainableCount(c)).isEqualTo(2 * block + 24 + head);
        Trainable.ALL.apply(c);
        assertThat(Trainable.trainableCount(c)).isEqualTo(c.parameterCount()).isEqualTo(TINY.parameterCount() + head);
        c.addLoRA(new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), new Rng(2));
        Trainable.LORA.apply(c);
        assertThat(Trainable.trainableCount(c)).isEqualTo(LoRA.parameterCount(TINY, 3, 4));
    }

    @Test
    void aDatasetRefusesABadBatchSizeInTheLibrarysWords() {
        // the packages are usable directly: no command-line option in the message (it was "--batch-size must be >= 1, got 0")
        assertThatThrownBy(() -> ClassificationDataset.of(List.of(new int[]{1, 2}), new int[]{0}, 4, 0, 0, true, true, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("batchSize must be >= 1, got 0");
    }

    @Test
    void tokenRulesReadTheirPositions() {
        assertThat(TokenRule.LAST.positions(IDS, 2, 6, 39)).containsExactly(5, 5);
        assertThat(TokenRule.FLEXIBLE.positions(IDS, 2, 6, 39)).containsExactly(2, 5);
        assertThat(TokenRule.FIRST.positions(IDS, 2, 6, 39)).containsExactly(0, 0);
        assertThat(TokenRule.FLEXIBLE.positions(new int[]{39, 39}, 1, 2, 39)).containsExactly(1);
        // the classifier's logits at a rule's position equal the head applied to the full LM body there
        GPTClassifier c = tiny(TokenRule.FLEXIBLE, 3);
        try (GradMode g = GradMode.noGrad()) {
            float[] got = c.logits(IDS, 2, 6).data();
            Tensor states = c.transformer().finalNorm().forward(c.transformer().hidden(IDS, 2, 6)); // (2, 6, 12)
            float[] all = c.score().forward(states).data();                                       // (2, 6, 3)
            for (int k = 0; k < 3; k++) {
                assertThat(got[k]).isCloseTo(all[(0 * 6 + 2) * 3 + k], within(1e-6f));
                assertThat(got[3 + k]).isCloseTo(all[(1 * 6 + 5) * 3 + k], within(1e-6f));
            }
            // mean: the mean of the logits over all positions, pads included (the book's --average_embeddings)
            GPTClassifier m = GPTClassifier.of(c.transformer(), c.score().weight(), c.score().bias(), c.labels(), TokenRule.MEAN, 39);
            float[] mean = m.logits(IDS, 2, 6).data();
            for (int k = 0; k < 3; k++) {
                double s = 0;
                for (int t = 0; t < 6; t++) s += all[t * 3 + k];
                assertThat(mean[k]).isCloseTo((float) (s / 6), within(1e-5f));
            }
        }
    }

    @Test
    void loraStartsAsTheBaseAndMergesToTheSameLogits() {
        GPTClassifier c = tiny(TokenRule.LAST, 4);
        float[] base;
        try (GradMode g = GradMode.noGrad()) {
            base = c.logits(IDS, 2, 6).toArray();
        }
        LoRA lora = c.addLoRA(new LoRA.Settings(3, 6, LoRA.Scale.ALPHA_OVER_RANK), new Rng(5));
        try (GradMode g = GradMode.noGrad()) {
            assertThat(c.logits(IDS, 2, 6).toArray()).isEqualTo(base); // B = 0
        }
        // A uniform in ±1/√r
        for (float v : lora.layers().get("transformer.h.0.attn.c_attn").a(0).toArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo((float) (1 / Math.sqrt(3)));
        Rng r = new Rng(6);
        for (LoRALinear l : lora.layers().values()) {
            for (int i = 0; i < l.blocks(); i++) {
                float[] d = l.b(i).data();
                for (int j = 0; j < d.length; j++) d[j] = r.nextFloat() - 0.5f;
            }
        }
        float[] adapted, merged;
        try (GradMode g = GradMode.noGrad()) {
            adapted = c.logits(IDS, 2, 6).toArray();
            lora.merge(c.transformer());
            merged = c.logits(IDS, 2, 6).toArray();
        }
        assertThat(adapted).isNotEqualTo(base);
        float max = 0;
        for (float v : adapted) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < adapted.length; i++) assertThat(merged[i]).isCloseTo(adapted[i], within(1e-5f * max));
    }

    @Test
    void directoryRoundTripWithAndWithoutAdapter(@TempDir Path tmp) {
        GPTClassifier c = tiny(TokenRule.FLEXIBLE, 7);
        ClassifierStore.save(c, tmp.resolve("plain"));
        assertThat(ClassifierDirectory.isClassifier(tmp.resolve("plain"))).isTrue();
        GPTClassifier back = ClassifierStore.load(tmp.resolve("plain"), -1);
        assertThat(back.labels()).containsExactly("ham", "spam", "eggs");
        assertThat(back.tokenRule()).isEqualTo(TokenRule.FLEXIBLE);
        try (GradMode g = GradMode.noGrad()) {
            assertThat(back.logits(IDS, 2, 6).toArray()).isEqualTo(c.logits(IDS, 2, 6).toArray());
        }
        LoRA lora = c.addLoRA(new LoRA.Settings(2, 4, LoRA.Scale.ALPHA), new Rng(8));
        for (LoRALinear l : lora.layers().values()) l.b(l.blocks() - 1).data()[0] = 0.3f;
        ClassifierStore.save(c, tmp.resolve("lora"));
        assertThat(tmp.resolve("lora/adapter_model.safetensors")).exists();
        GPTClassifier withAdapter = ClassifierStore.load(tmp.resolve("lora"), -1);
        assertThat(withAdapter.lora().settings()).isEqualTo(lora.settings());
        try (GradMode g = GradMode.noGrad()) {
            assertThat(withAdapter.logits(IDS, 2, 6).toArray()).isEqualTo(c.logits(IDS, 2, 6).toArray());
        }
        // a classifier is not a language model, and a language model is not a classifier
        assertThatThrownBy(() -> ModelDirectory.load(tmp.resolve("plain")))
                .hasMessageContaining("sequence classifier").hasMessageNotContaining("\n");
        GPTModel lm = new GPTModel(TINY, 1);
        ModelDirectory.save(lm, tmp.resolve("lm"));
        assertThatThrownBy(() -> ClassifierStore.load(tmp.resolve("lm"), -1)).hasMessageContaining("is a language model, not a classifier");
    }

    @Test
    void untiedBodyLosesItsVocabularyHead() {
        GPTModel lm = RandomModels.uniform(TINY.withTiedHead(false), 9);
        GPTClassifier c = GPTClassifier.withNewHead(lm, List.of("a", "b"), false, TokenRule.LAST, 0, new Rng(1));
        assertThat(c.namedParameters().keySet()).noneMatch(n -> n.contains("lm_head")).contains("score.weight").doesNotContain("score.bias");
        assertThat(c.transformer().tokenEmbedding().weight().toArray()).isEqualTo(lm.tokenEmbedding().weight().toArray());
    }
}
