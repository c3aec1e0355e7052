package dev.myllm.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A streamed response body that any thread may add to without waiting: the scheduler thread hands
 * each token's event to it directly, instead of waking the request's thread to write it. Bytes
 * added while a write is in flight (a client reading slowly) wait in a buffer, and the write's
 * completion sends all of them at once; nothing added is ever dropped or reordered, and a client
 * that stopped reading costs only memory (bounded by the tokens its request may generate).
 *
 * <p>Before {@link #start()} bytes only accumulate: the request's thread adds the echoed prompt and
 * queues the request, and the status line is committed only once the request was accepted.
 * {@link #end} seals the stream: events the scheduler adds after it (a request that timed out while
 * a token was on its way) are dropped, so the closing bytes are the last ones.
 */
final class SseStream {
    private final Response resp;
    private final Runnable onFailure;
    private final Object lock = new Object();
    // two buffers: the one in flight, and the one taking new bytes; they swap when a write completes
    private byte[] back = new byte[2048], front = new byte[2048];
    private int backLength;
    private boolean started, inFlight, sealed, lastQueued, done;
    private Throwable failure;

    /** {@code onFailure} runs once when a write fails (the client is gone), on the thread that learns it. */
    SseStream(Response resp, Runnable onFailure) {
        this.resp = resp;
        this.onFailure = onFailure;
    }

    /** Adds bytes to the stream, writing them now unless a write is in flight; false once sealed or failed. */
    boolean send(byte[] bytes) {
        return add(bytes, false);
    }

    /** Begins writing: what was added so far goes out now, and the rest as it comes. */
    void start() {
        synchronized (lock) {
            started = true;
        }
        pump();
    }

    /** Adds the last bytes of the response and seals it; false when it had failed or was already sealed. */
    boolean end(byte[] bytes) {
        return add(bytes, true);
    }

    /** Whether a write is in flight (the connection's idle timeout then means a client that stopped reading). */
    boolean writing() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Whether a write failed (the client went away). */
    boolean failed() {
        synchronized (lock) {
            return failure != null;
        }
    }

    /** Waits until the last bytes are written; throws when a write failed. */
    void await() throws IOException, InterruptedException {
        synchronized (lock) {
            while (!done && failure == null) lock.wait();
            if (failure != null) throw failure instanceof IOException io ? io : new EofException(failure);
        }
    }

    private boolean add(byte[] bytes, boolean last) {
        synchronized (lock) {
            if (sealed || failure != null) return false;
            if (backLength + bytes.length > back.length) back = Arrays.copyOf(back, Math.max(2 * back.length, backLength + bytes.length));
            System.arraycopy(bytes, 0, back, backLength, bytes.length);
            backLength += bytes.length;
            if (last) sealed = lastQueued = true;
        }
        pump();
        return true;
    }

    /** Starts a write of everything added so far, unless one is in flight (its completion comes back here). */
    private void pump() {
        ByteBuffer buffer;
        boolean last;
        synchronized (lock) {
            if (!started || inFlight || failure != null || done || (backLength == 0 && !lastQueued)) return;
            byte[] swap = front;
            front = back;
            back = swap;
            buffer = ByteBuffer.wrap(front, 0, backLength);
            backLength = 0;
            last = lastQueued;
            inFlight = true;
        }
        resp.write(last, buffer, new Callback() {
            @Override
            public void succeeded() {
                synchronized (lock) {
                    inFlight = false;
                    if (last) {
                        done = true;
                        lock.notifyAll();
                        return;
                    }
                }
                pump(); // what came in meanwhile
            }

            @Override
            public void failed(Throwable x) {
                synchronized (lock) {
                    inFlight = false;
                    failure = x;
                    lock.notifyAll();
                }
                onFailure.run();
            }
        });
    }
}
