package dev.myllm.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's sequences and the events they send back. The scheduler thread puts events in
 * an unbounded queue (bounded in practice by max_tokens · n) and never waits on a client; the
 * request's own thread takes them out and writes them, as fast as its client reads. A streamed
 * request's tokens go to its {@link Sink} instead, on the scheduler thread (which writes them
 * without waiting), and only the ends and failures of its choices to the queue: no hand-off to
 * the request's thread per token.
 */
final class Call implements Sequence.Listener {
    /** A token (text may be empty), the end of a choice ({@code finish} set), or its failure ({@code error} set). */
    record Event(int index, int id, String text, Sequence.TokenLogprob logprob, String finish, String error, boolean prompt) {
        Event(int index, int id, String text, Sequence.TokenLogprob logprob, String finish, String error) {
            this(index, id, text, logprob, finish, error, false);
        }
    }

    /** Takes a streamed request's tokens and choice ends on the scheduler thread; must not block. */
    interface Sink {
        void token(int index, int id, String text, Sequence.TokenLogprob logprob);

        void finished(int index, String reason, String tail);
    }

    final Plan plan;
    private volatile Sink sink;
    final List<Sequence> sequences = new ArrayList<>();
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    Call(Plan plan, int vocab) {
        this.plan = plan;
        for (int c = 0; c < plan.choices(); c++) {
            int i = c % plan.n(); // the i-th choice of its prompt: seeded as the i-th choice of a request for that prompt alone
            Sampling s = i > 0 ? plan.sampling().withSeed(plan.sampling().seed() + i) : plan.sampling();
            sequences.add(new Sequence(c, plan.promptOf(c), s, vocab, this, plan.echo() && s.logprobs() >= 0));
        }
    }

    /** Sends tokens and choice ends to {@code k} as well (ends still come as events too); set before the sequences are queued. */
    void streamTo(Sink k) {
        sink = k;
    }

    @Override
    public void token(Sequence s, int id, String text, Sequence.TokenLogprob logprob) {
        Sink k = sink;
        if (k != null) k.token(s.index, id, text, logprob);
        else events.add(new Event(s.index, id, text, logprob, null, null));
    }

    @Override
    public void promptToken(Sequence s, int id, Sequence.TokenLogprob logprob) {
        if (sink == null) events.add(new Event(s.index, id, "", logprob, null, null, true)); // a stream shows the echo as text only
    }

    @Override
    public void finished(Sequence s, String reason, String tail) {
        Sink k = sink;
        if (k != null) k.finished(s.index, reason, tail);
        events.add(new Event(s.index, -1, tail, null, reason, null));
    }

    @Override
    public void failed(Sequence s, String message) {
        events.add(new Event(s.index, -1, "", null, null, message));
    }

    /** The next event, or null if none came within {@code millis}. */
    Event next(long millis) throws InterruptedException {
        return events.poll(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /**
     * Fails every choice with {@code message} from outside the scheduler (a shutdown whose turn
     * outlasts its wait): only the request's thread hears, at once; the sequences stay the
     * scheduler's, and what it sends them later goes nowhere (the response is over by then).
     */
    void failAll(String message) {
        for (Sequence s : sequences) failed(s, message);
    }

    void cancel() {
        for (Sequence s : sequences) s.cancel();
    }

    /**
     * Prompt tokens reused from kept KV caches: for each prompt, the most any of its choices reused (OpenAI's
     * {@code usage.prompt_tokens_details.cached_tokens}).
     */
    int cachedTokens() {
        int n = plan.n(), sum = 0;
        for (int p = 0; p * n < sequences.size(); p++) {
            int most = 0;
            for (int c = p * n; c < Math.min(sequences.size(), (p + 1) * n); c++) most = Math.max(most, sequences.get(c).cached);
            sum += most;
        }
        return sum;
    }

    int completionTokens() {
        int n = 0;
        for (Sequence s : sequences) n += s.generated;
        return n;
    }
}
