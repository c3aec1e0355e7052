package dev.myllm.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

/**
 * Notices a client that hangs up while its non-streamed request is generating. Nothing is written
 * before the whole answer, so no failed write tells; instead the connection is watched for
 * input: once the request is read, the next thing a client sends on it is its end of stream
 * (HTTP clients do not pipeline POSTs). On end of stream or a connection error, {@code onHangUp} runs.
 */
final class HangUpWatch {
    private static final Throwable STOPPED = new IOException("watch stopped");
    private static final HangUpWatch NONE = new HangUpWatch(null, null);

    private final EndPoint endPoint;
    private final Runnable onHangUp;
    private volatile boolean hungUp;
    private volatile boolean pipelined;
    private volatile boolean watching;

    private HangUpWatch(EndPoint endPoint, Runnable onHangUp) {
        this.endPoint = endPoint;
        this.onHangUp = onHangUp;
    }

    /** Starts watching the request's connection (a no-op where the connection is already read by the server). */
    static HangUpWatch start(Request req, Runnable onHangUp) {
        EndPoint ep = req.getConnectionMetaData().getConnection().getEndPoint();
        HangUpWatch w = new HangUpWatch(ep, onHangUp);
        w.watching = true;
        if (!ep.tryFillInterested(w.callback())) {
            w.watching = false; // someone reads this connection already (not HTTP/1.1): its failure listener tells
            return NONE;
        }
        return w;
    }

    private Callback callback() {
        return new Callback() {
            @Override
            public void succeeded() {
                if (!watching) return;
                try {
                    ByteBuffer b = ByteBuffer.allocate(64).flip(); // empty, in Jetty's flush mode
                    int n = endPoint.fill(b);
                    if (n < 0) {
                        hangUp();
                    } else if (n > 0) {
                        // bytes of a pipelined request: they are lost, so the answer closes the connection
                        pipelined = true;
                        watching = false;
                    } else if (!endPoint.tryFillInterested(this)) {
                        watching = false;
                    }
                } catch (IOException e) {
                    hangUp();
                }
            }

            @Override
            public void failed(Throwable x) {
                if (x != STOPPED && watching) hangUp();
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }
        };
    }

    private void hangUp() {
        watching = false;
        hungUp = true;
        onHangUp.run();
    }

    /** Whether the client went away. */
    boolean hungUp() {
        return hungUp;
    }

    /** Whether the client sent more bytes (a pipelined request), which were dropped. */
    boolean pipelined() {
        return pipelined;
    }

    /** Stops watching, so that the connection can read the next request after the answer. */
    void stop() {
        if (!watching) return;
        watching = false;
        if (endPoint instanceof AbstractEndPoint a && endPoint.isFillInterested()) a.getFillInterest().onFail(STOPPED);
    }
}
