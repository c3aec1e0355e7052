package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

/** The stream the scheduler thread writes to never waits: bytes queue behind a write in flight and go out with its completion. */
class SseStreamTest {
    /** A response whose writes complete only when the test says so, recording what each write carried. */
    private static final class SlowClient {
        final List<String> writes = new ArrayList<>();
        final List<Boolean> lasts = new ArrayList<>();
        final List<Callback> pending = new ArrayList<>();
        final Response response = (Response) Proxy.newProxyInstance(Response.class.getClassLoader(), new Class<?>[]{Response.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("write")) throw new UnsupportedOperationException(method.getName());
                    ByteBuffer b = (ByteBuffer) args[1];
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    synchronized (this) {
                        writes.add(new String(bytes, StandardCharsets.UTF_8));
                        lasts.add((Boolean) args[0]);
                        pending.add((Callback) args[2]);
                    }
                    return null;
                });

        synchronized Callback next() {
            return pending.removeFirst();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void bytesWaitForStartThenQueueBehindTheWriteInFlight() throws Exception {
        SlowClient client = new SlowClient();
        SseStream s = new SseStream(client.response, () -> { });
        assertThat(s.send(b("echo;"))).isTrue();
        assertThat(client.writes).isEmpty();                  // not accepted yet: nothing on the wire
        s.start();
        assertThat(client.writes).containsExactly("echo;");
        assertThat(s.writing()).isTrue();
        for (int i = 0; i < 100; i++) assertThat(s.send(b("t" + i + ";"))).isTrue(); // the client reads nothing: none of these waits
        assertThat(client.writes).hasSize(1);
        client.next().succeeded();                             // the first write completes: the next carries all hundred
        assertThat(client.writes).hasSize(2);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 100; i++) all.append("t").append(i).append(';');
        assertThat(client.writes.get(1)).isEqualTo(all.toString());
        assertThat(s.end(b("[DONE]"))).isTrue();
        assertThat(s.send(b("late;"))).isFalse();             // sealed: a token after the end is dropped
        client.next().succeeded();
        assertThat(client.writes).containsExactly("echo;", all.toString(), "[DONE]");
        assertThat(client.lasts).containsExactly(false, false, true);
        client.next().succeeded();
        s.await();
        assertThat(s.writing()).isFalse();
    }

    @Test
    void aFailedWriteCancelsOnceAndRefusesMore() {
        SlowClient client = new SlowClient();
        AtomicInteger cancelled = new AtomicInteger();
        SseStream s = new SseStream(client.response, cancelled::incrementAndGet);
        s.start();
        s.send(b("a;"));
        s.send(b("b;"));
        client.next().failed(new EofException("reset"));
        assertThat(cancelled.get()).isEqualTo(1);
        assertThat(s.failed()).isTrue();
        assertThat(s.send(b("c;"))).isFalse();
        assertThat(s.end(b("[DONE]"))).isFalse();
        assertThat(client.writes).containsExactly("a;");
        assertThatThrownBy(s::await).isInstanceOf(IOException.class);
    }

    @Test
    void writesThatCompleteAtOnceKeepEveryByteInOrder() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        Response r = (Response) Proxy.newProxyInstance(Response.class.getClassLoader(), new Class<?>[]{Response.class}, (p, m, args) -> {
            ByteBuffer buf = (ByteBuffer) args[1];
            synchronized (wire) {
                while (buf.hasRemaining()) wire.write(buf.get());
            }
            ((Callback) args[2]).succeeded(); // inline, as Jetty does when the socket takes it all
            return null;
        });
        SseStream s = new SseStream(r, () -> { });
        s.start();
        Thread[] writers = new Thread[4];
        for (int w = 0; w < writers.length; w++) {
            int id = w;
            writers[w] = new Thread(() -> {
                for (int i = 0; i < 500; i++) s.send(b(id + ":" + i + ";"));
            });
            writers[w].start();
        }
        for (Thread t : writers) t.join();
        s.end(b("END"));
        s.await();
        String out = wire.toString(StandardCharsets.UTF_8);
        assertThat(out).endsWith("END");
        for (int w = 0; w < writers.length; w++) {
            int last = -1;
            for (String part : out.substring(0, out.length() - 3).split(";")) {
                if (!part.startsWith(w + ":")) continue;
                int i = Integer.parseInt(part.substring(part.indexOf(':') + 1));
                assertThat(i).isEqualTo(last + 1);
                last = i;
            }
            assertThat(last).isEqualTo(499);
        }
    }
}
