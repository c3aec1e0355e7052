package dev.myllm.data;

import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.dom.Body;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.message.BasicBodyFactory;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.jsoup.Jsoup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The readable text of one e-mail, parsed with Apache James mime4j: the Subject, then each text part
 * (transfer encodings undone, decoded with its declared charset, HTML reduced to its text by jsoup). Of a
 * {@code multipart/alternative} only one version is kept, the plain-text one when there is one.
 */
public final class MailText {
    private static final Charset WINDOWS_1252 = Charset.forName("windows-1252");

    private MailText() {
    }

    /** Subject and text parts of a raw message (an mbox {@code From } line first is skipped), joined by blank lines. */
    public static String of(byte[] raw) {
        DefaultMessageBuilder builder = new DefaultMessageBuilder();
        builder.setMimeEntityConfig(MimeConfig.PERMISSIVE);
        builder.setDecodeMonitor(DecodeMonitor.SILENT);
        builder.setBodyFactory(new BasicBodyFactory(true));
        Message m;
        try {
            m = builder.parseMessage(new ByteArrayInputStream(skipMboxLine(raw)));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse the message: " + e.getMessage(), e);
        }
        List<String> out = new ArrayList<>();
        message(m, out);
        return String.join("\n\n", out);
    }

    private static byte[] skipMboxLine(byte[] raw) {
        if (raw.length < 5 || raw[0] != 'F' || raw[1] != 'r' || raw[2] != 'o' || raw[3] != 'm' || raw[4] != ' ') return raw;
        int nl = 0;
        while (nl < raw.length && raw[nl] != '\n') nl++;
        return java.util.Arrays.copyOfRange(raw, Math.min(nl + 1, raw.length), raw.length);
    }

    private static void message(Message m, List<String> out) {
        String subject = subject(m);
        if (!subject.isEmpty()) out.add(subject);
        entity(m, out);
    }

    /** The Subject, decoded from its raw bytes (8-bit bytes are common in old mail) and its RFC 2047 encoded words. */
    static String subject(Message m) {
        Field f = m.getHeader() == null ? null : m.getHeader().getField("Subject");
        if (f == null) return "";
        String raw = decode(f.getRaw().toByteArray(), null);
        int colon = raw.indexOf(':');
        String value = raw.substring(colon + 1).replaceAll("\r?\n(?=[ \t])", "").strip();
        return DecoderUtil.decodeEncodedWords(value, DecodeMonitor.SILENT).strip();
    }

    private static void entity(Entity e, List<String> out) {
        Body body = e.getBody();
        String type = e.getMimeType() == null ? "text/plain" : e.getMimeType().toLowerCase(Locale.ROOT);
        if (body instanceof Multipart mp) {
            if (type.equals("multipart/alternative")) alternative(mp, out);
            else for (Entity part : mp.getBodyParts()) entity(part, out);
        } else if (body instanceof Message inner) {
            message(inner, out);
        } else if (body instanceof SingleBody sb && type.startsWith("text/")) {
            String text = decode(bytes(sb), e.getCharset());
            if (type.equals("text/html")) text = Jsoup.parse(text).text();
            text = text.replace("\r\n", "\n").replace('\r', '\n').strip();
            if (!text.isEmpty()) out.add(text);
        }
    }

    /** One version of the same content: the first {@code text/plain} with text, else the first part with any. */
    private static void alternative(Multipart mp, List<String> out) {
        List<String> chosen = null;
        for (Entity part : mp.getBodyParts()) {
            List<String> texts = new ArrayList<>();
            entity(part, texts);
            if (texts.isEmpty()) continue;
            if ("text/plain".equalsIgnoreCase(part.getMimeType())) {
                chosen = texts;
                break;
            }
            if (chosen == null) chosen = texts;
        }
        if (chosen != null) out.addAll(chosen);
    }

    private static byte[] bytes(SingleBody b) {
        try (InputStream in = b.getInputStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode a message part: " + e.getMessage(), e);
        }
    }

    /**
     * Text from bytes in a declared charset. Old mail often declares none, or us-ascii, or a name Java does not know,
     * while holding 8-bit bytes: those are read as UTF-8 when they are valid UTF-8, else as windows-1252.
     */
    static String decode(byte[] bytes, String declared) {
        Charset cs = charset(declared);
        if (cs != null && !cs.equals(StandardCharsets.US_ASCII)) return new String(bytes, cs);
        boolean ascii = true;
        for (byte b : bytes) if (b < 0) {
            ascii = false;
            break;
        }
        if (ascii) return new String(bytes, StandardCharsets.US_ASCII);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, WINDOWS_1252);
        }
    }

    private static Charset charset(String name) {
        if (name == null || name.isBlank()) return null;
        String n = name.strip().replace("\"", "").toLowerCase(Locale.ROOT);
        // Mail's "latin1"-family labels mean windows-1252 in practice (the WHATWG encoding rules say the same).
        if (n.equals("iso-8859-1") || n.equals("latin1") || n.equals("iso8859-1")) return WINDOWS_1252;
        try {
            return Charset.forName(n);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
