package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * What {@code /metrics} shows stays consistent while the scheduler updates it: a scrape that sees a
 * cancelled sequence counted never sees it still holding its slot (a client that hung up used to
 * be counted before the active gauge dropped, and a scrape in between saw both).
 */
class SchedulerMetricsTest {
    @Test
    void aCancelledSequenceHasLeftTheActiveGaugeWhenItIsCounted() throws Exception {
        List<Double> activeWhenCounted = new CopyOnWriteArrayList<>();
        Metrics metrics = new Metrics() {
            @Override
            void cancelled(int n) {
                if (n > 0) activeWhenCounted.add(TestServers.metric(render(), "myllm_active_sequences"));
                super.cancelled(n);
            }
        };
        ServedModel served = TestServers.model(5);
        Scheduler s = new Scheduler(served, 4, 8, 64, metrics);
        s.start();
        try {
            Sampling sampling = new Sampling(80, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);
            Call call = new Call(new Plan(false, new int[] {11, 22, 33}, null, sampling, 1, false, false, false), served.vocabSize());
            call.streamTo(new Call.Sink() {
                int tokens;

                @Override
                public void token(int index, int id, String text, Sequence.TokenLogprob logprob) {
                    // on the scheduler thread, in the middle of a decode turn (the first token comes
                    // from the prefill turn, before the gauge has counted the sequence): the client is gone
                    if (++tokens == 3) call.cancel();
                }

                @Override
                public void finished(int index, String reason, String tail) {}
            });
            s.submit(call.sequences);
            Call.Event e = call.next(30_000);
            assertThat(e).isNotNull();
            assertThat(e.error()).isEqualTo("cancelled");
            assertThat(TestServers.metric(metrics.render(), "myllm_cancelled_sequences_total")).isEqualTo(1);
            assertThat(activeWhenCounted).containsExactly(0.0);
        } finally {
            s.stop("done");
        }
    }
}
