package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Stopping the scheduler while a turn is still running (a long prefill, a slow machine) leaves the
 * running sequences to the scheduler thread: they hear of the stop once the turn is over, each
 * exactly once and never before a token of that turn, and their caches go back to the pool; a
 * queued one hears of it too. The turn is held by a head adapter that blocks at a chosen call.
 */
class SchedulerStopTest {
    private static final Sampling SAMPLING = new Sampling(40, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);
    private static final int[] PROMPT = {11, 22, 33, 44};

    @Test
    void aStopDuringALongTurnEndsItsSequencesAfterTheTurnOnTheSchedulerThread() throws Exception {
        Metrics metrics = new Metrics();
        ServedModel served = TestServers.model(5);
        BlockingHead head = new BlockingHead(served.vocabSize());
        served.model().setHeadAdapter(head);
        List<String> log = new CopyOnWriteArrayList<>();
        Scheduler s = new Scheduler(served, 2, 8, 64, metrics, log::add);
        s.start();
        try {
            head.blockAt(3); // the prefill's head is call 1, the first decode step's call 2
            List<Watching> running = List.of(new Watching(metrics, served), new Watching(metrics, served));
            assertThat(s.submit(running.stream().map(w -> w.sequence).toList())).isEqualTo(Scheduler.Refusal.NONE);
            assertThat(head.entered.await(30, TimeUnit.SECONDS)).as("the second decode step started").isTrue();
            Watching queued = new Watching(metrics, served); // no free slot: it waits
            assertThat(s.submit(List.of(queued.sequence))).isEqualTo(Scheduler.Refusal.NONE);

            s.stop("bye", 100); // the turn goes on: stop returns without ending anything itself
            for (Watching w : running) assertThat(w.outcome).as("told while its turn still ran").isNull();
            assertThat(queued.outcome).isNull();

            head.release.countDown();
            for (Watching w : List.of(running.get(0), running.get(1), queued)) {
                assertThat(w.ended.await(30, TimeUnit.SECONDS)).as("the sequence heard of the stop").isTrue();
            }
            for (Watching w : running) {
                assertThat(w.outcome).isEqualTo("failed: bye");
                assertThat(w.tokens).as("the prefill's, the first decode step's and the held turn's").hasSize(3);
                assertThat(w.activeWhenTold).as("active gauge when the request heard").isZero();
            }
            assertThat(queued.outcome).isEqualTo("failed: bye");
            assertThat(queued.tokens).isEmpty();
            assertThat(s.cachesInUse()).as("caches not given back").isZero();
            assertThat(s.activeCount()).isZero();
            Thread.sleep(50); // (anything told twice, or a token after the end, would come now)
            for (Watching w : List.of(running.get(0), running.get(1), queued)) {
                assertThat(w.ends.get()).as("ends heard").isEqualTo(1);
                assertThat(w.tokenAfterEnd).isFalse();
            }
            assertThat(log).isEmpty();
        } finally {
            head.release.countDown();
            s.stop("done");
        }
    }

    /** A head adapter that adds nothing to the logits and, at its armed call, waits for {@link #release}. */
    static final class BlockingHead implements UnaryOperator<Tensor> {
        final CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        private final AtomicInteger countdown = new AtomicInteger();
        private final int vocab;

        BlockingHead(int vocab) {
            this.vocab = vocab;
        }

        void blockAt(int calls) {
            countdown.set(calls);
        }

        @Override
        public Tensor apply(Tensor x) {
            if (countdown.get() > 0 && countdown.decrementAndGet() == 0) {
                entered.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return TestServers.zeroLogits(x, vocab);
        }
    }

    /** One sequence's tokens, how it ended (and how often), with the active gauge as it heard of its end. */
    private static final class Watching implements Sequence.Listener {
        final Sequence sequence;
        final List<Integer> tokens = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        final AtomicInteger ends = new AtomicInteger();
        private final Metrics metrics;
        volatile String outcome;
        volatile double activeWhenTold = -1;
        volatile boolean tokenAfterEnd;

        Watching(Metrics metrics, ServedModel served) {
            this.metrics = metrics;
            this.sequence = new Sequence(0, PROMPT, SAMPLING, served.vocabSize(), this, false);
        }

        @Override
        public void token(Sequence s, int id, String text, Sequence.TokenLogprob logprob) {
            if (ends.get() > 0) tokenAfterEnd = true;
            tokens.add(id);
        }

        @Override
        public void promptToken(Sequence s, int id, Sequence.TokenLogprob logprob) {}

        @Override
        public void finished(Sequence s, String reason, String tail) {
            outcome = "finished: " + reason;
            ends.incrementAndGet();
            ended.countDown();
        }

        @Override
        public void failed(Sequence s, String m) {
            activeWhenTold = TestServers.metric(metrics.render(), "myllm_active_sequences");
            outcome = "failed: " + m;
            ends.incrementAndGet();
            ended.countDown();
        }
    }
}
