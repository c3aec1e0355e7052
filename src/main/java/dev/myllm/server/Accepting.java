package dev.myllm.server;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One decode step's sequences picking their tokens from the step's logits and sending them, on
 * the threads that take them: each thread takes the next sequence as it comes free, not half
 * each, since a thread that a woken client preempts (each token's write wakes one) then leaves
 * its rest to the other. Reused every turn, so a turn makes no counter or lambda.
 */
final class Accepting implements dev.myllm.tensor.Parallel.RangeBody {
    private final AtomicInteger next = new AtomicInteger();
    private final boolean[] going;
    private final int eos;
    private final Sequence.Decoder decoder;
    private List<Sequence> seqs;
    private float[] logits;
    private int vocab, count;

    Accepting(int maxBatch, int eos, Sequence.Decoder decoder) {
        this.going = new boolean[maxBatch];
        this.eos = eos;
        this.decoder = decoder;
    }

    /** Sets up a step of {@code seqs}; returns the array in which entry i says whether sequence i goes on. */
    boolean[] start(List<Sequence> seqs, float[] logits, int vocab) {
        this.seqs = seqs;
        this.logits = logits;
        this.vocab = vocab;
        this.count = seqs.size();
        next.set(0);
        return going;
    }

    @Override
    public void run(int start, int end) {
        for (int i; (i = next.getAndIncrement()) < count; ) going[i] = seqs.get(i).accept(logits, i * vocab, vocab, eos, decoder);
    }
}
