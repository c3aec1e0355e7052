package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    static final int STEPS = 6;

    static int[] corpus() {
        Rng r = new Rng(5);
        int[] t = new int[400];
        for (int i = 0; i < t.length; i++) t[i] = i % 7 == 0 ? 3 : r.nextInt(29); // a learnable pattern plus noise
        return t;
    }

    /** A trainer on a fresh model; model weights start from {@code initSeed}. */
    static Trainer trainer(Path dir, long initSeed, List<Double> losses, long stopAt) {
        GPTModel m = new GPTModel(new GPTConfig(29, 16, 16, 2, 2, 0.1f, true, true, 1e-5f), initSeed);
        Rng dropout = m.dropoutRng();
        dropout.setState(new Rng(99).state()); // same dropout stream whatever the init seed
        int[] tok = corpus();
        TokenWindows train = new TokenWindows(java.util.Arrays.copyOf(tok, 300), 2, 8, 5, true, 7);
        TokenWindows val = new TokenWindows(java.util.Arrays.copyOfRange(tok, 300, 400), 2, 8, 8, false, 0);
        AdamW opt = new AdamW(m.namedParameters(), new AdamW.Options(0.9, 0.95, 1e-8, 0.1, AdamW.Decay.MATRICES));
        Trainer[] self = new Trainer[1];
        self[0] = new Trainer(m, m::forward, new GptModelStore(m), opt, new LrSchedule.WarmupCosine(3e-3, 1e-4, 1e-4, 2, STEPS), train,
                new Trainer.Options(STEPS, 2, 1.0, 2, 2, 0, 2, 2), dir)
                .evaluation(val.first(2), train.first(2)).rng("dropout", dropout)
                .listener(new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        losses.add(r.loss());
                        if (r.step() == stopAt) self[0].requestStop();
                    }
                });
        return self[0];
    }

    @Test
    void resumedRunGivesBitwiseIdenticalLosses(@TempDir Path tmp) throws Exception {
        List<Double> full = new ArrayList<>();
        trainer(tmp.resolve("a"), 1, full, -1).run();
        assertThat(full).hasSize(STEPS);
        assertThat(full.getLast()).isLessThan(full.getFirst());

        List<Double> resumed = new ArrayList<>();
        Path b = tmp.resolve("b");
        Path cp = trainer(b, 1, resumed, STEPS / 2).run();
        assertThat(cp.getFileName().toString()).isEqualTo("step-000003");
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1); // and on another thread count
            trainer(b, 12345, resumed, -1).resume(b).run();
        } finally {
            Parallel.setThreads(before);
        }
        assertThat(resumed).containsExactlyElementsOf(full);
        assertThat(Checkpoints.readState(Checkpoints.resolve(b))).containsEntry("step", STEPS);
        assertThat(b.resolve("model/model.safetensors")).exists();
        // the final weights agree bitwise too
        assertThat(Files.readAllBytes(b.resolve("model/model.safetensors")))
                .isEqualTo(Files.readAllBytes(tmp.resolve("a/model/model.safetensors")));
    }

    @Test
    void aBrokenTrainerStateIsOneLineNamingItOnce(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve(Checkpoints.STATE);
        // Jackson reading the file itself: "cannot read FILE: Unexpected character ... [Source: REDACTED ...]"
        Files.writeString(f, "{\"step\": 4,");
        assertBrokenState(tmp, f + ": not valid JSON: Unexpected end-of-input");
        Files.write(f, new byte[]{'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        assertBrokenState(tmp, f + ": cannot read: not UTF-8 text");
        Files.writeString(f, "[4]");
        assertBrokenState(tmp, f + ": not a JSON object");
        Files.delete(f);
        assertBrokenState(tmp, f + ": cannot read: no such file or directory");
        Files.writeString(f, "{\"step\": 4}");
        assertThat(Checkpoints.readState(tmp)).containsEntry("step", 4);
    }

    private static void assertBrokenState(Path checkpoint, String message) {
        assertThatThrownBy(() -> Checkpoints.readState(checkpoint)).hasMessageStartingWith(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("[Source")
                        .containsOnlyOnce(checkpoint.resolve(Checkpoints.STATE).toString()));
    }

    @Test
    void crashWhileSavingLeavesPreviousCheckpoint(@TempDir Path tmp) {
        Trainer t = trainer(tmp, 1, new ArrayList<>(), -1);
        int[] saves = {0};
        t.saveMidway = () -> {
            if (++saves[0] == 2) throw new IllegalStateException("killed halfway through saving");
        };
        assertThatThrownBy(t::run).hasMessageContaining("killed halfway");
        assertThat(Checkpoints.resolve(tmp).getFileName().toString()).isEqualTo("step-000002");
        assertThat(tmp.resolve("step-000004")).doesNotExist();
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".tmp"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // and the survivor resumes
        List<Double> rest = new ArrayList<>();
        trainer(tmp, 3, rest, -1).resume(tmp).run();
        assertThat(rest).hasSize(STEPS - 2);
    }

    @Test
    void deadlineStopsEvaluatesAndSaves(@TempDir Path tmp) {
        List<Trainer.StepReport> reports = new ArrayList<>();
        Trainer t = trainer(tmp, 1, new ArrayList<>(), -1).stopAt(System.nanoTime());
        t.listener(new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                reports.add(r);
            }
        });
        Path cp = t.run();
        assertThat(reports).hasSize(1);
        assertThat(reports.getFirst().valLoss()).isFinite();
        assertThat(cp.getFileName().toString()).isEqualTo("step-000001");
    }

    @Test
    void verdictGivesChapterFiveBatches() {
        // the book: split the-verdict 90/10 by characters, context 256, stride 256, batch 2:
        // 9 training batches (drop_last) and 1 validation batch (drop_last=False)
        var tok = dev.myllm.tokenizer.BpeTokenizer.gpt2();
        var split = dev.myllm.data.Splits.text(dev.myllm.tokenizer.Tokenizers.verdictText(), 0.9);
        TokenWindows train = new TokenWindows(tok.encode(split.train()), 2, 256, 256, true, 123);
        TokenWindows val = new TokenWindows(tok.encode(split.validation()), 2, 256, 256, false, 0, false);
        assertThat(train.batchesPerEpoch()).isEqualTo(9);
        assertThat(val.batchesPerEpoch()).isEqualTo(1);
        assertThat(train.batch(0, 8).inputs()).hasSize(2 * 256);
        assertThat(val.batch(0, 0).rows()).isEqualTo(2); // the book: "Validation tokens: 512"
    }

    @Test
    void replanDuringWarmupChangesLengthButNotTheWarmupRates(@TempDir Path tmp) {
        List<Trainer.StepReport> reports = new ArrayList<>();
        Trainer[] t = {trainer(tmp, 1, new ArrayList<>(), -1)};
        t[0].commandOptions(java.util.Map.of("steps", STEPS));
        t[0].listener(new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                reports.add(r);
                if (r.step() == 1) t[0].replan(4, new LrSchedule.WarmupCosine(3e-3, 1e-4, 1e-4, 2, 4));
            }
        });
        t[0].run();
        assertThat(reports).extracting(Trainer.StepReport::totalSteps).containsExactly((long) STEPS, 4L, 4L, 4L);
        // warmup rates are those of the first plan; then the new cosine: lr(3) = min + (peak-min)·(1+cos(π/2))/2
        assertThat(reports.get(1).lr()).isEqualTo(new LrSchedule.WarmupCosine(3e-3, 1e-4, 1e-4, 2, STEPS).lr(1));
        assertThat(reports.get(3).lr()).isCloseTo(1e-4 + 2.9e-3 * 0.5, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(Checkpoints.readState(Checkpoints.resolve(tmp)).get("options")).isEqualTo(java.util.Map.of("steps", 4));
    }

    @Test
    void windowCountsFollowTheBook() {
        // range(0, n - T, stride): 4,609 tokens give 18 windows of 256, so 9 batches of 2; 4,608 give 17, so 8
        assertThat(new TokenWindows(new int[4609], 2, 256, 256, true, 123).batchesPerEpoch()).isEqualTo(9);
        assertThat(new TokenWindows(new int[4608], 2, 256, 256, true, 123).batchesPerEpoch()).isEqualTo(8);
        // B·T+1 tokens with stride T is exactly one batch, and its targets are the inputs shifted by one
        int[] t = new int[4 * 64 + 1];
        for (int i = 0; i < t.length; i++) t[i] = i;
        TokenWindows w = new TokenWindows(t, 4, 64, 64, false, 0);
        assertThat(w.batchesPerEpoch()).isEqualTo(1);
        Batch b = w.batch(0, 0);
        assertThat(b.inputs()[64]).isEqualTo(64);
        assertThat(b.targets()[255]).isEqualTo(256);
    }
}
