package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
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
 * A scheduler turn that throws (a bug, or running out of memory in the middle of a step) fails the
 * sequences it was running and nothing else: their caches go back to the pool, the active gauge
 * drops and the failure is counted before their requests hear of it, the client gets OpenAI's 500
 * without the exception's text (the server's log has it), and the next request gets the very
 * tokens it got before the failure. The failure comes from the model's own seam, a head adapter
 * ({@link dev.myllm.model.GPTModel#setHeadAdapter}) that throws at a chosen call.
 */
class SchedulerFailureTest {
    private static final Sampling SAMPLING = new Sampling(6, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);
    private static final int[] PROMPT = {11, 22, 33, 44};

    @Test
    void aFailedTurnFreesItsSequencesCachesAndCountsThemBeforeTheyHear() throws Exception {
        Metrics metrics = new Metrics();
        ServedModel served = TestServers.model(5);
        FailingHead head = FailingHead.on(served);
        List<String> log = new CopyOnWriteArrayList<>();
        Scheduler s = new Scheduler(served, 4, 8, 64, metrics, log::add);
        s.start();
        try {
            Watching before = Watching.run(s, metrics, served, 1).getFirst();
            assertThat(before.outcome).isEqualTo("finished: length");
            assertThat(before.tokens).hasSize(6);

            // the prefill's head is call 1, the first decode step's call 2: the second decode step throws
            head.failAt(3);
            List<Watching> failed = Watching.run(s, metrics, served, 2);
            for (Watching w : failed) {
                assertThat(w.outcome).isEqualTo("failed: " + Scheduler.INTERNAL_ERROR);
                assertThat(w.tokens).hasSize(2); // one from the prefill, one from the first decode step
                assertThat(w.activeWhenTold).as("active gauge when the request heard").isZero();
                //Y
            }
            assertThat(s.cachesInUse()).as("caches not given back").isZero();
            assertThat(s.activeCount()).isZero();
            assertThat(log).hasSize(1);
            assertThat(log.getFirst()).startsWith("scheduler: a turn failed, 2 sequences with it: ")
                    .contains("java.lang.IllegalStateException: injected failure at ");

            // running out of memory in the middle of a step is caught the same way (the arena's
            // pooled buffers go back to the heap): here in the prefill, before any token
            head.failAt(1, new OutOfMemoryError("injected: Java heap space"));
            for (Watching w : Watching.run(s, metrics, served, 3)) {
                assertThat(w.outcome).isEqualTo("failed: " + Scheduler.INTERNAL_ERROR);
                assertThat(w.tokens).isEmpty();
                assertThat(w.activeWhenTold).isZero();
                assertThat(w.failedWhenTold).isEqualTo(5);
            }
            assertThat(s.cachesInUse()).isZero();
            assertThat(log).hasSize(2);
            assertThat(log.getLast()).startsWith("scheduler: a turn failed, 3 sequences with it: java.lang.OutOfMemoryError: injected");

            Watching after = Watching.run(s, metrics, served, 1).getFirst();
            assertThat(after.outcome).isEqualTo("finished: length");
            assertThat(after.tokens).isEqualTo(before.tokens);
            // a sequence hears of its end in the middle of its turn, before the turn gives its cache
            // back and then sets the gauge: once the gauge is 0, no cache is out
            long end = System.nanoTime() + 10_000_000_000L;
            while (TestServers.metric(metrics.render(), "myllm_active_sequences") != 0 && System.nanoTime() < end) Thread.sleep(5);
            assertThat(TestServers.metric(metrics.render(), "myllm_active_sequences")).isZero();
            assertThat(s.cachesInUse()).isZero();
            assertThat(TestServers.metric(metrics.render(), "myllm_failed_sequences_total")).isEqualTo(5);
            assertThat(TestServers.metric(metrics.render(), "myllm_cancelled_sequences_total")).isZero();
        } finally {
            s.stop("done");
        }
    }

    @Test
    void aListenerThatThrowsFailsTheTurnAndTheCacheOfASequenceThatFinishedInItComesBackToo() throws Exception {
        Metrics metrics = new Metrics();
        ServedModel served = TestServers.model(7);
        List<String> log = new CopyOnWriteArrayList<>();
        Scheduler s = new Scheduler(served, 4, 8, 64, metrics, log::add);
        s.start();
        try {
            // in the second decode step (fewer than 4 sequences: picked in order on the scheduler
            // thread) the first finishes at its third token, then the second's listener throws at its own
            Watching done = new Watching(metrics, served.vocabSize(), new Sampling(3, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true), 0);
            Watching throwing = new Watching(metrics, served.vocabSize(), SAMPLING, 3);
            assertThat(s.submit(List.of(done.sequence, throwing.sequence))).isEqualTo(Scheduler.Refusal.NONE);
            assertThat(throwing.ended.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(done.outcome).isEqualTo("finished: length");
            assertThat(throwing.outcome).isEqualTo("failed: " + Scheduler.INTERNAL_ERROR);
            assertThat(throwing.tokens).hasSize(2); // the third was the one its listener threw at
            assertThat(throwing.activeWhenTold).isZero();
            assertThat(s.cachesInUse()).as("caches not given back").isZero();
            assertThat(log).singleElement().matches(l -> l.startsWith("scheduler: a turn failed, 1 sequence with it: ")
                    && l.contains("listener failed"), "the log line");
        } finally {
            s.stop("done");
        }
    }

    @Test
    void aClientOfAFailedTurnGetsOpenAisServerErrorAndTheServerGoesOn() throws Exception {
        ServedModel served = TestServers.model(6);
        FailingHead head = FailingHead.on(served);
        String body = "{\"prompt\":\"The cat sat\",\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true,\"n\":2";
        try (TestServers.Running srv = TestServers.start(served, ServerConfig.defaults())) {
            var first = TestServers.post(srv.base() + "/v1/completions", body + "}", null);
            assertEquals(200, first.statusCode(), first.body());
            JsonNode want = TestServers.json(first).get("choices");

            head.failAt(3);
            var whole = TestServers.post(srv.base() + "/v1/completions", body + "}", null);
            assertEquals(500, whole.statusCode(), whole.body());
            assertServerError(TestServers.json(whole).get("error"));
            // the request's log line says it was an internal error; the scheduler's line says which
            awaitLine(srv, l -> l.startsWith("POST /v1/completions 500 ") && l.endsWith(" internal_error"));
            assertThat(srv.log()).anyMatch(l -> l.startsWith("scheduler: a turn failed, 2 sequences")
                    && l.contains("injected failure"));
            String metrics = TestServers.get(srv.base() + "/metrics", null).body();
            assertThat(TestServers.metric(metrics, "myllm_active_sequences")).isZero();
            assertThat(TestServers.metric(metrics, "myllm_failed_sequences_total")).isEqualTo(2);

            // a stream has its status line already: the error comes as an event before [DONE]
            head.failAt(3);
            var stream = TestServers.post(srv.base() + "/v1/completions", body + ",\"stream\":true}", null);
            assertEquals(200, stream.statusCode());
            assertThat(stream.body()).endsWith("data: [DONE]\n\n");
            String[] events = stream.body().split("\n\n");
            String last = events[events.length - 2];
            assertThat(last).startsWith("data: ");
            assertServerError(TestServers.JSON.readTree(last.substring("data: ".length())).get("error"));

            // any other request that fails inside the server answers the same way, its line in the log naming the exception
            head.failAt(1);
            var inspect = TestServers.post(srv.base() + "/v1/inspect", "{\"ids\":[11,22,33],\"top_k\":3}", null);
            assertEquals(500, inspect.statusCode(), inspect.body());
            assertServerError(TestServers.json(inspect).get("error"));
            awaitLine(srv, l -> l.startsWith("POST /v1/inspect 500 ")
                    && l.contains(" internal_error: java.lang.IllegalStateException: injected failure at "));

            var again = TestServers.post(srv.base() + "/v1/completions", body + "}", null);
            assertEquals(200, again.statusCode(), again.body());
            JsonNode got = TestServers.json(again).get("choices");
            for (int i = 0; i < 2; i++) assertThat(got.get(i).get("text").asText()).isEqualTo(want.get(i).get("text").asText());
            // a finished answer can reach its client before the scheduler's turn ends and sets the gauge
            awaitMetric(srv, "myllm_active_sequences", 0);
            metrics = TestServers.get(srv.base() + "/metrics", null).body();
            assertThat(TestServers.metric(metrics, "myllm_active_sequences")).isZero();
            assertThat(TestServers.metric(metrics, "myllm_failed_sequences_total")).isEqualTo(4);
        }
    }

    /** Waits up to 10 s for a gauge of {@code /metrics} to read {@code value}. */
    private static void awaitMetric(TestServers.Running srv, String name, double value) throws Exception {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end && TestServers.metric(TestServers.get(srv.base() + "/metrics", null).body(), name) != value) Thread.sleep(10);
    }

    /** Waits for a log line (a request's line comes after its answer has gone). */
    private static void awaitLine(TestServers.Running srv, java.util.function.Predicate<String> line) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end && srv.log().stream().noneMatch(line)) Thread.sleep(10);
        assertThat(srv.log()).anyMatch(line);
    }

    /** OpenAI's shape of a 500, naming no exception. */
    private static void assertServerError(JsonNode error) {
        assertThat(error.get("type").asText()).isEqualTo("server_error");
        assertThat(error.get("code").asText()).isEqualTo("internal_error");
        assertThat(error.get("message").asText()).contains("internal error").doesNotContain("injected")
                .doesNotContain("Exception").doesNotContain("java.");
    }

    /** A head adapter that adds nothing to the logits until its armed call, which throws. */
    static final class FailingHead implements UnaryOperator<Tensor> {
        private final AtomicInteger countdown = new AtomicInteger();
        private volatile Throwable failure;
        private final int vocab;

        private FailingHead(int vocab) {
            this.vocab = vocab;
        }

        /** Installed on {@code served}'s model, before its scheduler thread starts. */
        static FailingHead on(ServedModel served) {
            FailingHead h = new FailingHead(served.vocabSize());
            served.model().setHeadAdapter(h);
            return h;
        }

        /** The {@code calls}-th call of the head from now throws an IllegalStateException (only that one). */
        void failAt(int calls) {
            failAt(calls, new IllegalStateException("injected failure"));
        }

        /** The {@code calls}-th call of the head from now throws {@code e} (only that one). */
        void failAt(int calls, Throwable e) {
            failure = e;
            countdown.set(calls);
        }

        @Override
        public Tensor apply(Tensor x) {
            if (countdown.get() > 0 && countdown.decrementAndGet() == 0) {
                if (failure instanceof Error e) throw e;
                throw (RuntimeException) failure;
            }
            return TestServers.zeroLogits(x, vocab);
        }
    }

    /** One sequence's tokens and how it ended, with the gauge and the failure count as its listener heard of the end. */
    private static final class Watching implements Sequence.Listener {
        final Sequence sequence;
        final List<Integer> tokens = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        private final Metrics metrics;
        volatile String outcome;
        volatile double activeWhenTold = -1, failedWhenTold = -1;

        private final int throwAt;

        Watching(Metrics metrics, int vocab) {
            this(metrics, vocab, SAMPLING, 0);
        }

        /** Its listener throws at its {@code throwAt}-th token (0: never), as a buggy listener would. */
        Watching(Metrics metrics, int vocab, Sampling sampling, int throwAt) {
            this.metrics = metrics;
            this.throwAt = throwAt;
            this.sequence = new Sequence(0, PROMPT, sampling, vocab, this, false);
        }

        /** Runs {@code n} sequences of the same prompt, submitted together, to their ends. */
        static List<Watching> run(Scheduler s, Metrics metrics, ServedModel served, int n) throws InterruptedException {
            List<Watching> ws = new ArrayList<>();
            List<Sequence> seqs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Watching w = new Watching(metrics, served.vocabSize());
                ws.add(w);
                seqs.add(w.sequence);
            }
            assertThat(s.submit(seqs)).isEqualTo(Scheduler.Refusal.NONE);
            for (Watching w : ws) assertThat(w.ended.await(30, TimeUnit.SECONDS)).as("the sequence ended").isTrue();
            return ws;
        }

        @Override
        public void token(Sequence s, int id, String text, Sequence.TokenLogprob logprob) {
            if (tokens.size() + 1 == throwAt) throw new IllegalStateException("listener failed");
            tokens.add(id);
        }

        @Override
        public void promptToken(Sequence s, int id, Sequence.TokenLogprob logprob) {}

        @Override
        public void finished(Sequence s, String reason, String tail) {
            outcome = "finished: " + reason;
            ended.countDown();
        }

        @Override
        public void failed(Sequence s, String m) {
            String text = metrics.render();
            activeWhenTold = TestServers.metric(text, "myllm_active_sequences");
            failedWhenTold = TestServers.metric(text, "myllm_failed_sequences_total");
            outcome = "failed: " + m;
            ended.countDown();
        }
    }
}
