package dev.myllm.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The load generator's HTTP/1.1 client for one streaming POST: it reads the event stream on the
 * calling thread, straight from the socket, and hands each line to a consumer as it arrives.
 * {@code bench serve} shares the machine with the server it measures; {@code java.net.http}
 * passes every chunk through two more threads (its selector and an executor) before the reader
 * sees it, CPU taken from the server at every token.
 */
final class SseClient {
    private SseClient() {
    }

    /**
     * POSTs {@code body} (JSON) to {@code path} at 127.0.0.1:{@code port} on a new connection and
     * passes every line of a 200 response to {@code onLine} (without the line end) until the server
     * ends the response; any other status throws with the response body.
     */
    static void post(int port, String path, String body, Consumer<String> onLine) throws IOException {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setTcpNoDelay(true);
            OutputStream o = socket.getOutputStream();
            o.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                    + "Accept: text/event-stream\r\nContent-Length: " + payload.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.write(payload);
            o.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 14);
            String status = line(in);
            if (status == null || !status.startsWith("HTTP/1.")) throw new IOException("not an HTTP response: " + status);
            int code = Integer.parseInt(status.split(" ", 3)[1]);
            boolean chunked = false;
            long length = -1;
            for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
                else if (lower.startsWith("content-length:")) length = Long.parseLong(h.substring(15).strip());
            }
            Lines lines = new Lines(code == 200 ? onLine : null);
            if (chunked) {
                for (String size; (size = line(in)) != null; ) {
                    int semi = size.indexOf(';');
                    int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                    if (n == 0) break;
                    lines.add(in.readNBytes(n));
                    line(in); // the CRLF after the chunk's data
                }
            } else if (length >= 0) {
                lines.add(in.readNBytes((int) length));
            } else {
                byte[] buf = new byte[1 << 14];
                for (int n; (n = in.read(buf)) > 0; ) lines.add(java.util.Arrays.copyOf(buf, n));
            }
            lines.end();
            if (code != 200) throw new IOException("HTTP " + code + ": " + lines.all());
        }
    }

    /** One line of ASCII ending in LF (a CR before it dropped), or null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
                return sb.toString();
            }
            sb.append((char) c);
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    /** Splits the body into UTF-8 lines as its bytes come (a chunk may end inside a line). */
    private static final class Lines {
        private final Consumer<String> onLine;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        private final StringBuilder all = new StringBuilder();

        Lines(Consumer<String> onLine) {
            this.onLine = onLine;
        }

        void add(byte[] bytes) {
            int from = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] != '\n') continue;
                pending.write(bytes, from, i - from);
                emit();
                from = i + 1;
            }
            pending.write(bytes, from, bytes.length - from);
        }

        void end() {
            if (pending.size() > 0) emit();
        }

        private void emit() {
            String s = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            if (s.endsWith("\r")) s = s.substring(0, s.length() - 1);
            if (onLine != null) onLine.accept(s);
            else all.append(s).append('\n');
        }

        String all() {
            return all.toString().strip();
        }
    }
}
