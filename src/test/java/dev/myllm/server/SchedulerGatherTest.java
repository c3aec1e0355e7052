package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An idle scheduler does not start on the first prompt of a burst while another request is still
 * being read ({@link Scheduler#arriving()}): both prompts go through the model in one prefill pass,
 * and their tokens are what each gives alone.
 */
class SchedulerGatherTest {
    private static Call call(int[] prompt, int maxTokens, int vocab) {
        Sampling s = new Sampling(maxTokens, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, true);
        return new Call(new Plan(false, prompt, null, s, 1, false, false, false), vocab);
    }

    private static List<Integer> tokens(Call c) throws InterruptedException {
        List<Integer> ids = new ArrayList<>();
        for (Call.Event e; (e = c.next(30_000)) != null; ) {
            assertThat(e.error()).isNull();
            if (e.finish() != null) break;
            ids.add(e.id());
        }
        return ids;
    }

    @Test
    void aRequestStillBeingReadJoinsThePrefillPassOfTheOneBeforeIt() throws Exception {
        ServedModel served = TestServers.model(5);
        int vocab = served.vocabSize();
        int[] p1 = {11, 22, 33, 44, 55}, p2 = {7, 8, 9};
        // each alone first: the tokens to expect (the second one in the first one's cache, taken
        // again from the pool with its stale keys and values: it must not matter)
        Scheduler solo = new Scheduler(served, 4, 8, 64, new Metrics(), line -> { });
        solo.start();
        List<Integer> want1, want2;
        try {
            Call a = call(p1, 5, vocab);
            solo.submit(a.sequences);
            want1 = tokens(a);
            Call b = call(p2, 5, vocab);
            solo.submit(b.sequences);
            want2 = tokens(b);
        } finally {
            solo.stop("done");
        }

        Scheduler s = new Scheduler(served, 4, 8, 64, new Metrics(), line -> { });
        s.start();
        try {
            Call a = call(p1, 5, vocab), b = call(p2, 5, vocab);
            long t0, t1;
            try (Scheduler.Arrival second = s.arriving()) {
                t0 = System.nanoTime();
                s.submit(a.sequences);
                Thread.sleep(12); // longer than the gap between arrivals that a burst allows on its own
                t1 = System.nanoTime();
                long passes = s.profile().prefillPasses();
                // a machine too busy to wake this thread within the gathering limit proves nothing
                assumeTrue((t1 - t0) / 1e6 < 25, "the test thread slept too long");
                assertThat(passes).as("no pass while a request is on its way").isZero();
                s.submit(b.sequences);
            }
            assertThat(tokens(a)).isEqualTo(want1);
            assertThat(tokens(b)).isEqualTo(want2);
            assertThat(s.profile().prefillPasses()).isEqualTo(1);
            assertThat(s.profile().prefillTokens()).isEqualTo(p1.length + p2.length);
        } finally {
            s.stop("done");
        }
    }

    @Test
    void aBurstRightAfterALoneClientFinishedIsNotTakenForItsNextRequest() throws Exception {
        ServedModel served = TestServers.model(5);
        int vocab = served.vocabSize();
        int[] p0 = {3, 1, 4}, p1 = {11, 22, 33, 44, 55}, p2 = {7, 8, 9};
        Scheduler s = new Scheduler(served, 4, 8, 64, new Metrics(), line -> { });
        s.start();
        try {
            // one client's request runs to its end: its next request is expected
            tokens(s, call(p0, 3, vocab));
            long before = s.profile().prefillPasses();
            // then two clients at once (as bench serve going from 1 stream to 8): the first request
            // is no reason to start while the other is still being read
            Call a = call(p1, 5, vocab), b = call(p2, 5, vocab);
            long t0, t1;
            try (Scheduler.Arrival second = s.arriving()) {
                t0 = System.nanoTime();
                s.submit(a.sequences);
                Thread.sleep(12);
                t1 = System.nanoTime();
                long passes = s.profile().prefillPasses() - before;
                assumeTrue((t1 - t0) / 1e6 < 40, "the test thread slept too long");
                assertThat(passes).as("no pass while a request is on its way").isZero();
                s.submit(b.sequences);
            }
            tokens(a);
            tokens(b);
            assertThat(s.profile().prefillPasses() - before).isEqualTo(1);
        } finally {
            s.stop("done");
        }
    }

    private static void tokens(Scheduler s, Call c) throws InterruptedException {
        s.submit(c.sequences);
        assertThat(tokens(c)).hasSize(3);
    }
}
