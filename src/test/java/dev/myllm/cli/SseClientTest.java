package dev.myllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The load generator's client: lines across chunk boundaries, UTF-8 split between chunks, the three body framings, errors. */
class SseClientTest {
    /** Serves one connection: reads the request, answers {@code response}; returns the request's text. */
    private static String serveOnce(ServerSocket ss, byte[] response) throws IOException {
        try (Socket s = ss.accept()) {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            int contentLength = -1;
            while (true) { // headers
                int c = in.read();
                req.write(c);
                String t = req.toString(StandardCharsets.UTF_8);
                if (t.endsWith("\r\n\r\n")) {
                    for (String h : t.split("\r\n")) if (h.startsWith("Content-Length: ")) contentLength = Integer.parseInt(h.substring(16));
                    break;
                }
            }
            req.write(in.readNBytes(contentLength));
            OutputStream o = s.getOutputStream();
            o.write(response);
            o.flush();
            return req.toString(StandardCharsets.UTF_8);
        }
    }

    private static List<String> post(byte[] response, AtomicReference<String> request) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try {
                    request.set(serveOnce(ss, response));
                } catch (IOException e) {
                    request.set("failed: " + e);
                }
            });
            t.start();
            List<String> lines = new ArrayList<>();
            try {
                SseClient.post(ss.getLocalPort(), "/v1/completions", "{\"é\":1}", lines::add);
            } finally {
                t.join(10_000);
            }
            return lines;
        }
    }

    @Test
    void chunkedLinesAreReassembledAcrossChunks() throws Exception {
        byte[] e = "é".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.writeBytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        // "data: a\n\ndata: é\n\ndata: [DONE]\n\n" cut inside a line and inside the two bytes of é
        byte[][] parts = {"data: ".getBytes(StandardCharsets.US_ASCII), ("a\n\ndata: " + (char) 0).getBytes(StandardCharsets.US_ASCII)};
        parts[1] = java.util.Arrays.copyOf(parts[1], parts[1].length - 1);
        byte[] p2 = new byte[parts[1].length + 1];
        System.arraycopy(parts[1], 0, p2, 0, parts[1].length);
        p2[parts[1].length] = e[0];
        byte[] p3 = new byte[1 + "\n\ndata: [DONE]\n\n".length()];
        p3[0] = e[1];
        System.arraycopy("\n\ndata: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII), 0, p3, 1, p3.length - 1);
        for (byte[] p : new byte[][]{parts[0], p2, p3}) {
            r.writeBytes((Integer.toHexString(p.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            r.writeBytes(p);
            r.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        r.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        AtomicReference<String> request = new AtomicReference<>();
        assertThat(post(r.toByteArray(), request)).containsExactly("data: a", "", "data: é", "", "data: [DONE]", "");
        assertThat(request.get()).startsWith("POST /v1/completions HTTP/1.1\r\n").contains("Content-Length: 8\r\n") // é is two bytes
                .endsWith("\r\n\r\n{\"é\":1}");
    }

    @Test
    void aBodyOfKnownLengthOrUntilCloseIsRead() throws Exception {
        AtomicReference<String> request = new AtomicReference<>();
        assertThat(post("HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\ndata: x\r\n\r\nzz".getBytes(StandardCharsets.US_ASCII), request))
                .containsExactly("data: x", "", "zz");
        assertThat(post("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata: y\n\n".getBytes(StandardCharsets.US_ASCII), request))
                .containsExactly("data: y", "");
    }

    @Test
    void anotherStatusThrowsWithTheBody() {
        AtomicReference<String> request = new AtomicReference<>();
        assertThatThrownBy(() -> post("HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\n{\"error\":1}".getBytes(StandardCharsets.US_ASCII), request))
                .isInstanceOf(IOException.class).hasMessage("HTTP 400: {\"error\":1}");
    }
}
