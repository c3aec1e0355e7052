package dev.myllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.data.Batch;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer with a custom objective: the book's evaluation steps, per-epoch metrics, frozen parameters. */
class TrainerObjectiveTest {
    @Test
    void bookRuleEpochMetricsAndFrozenParameters(@TempDir Path tmp) throws Exception {
        GPTModel m = new GPTModel(new GPTConfig(29, 16, 16, 2, 2, 0f, true, true, 1e-5f), 3);
        m.setTrainable(false);
        m.block(1).setTrainable(true);
        m.finalNorm().setTrainable(true);
        Map<String, float[]> before = new HashMap<>();
        m.namedParameters().forEach((k, v) -> before.put(k, v.toArray()));
        int[] tok = TrainerTest.corpus();
        TokenWindows train = new TokenWindows(java.util.Arrays.copyOf(tok, 300), 4, 8, 8, true, 7); // 37 windows: 9 batches
        TokenWindows val = new TokenWindows(java.util.Arrays.copyOfRange(tok, 300, 400), 4, 8, 8, false, 0, false);
        AdamW opt = new AdamW(m.namedParameters(), AdamW.Options.book());
        int[] metricCalls = {0};
        Objective lm = new Objective() {
            @Override
            public Tensor loss(Batch b) {
                return Losses.batchLoss(m::forward, b);
            }

            @Override
            public Map<String, Double> metrics(List<Batch> batches, int n) {
                metricCalls[0]++;
                assertThat(m.isTraining()).isFalse();
                return Map.of("batches", (double) Math.min(n, batches.size()));
            }
        };
        List<Trainer.StepReport> reports = new ArrayList<>();
        long total = 2L * train.batchesPerEpoch();
        new Trainer(m, lm, new GptModelStore(m), opt, new LrSchedule.Constant(1e-3), train,
                new Trainer.Options(total, 1, 0, 4, 2, -1, 0, 1), tmp)
                .evaluation(val.first(0), train.first(3))
                .evalRule(Trainer.EvalRule.BOOK)
                .epochMetrics(2)
                .listener(new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport r) {
                        reports.add(r);
                    }
                })
                .run();
        assertThat(reports).hasSize(18);
        // the book's global_step % 4 == 0 with global_step = step - 1
        assertThat(reports.stream().filter(r -> !Double.isNaN(r.valLoss())).map(Trainer.StepReport::step))
                .containsExactly(1L, 5L, 9L, 13L, 17L);
        assertThat(reports.stream().filter(r -> !r.metrics().isEmpty()).map(Trainer.StepReport::step)).containsExactly(9L, 18L);
        assertThat(reports.get(8).metrics()).containsEntry("train_batches", 2.0).containsEntry("val_batches", 2.0);
        assertThat(metricCalls[0]).isEqualTo(4);
        // frozen: bitwise unchanged, no gradient buffer, no optimizer state
        for (var e : m.namedParameters().entrySet()) {
            boolean trains = e.getKey().startsWith("h.1.") || e.getKey().startsWith("ln_f.");
            if (trains) {
                assertThat(e.getValue().toArray()).as(e.getKey()).isNotEqualTo(before.get(e.getKey()));
            } else {
                assertThat(e.getValue().toArray()).as(e.getKey()).isEqualTo(before.get(e.getKey()));
                assertThat(e.getValue().grad()).as(e.getKey()).isNull();
            }
        }
        assertThat(opt.parameterNames()).allMatch(n -> n.startsWith("h.1.") || n.startsWith("ln_f."));
        assertThat(opt.stateTensors().keySet()).noneMatch(n -> n.startsWith("wte") || n.startsWith("h.0."));
        assertThat(Files.exists(tmp.resolve("latest"))).isTrue();
    }

    @Test
    void extraMetricsRoundTripThroughTheLog(@TempDir Path tmp) {
        Path f = tmp.resolve("m.jsonl");
        try (MetricsLog log = MetricsLog.open(f, 0)) {
            log.add(new MetricsLog.Point(1, 2.0, 1e-3, 10, 1, 1.5, 1.6, Map.of("val_accuracy", 0.75)));
            log.add(new MetricsLog.Point(2, 1.0, 1e-3, 20, 1, Double.NaN, Double.NaN));
        }
        try (MetricsLog back = MetricsLog.open(f, 2)) {
            assertThat(back.points().get(0).metrics()).containsEntry("val_accuracy", 0.75);
            assertThat(back.points().get(1).metrics()).isEmpty();
        }
    }
}
