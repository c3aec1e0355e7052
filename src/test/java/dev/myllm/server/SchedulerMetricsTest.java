package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What {@code /metrics} shows stays consistent while the scheduler updates it: a scrape that sees a
 * cancelled sequence counted never sees it still holding its slot (a client that hung up used to
 * be counted before the active gauge dropped, and a scrape in between saw both), and a cancelled
 * request hears of it only once it is counted, whether it was dropped while running or from the
 * queue (a test that read the count as soon as the news came failed in the suite).
 */
class SchedulerMetricsTest {
    private static final Sampling SAMPLING = new Sampling(80, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);

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
        Scheduler s = new Scheduler(served, 4, 8, 64, metrics, line -> { });
        s.start();
        try {
            // on the scheduler thread, in the middle of a decode turn (the first token comes from
            // the prefill turn, before the gauge has counted the sequence): the client is gone
            Watching w = new Watching(metrics, served.vocabSize(), 3);
            s.submit(List.of(w.sequence));
            assertThat(w.failed.await(30, TimeUnit.SECONDS)).as("the sequence failed").isTrue();
            assertThat(w.message).isEqualTo("cancelled");
            assertThat(w.countedWhenFailed).isEqualTo(1);
            assertThat(activeWhenCounted).containsExactly(0.0);
        } finally {
            s.stop("done");
        }
    }

    @Test
    void aSequenceCancelledInTheQueueIsCountedBeforeItsRequestHearsOfIt() throws Exception {
        Metrics metrics = new Metrics();
        ServedModel served = TestServers.model(5);
        Scheduler s = new Scheduler(served, 4, 8, 64, metrics, line -> { });
        s.start();
        try {
            Watching w = new Watching(metrics, served.vocabSize(), 0);
            w.sequence.cancel(); // the client hung up before the scheduler took it in
            s.submit(List.of(w.sequence));
            assertThat(w.failed.await(30, TimeUnit.SECONDS)).as("the sequence failed").isTrue();
            assertThat(w.message).isEqualTo("cancelled");
            assertThat(w.countedWhenFailed).isEqualTo(1);
            assertThat(w.tokens).isZero();
        } finally {
            s.stop("done");
        }
    }

    /** One sequence whose listener cancels it at its {@code cancelAt}-th token (0: never) and notes the cancelled count when it fails. */
    private static final class Watching implements Sequence.Listener {
        final Sequence sequence;
        final CountDownLatch failed = new CountDownLatch(1);
        private final Metrics metrics;
        private final int cancelAt;
        volatile int tokens;
        volatile String message;
        volatile double countedWhenFailed = -1;

        Watching(Metrics metrics, int vocab, int cancelAt) {
            this.metrics = metrics;
            this.cancelAt = cancelAt;
            this.sequence = new Sequence(0, new int[] {11, 22, 33}, SAMPLING, vocab, this, false);
        }

        @Override
        public void token(Sequence s, int id, String text, Sequence.TokenLogprob logprob) {
            if (++tokens == cancelAt) s.cancel();
        }

        @Override
        public void promptToken(Sequence s, int id, Sequence.TokenLogprob logprob) {}

        @Override
        public void finished(Sequence s, String reason, String tail) {
            message = "finished: " + reason;
            failed.countDown();
        }

        @Override
        public void failed(Sequence s, String m) {
            countedWhenFailed = TestServers.metric(metrics.render(), "myllm_cancelled_sequences_total");
            message = m;
            failed.countDown();
        }
    }
}
