package dev.myllm;

import dev.myllm.generate.Generator;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Generated text as an iterator of pieces ({@link Myllm#stream}): generation runs on its own thread a few
 * pieces ahead of the reader; {@link #close()} stops it early, and {@link #result()} gives the whole result at the end.
 * Read it from one thread.
 */
public final class TextStream implements Iterator<String>, AutoCloseable {
    private static final int AHEAD = 16;

    /** A piece, the end (with the result), or the failure, in the order they happened. */
    private sealed interface Item permits Piece, End, Failure {
    }

    private record Piece(String text) implements Item {
    }

    private record End(Generator.Result result) implements Item {
    }

    private record Failure(RuntimeException error) implements Item {
    }

    /** Thrown inside the generator's callback to unwind it once the reader has closed the stream. */
    private static final class Closed extends RuntimeException {
        Closed() {
            super("closed", null, false, false);
        }
    }

    private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(AHEAD);
    private final Thread worker;
    private volatile boolean closed;
    private Item next;
    private Generator.Result result;

    TextStream(Function<Consumer<String>, Generator.Result> generation) {
        worker = Thread.ofPlatform().daemon().name("myllm-generate").start(() -> {
            Item last;
            try {
                last = new End(generation.apply(piece -> put(new Piece(piece))));
            } catch (Closed c) {
                return;
            } catch (RuntimeException e) {
                last = new Failure(e);
            }
            try {
                put(last);
            } catch (Closed c) {
                // the reader left: nobody wants the end
            }
        });
    }

    private void put(Item item) {
        try {
            while (!queue.offer(item, 50, TimeUnit.MILLISECONDS)) {
                if (closed) throw new Closed();
            }
            if (closed) throw new Closed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Closed();
        }
    }

    /**
     * Whether another piece of text follows, waiting for the generation to produce it.
     *
     * @return true while pieces remain; false once the generation ended or the stream was closed
     * @throws RuntimeException     what the generation failed with (once; the stream is then closed)
     * @throws IllegalStateException when the waiting thread is interrupted
     */
    @Override
    public boolean hasNext() {
        if (next == null && result == null && !closed) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for generated text", e);
            }
            if (next instanceof End end) {
                result = end.result();
                next = null;
            } else if (next instanceof Failure f) {
                closed = true;
                next = null;
                throw f.error();
            }
        }
        return next != null;
    }

    /**
     * The next piece of text.
     *
     * @return the piece
     * @throws java.util.NoSuchElementException when no piece remains
     * @throws IllegalStateException            as {@link #hasNext()}
     */
    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException();
        String piece = ((Piece) next).text();
        next = null;
        return piece;
    }

    /**
     * The generation's result (all its text, ids and why it stopped), once every piece has been read; null before.
     *
     * @return the result, or null while pieces remain or after an early close
     */
    public Generator.Result result() {
        return result;
    }

    /** Stops the generation (if still running) and waits for its thread to end. */
    @Override
    public void close() {
        closed = true;
        queue.clear();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
