package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.train.LanguageModel;
import dev.myllm.train.MemoryEstimate;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The fine-tunings' memory estimate is a lower bound of what a real step holds, and the refusal it gives. */
class FineTuningMemoryTest {
    /** The shapes measured: small, and wider with dropout, an untied head and more layers. */
    private static final GPTConfig[] SHAPES = {new GPTConfig(500, 64, 64, 4, 2, 0f, true, true, 1e-5f),
            new GPTConfig(300, 128, 96, 4, 3, 0.1f, true, false, 1e-5f)};
    private static final int B = 3, T = 40;

    private static int[] ids(GPTConfig cfg, int n, long seed) {
        Rng r = new Rng(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(cfg.vocabSize());
        return ids;
    }

    /** The arena's peak over one forward and backward of {@code loss}. */
    private static long peak(Supplier<Tensor> loss) {
        try (Arena a = Arena.open()) {
            loss.get().backward();
            return a.peakFloats();
        }
    }

    private static GPTModel model(GPTConfig cfg) {
        GPTModel m = new GPTModel(cfg, 1);
        m.train(true);
        return m;
    }

    private static void assertLowerBound(GPTConfig cfg, FineTuningMemory.Kind kind, Trainable what, long measuredFloats) {
        long estimated = FineTuningMemory.estimate(cfg, kind, what, B, T, false).activationBytes() / Float.BYTES;
        // at most what the step holds, and not so far below that it says nothing
        assertThat((double) estimated).as("%s %s %s: measured %d floats", cfg, kind, what, measuredFloats).isBetween(0.5 * measuredFloats, 1.0 * measuredFloats);
    }

    @Test
    void instructionTuningEstimateIsAtMostTheMeasuredPeak() {
        for (GPTConfig cfg : SHAPES) instruct(cfg);
    }

    private static void instruct(GPTConfig cfg) {
        int[] targets = ids(cfg, B * T, 3);
        for (int i = 0; i < targets.length; i += 2) targets[i] = -100; // half the positions without a target
        for (Trainable what : new Trainable[]{Trainable.ALL, Trainable.LAST_BLOCK, Trainable.LORA}) {
            GPTModel m = model(cfg);
            if (what == Trainable.LORA) LoRAModel.attach(m, new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), 2);
            what.apply(m);
            Batch b = new Batch(ids(cfg, B * T, 2), targets, B, T);
            assertLowerBound(cfg, FineTuningMemory.Kind.INSTRUCT, what, peak(() -> new InstructionLoss(m).loss(b)));
        }
    }

    @Test
    void classifierEstimateIsAtMostTheMeasuredPeak() {
        for (GPTConfig cfg : SHAPES) classifier(cfg);
    }

    private static void classifier(GPTConfig cfg) {
        for (Trainable what : new Trainable[]{Trainable.ALL, Trainable.LAST_BLOCK, Trainable.HEAD, Trainable.LORA}) {
            GPTClassifier c = GPTClassifier.withNewHead(model(cfg), List.of("a", "b"), true, TokenRule.LAST, 0, new Rng(4));
            if (what == Trainable.LORA) c.addLoRA(new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), new Rng(5));
            what.apply(c);
            c.train(true);
            Batch b = new Batch(ids(cfg, B * T, 2), new int[]{0, 1, 1}, B, T);
            long measured = peak(() -> new ClassificationObjective(c).loss(b));
            if (what == Trainable.HEAD) {
                // backward stays in the head: the forward's activations are all the arena holds
                assertThat(FineTuningMemory.estimate(cfg, FineTuningMemory.Kind.CLASSIFIER, what, B, T, false).activationBytes() / Float.BYTES)
                        .isLessThanOrEqualTo(measured);
            } else {
                assertLowerBound(cfg, FineTuningMemory.Kind.CLASSIFIER, what, measured);
            }
        }
    }

    @Test
    void dpoEstimateIsAtMostTheMeasuredPeak() {
        for (GPTConfig cfg : SHAPES) dpo(cfg);
    }

    private static void dpo(GPTConfig cfg) {
        int n = B * T;
        boolean[] mask = new boolean[n];
        for (int i = 0; i < n; i++) mask[i] = i % T > T / 2;
        PreferenceBatch p = new PreferenceBatch(ids(cfg, n, 6), ids(cfg, n, 7), mask, mask, B, T);
        for (Trainable what : new Trainable[]{Trainable.ALL, Trainable.LORA}) {
            GPTModel policy = model(cfg);
            LoRAModel lora = what == Trainable.LORA ? LoRAModel.attach(policy, new LoRA.Settings(4, 8, LoRA.Scale.ALPHA_OVER_RANK), 2) : null;
            LanguageModel reference = PreferenceTuning.reference(lora, () -> new GPTModel(cfg, 1));
            what.apply(policy);
            float[][] ref = DpoLoss.reference(reference, p);
            assertLowerBound(cfg, FineTuningMemory.Kind.DPO, what, peak(() -> DpoLoss.batch(LanguageModel.of(policy), ref, p, 0.1, 0).loss()));
        }
    }

    @Test
    void parameterStateCountsWhatTrainsAndDposReferenceCopy() {
        GPTConfig large = GPTConfig.preset("gpt2-large");
        long p = large.parameterCount();
        MemoryEstimate all = FineTuningMemory.estimate(large, FineTuningMemory.Kind.INSTRUCT, Trainable.ALL, 8, 0, false);
        assertThat(all.weightBytes() + all.optimizerBytes()).isEqualTo(16 * p); // weights, gradients, two moments
        assertThat(all.activationBytes()).isZero();
        MemoryEstimate lora = FineTuningMemory.estimate(large, FineTuningMemory.Kind.INSTRUCT, Trainable.LORA, 8, 0, false);
        assertThat(lora.weightBytes()).isEqualTo(4 * p);
        assertThat(lora.optimizerBytes()).isZero();
        assertThat(FineTuningMemory.estimate(large, FineTuningMemory.Kind.DPO, Trainable.ALL, 8, 0, false).weightBytes()).isEqualTo(12 * p);
        assertThat(FineTuningMemory.estimate(large, FineTuningMemory.Kind.DPO, Trainable.LORA, 8, 0, false).weightBytes()).isEqualTo(4 * p);
    }

    @Test
    void aSmallRunThatRanInASmallHeapIsNotRefusedThere() {
        // finetune instruct, classify and dpo of gpt2-tiny ran in -Xmx200m (train's 192 MiB margin refused them)
        GPTConfig tiny = GPTConfig.preset("gpt2-tiny");
        FineTuningMemory.Names names = new FineTuningMemory.Names("b", "l", "lora", "heap");
        assertThat(FineTuningMemory.refusal(tiny, FineTuningMemory.Kind.INSTRUCT, Trainable.ALL, 8, 64, false, 200L << 20, names)).isNull();
        assertThat(FineTuningMemory.refusal(tiny, FineTuningMemory.Kind.CLASSIFIER, Trainable.ALL, 8, 13, false, 200L << 20, names)).isNull();
    }

    @Test
    void refusalNamesTheBatchTheHeapAndWhatToChange() {
        FineTuningMemory.Names cli = new FineTuningMemory.Names("--batch-size", "--max-length", "--trainable lora", "give Java more memory");
        GPTConfig large = GPTConfig.preset("gpt2-large");
        long heap = 6L << 30;
        assertThat(FineTuningMemory.refusal(large, FineTuningMemory.Kind.INSTRUCT, Trainable.LORA, 8, 0, false, heap, cli)).isNull();
        assertThat(FineTuningMemory.refusal(large, FineTuningMemory.Kind.INSTRUCT, Trainable.ALL, 8, 0, false, heap, cli))
                .startsWith("fine-tuning every weight before its first batch needs 11.")
                .endsWith(" but the Java heap is 6.0 GiB; train fewer weights (--trainable lora), or give Java more memory");
        assertThat(FineTuningMemory.refusal(large, FineTuningMemory.Kind.DPO, Trainable.LORA, 64, 1024, false, heap, cli))
                .startsWith("batch 64 × 1024 needs ")
                .endsWith("; lower --batch-size or --max-length, or give Java more memory")
                .doesNotContain("\n");
    }
}
