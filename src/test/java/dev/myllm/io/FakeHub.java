package dev.myllm.io;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for the Hugging Face hub: {@code /{org}/{model}/resolve/main/{file}} answers a
 * HEAD as the hub does (LFS weights: 302 to a CDN URL on another host name with {@code X-Linked-Etag}
 * and {@code X-Linked-Size}; config.json: 200 with its git blob sha1 as ETag), and the CDN serves
 * ranges. {@link #drops} makes the next weight downloads stop halfway, {@link #lie} announces a
 * wrong sha256, {@link #configFails} fails config.json's download.
 */
public final class FakeHub implements AutoCloseable {
    private final HttpServer server;
    /** The CDN: raw sockets, so that a download can really be cut off mid-body. */
    private final ServerSocket cdn;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    /** Each request as "METHOD path auth range". */
    public final List<String> requests = new CopyOnWriteArrayList<>();
    /** How many of the next CDN downloads are cut off after half the bytes. */
    public final AtomicInteger drops = new AtomicInteger();
    /** How many of the next CDN downloads send half the bytes and then nothing, keeping the connection open. */
    public final AtomicInteger stalls = new AtomicInteger();
    /** When set, the sha256 announced for weights is wrong. */
    public volatile boolean lie;
    /** When set, config.json's HEAD answers but its GET fails with HTTP 500: a download that breaks after the weights. */
    public volatile boolean configFails;

    /** Serves {@code dir}'s config.json and model.safetensors as {@code openai-community/{model}}. */
    public FakeHub(Path dir, String... models) throws IOException {
        for (String m : models) {
            for (String f : List.of(ModelDirectory.CONFIG, ModelDirectory.WEIGHTS)) {
                files.put("/openai-community/" + m + "/resolve/main/" + f, Files.readAllBytes(dir.resolve(f)));
            }
        }
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
        cdn = new ServerSocket(0, 16, InetAddress.getByName("localhost")); // the name the Location header uses
        Thread t = new Thread(this::serveCdn, "fake-cdn");
        t.setDaemon(true);
        t.start();
    }

    /** The HF_ENDPOINT to use. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(ex.getRequestMethod() + " " + path + " " + ex.getRequestHeaders().getFirst("Authorization") + " " + range);
        byte[] body = files.get(path);
        if (body == null) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
        }
        var h = ex.getResponseHeaders();
        boolean lfs = path.endsWith(ModelDirectory.WEIGHTS);
        if (lfs) {
            String sha = lie ? "0".repeat(64) : sha256(body);
            h.add("X-Linked-Etag", "\"" + sha + "\"");
            h.add("X-Linked-Size", String.valueOf(body.length));
            h.add("ETag", "\"" + sha + "\"");
            // another host name for the same server, as the real CDN is another host
            h.add("Location", "http://localhost:" + cdn.getLocalPort() + "/cdn" + path);
            ex.sendResponseHeaders(302, -1);
            ex.close();
            return;
        }
        h.add("ETag", "\"" + gitSha1(body) + "\"");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(200, -1);
            ex.close();
            return;
        }
        if (configFails) {
            ex.sendResponseHeaders(500, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    private void serveCdn() {
        while (!cdn.isClosed()) {
            try {
                Socket s = cdn.accept();
                Thread t = new Thread(() -> answer(s), "fake-cdn-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                // closed at the end of a test
            }
        }
    }

    private void answer(Socket socket) {
        try (Socket s = socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String first = in.readLine();
            if (first == null) return;
            String auth = null, range = null;
            for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                String lower = line.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("authorization:")) auth = line.substring(14).strip();
                if (lower.startsWith("range:")) range = line.substring(6).strip();
            }
            String path = first.split(" ")[1];
            requests.add(first.split(" ")[0] + " " + path + " " + auth + " " + range);
            byte[] body = files.get(path.substring(4));
            OutputStream o = s.getOutputStream();
            if (body == null) {
                o.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            int from = range == null ? 0 : Integer.parseInt(range.replaceAll("\\D+(\\d+)-.*", "$1"));
            String head = (from > 0 ? "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + from + "-" + (body.length - 1) + "/" + body.length
                    : "HTTP/1.1 200 OK") + "\r\nContent-Length: " + (body.length - from) + "\r\nConnection: close\r\n\r\n";
            o.write(head.getBytes(StandardCharsets.US_ASCII));
            boolean drop = drops.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            boolean stall = stalls.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            int to = drop || stall ? from + (body.length - from) / 2 : body.length;
            o.write(body, from, to - from);
            o.flush(); // closing the socket with fewer bytes than announced: a dropped connection
            if (stall) Thread.sleep(5000); // the connection stays open but nothing more comes
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // a client that went away, or the socket closed at the end of a test
        }
    }

    static String sha256(byte[] b) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitSha1(byte[] b) {
        try {
            var md = java.security.MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return java.util.HexFormat.of().formatHex(md.digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        try {
            cdn.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
