package dev.myllm.server;

/**
 * A streamed request's chunks, written as its tokens come (on the scheduler thread): each
 * choice's text and log-probabilities in OpenAI's chunk shape, the assistant role in a chat
 * choice's first chunk, and the text offsets of completion log-probabilities.
 */
final class ChunkWriter implements Call.Sink {
    private final Answers answers;
    private final SseStream out;
    private final boolean[] started;
    private final int[] offsets;

    ChunkWriter(Answers answers, SseStream out, int choices) {
        this.answers = answers;
        this.out = out;
        this.started = new boolean[choices];
        this.offsets = new int[choices];
    }

    /** The echoed prompt of choice {@code index}, before any of its tokens (on the request's thread, before the sequences are queued). */
    void echo(int index, String text) {
        out.send(answers.chunkEvent(index, text, -1, null, null, false, 0));
        offsets[index] = text.length();
    }

    @Override
    public void token(int index, int id, String text, Sequence.TokenLogprob logprob) {
        // a token that completed no character yet (and carries no log-probabilities) waits for the next
        if (text.isEmpty() && logprob == null) return;
        write(index, text, id, logprob, null);
    }

    @Override
    public void finished(int index, String reason, String tail) {
        write(index, tail, -1, null, reason);
    }

    private void write(int index, String text, int id, Sequence.TokenLogprob logprob, String finish) {
        out.send(answers.chunkEvent(index, text, id, logprob, finish, !started[index], offsets[index]));
        started[index] = true;
        offsets[index] += text.length();
    }
}
