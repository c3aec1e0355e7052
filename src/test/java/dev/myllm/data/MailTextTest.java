package dev.myllm.data;

import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What text an e-mail gives: Subject and text parts, decoded, with one version of an alternative. */
class MailTextTest {
    private static String text(String mail, Charset cs) {
        return MailText.of(mail.getBytes(cs));
    }

    @Test
    void eightBitSubjectAndUndeclaredCharsetsFallBackToWindows1252() {
        // 0x92 is windows-1252's right single quote; the bytes are not UTF-8.
        String mail = "Subject: It\u2019s here\nContent-Type: text/plain\n\nDon\u2019t wait\n";
        assertThat(text(mail, Charset.forName("windows-1252"))).isEqualTo("It\u2019s here\n\nDon\u2019t wait");
        // Undeclared but valid UTF-8 stays UTF-8; an unknown charset name is treated as undeclared.
        assertThat(text("Subject: \u00fcber\n\n\u00fcber alles\n", StandardCharsets.UTF_8)).isEqualTo("\u00fcber\n\n\u00fcber alles");
        assertThat(text("Subject: x\nContent-Type: text/plain; charset=\"x-unknown-cs\"\n\n\u00e9t\u00e9\n", StandardCharsets.UTF_8))
                .isEqualTo("x\n\n\u00e9t\u00e9");
        // A declared charset wins: these bytes read as KOI8-R.
        byte[] koi = "Subject: hi\nContent-Type: text/plain; charset=koi8-r\n\n\u043f\u0440\u0438\u0432\u0435\u0442\n".getBytes(Charset.forName("KOI8-R"));
        assertThat(MailText.of(koi)).isEqualTo("hi\n\n\u043f\u0440\u0438\u0432\u0435\u0442");
    }

    @Test
    void mixedPartsNestedMessagesAndHtmlOnlyAlternatives() {
        String mail = "Subject: Fwd: report\n"
                + "Content-Type: multipart/mixed; boundary=\"B1\"\n\n"
                + "--B1\nContent-Type: multipart/alternative; boundary=\"B2\"\n\n"
                + "--B2\nContent-Type: text/html; charset=us-ascii\n\n<div>Only <i>HTML</i> here<script>var x=1;</script></div>\n"
                + "--B2--\n"
                + "--B1\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n"
                + "--B1\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/plain\n\nForwarded body.\n"
                + "--B1\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"notes.txt\"\n\nAttached notes.\r\nSecond line.\n"
                + "--B1--\n";
        assertThat(text(mail, StandardCharsets.US_ASCII))
                .isEqualTo("Fwd: report\n\nOnly HTML here\n\ninner\n\nForwarded body.\n\nAttached notes.\nSecond line.");
    }

    @Test
    void aMessageWithoutSubjectOrTextGivesWhatItHas() {
        assertThat(text("From: a@b\n\nJust a body.\n", StandardCharsets.US_ASCII)).isEqualTo("Just a body.");
        assertThat(text("Subject: empty\nContent-Type: application/octet-stream\n\nAAAA\n", StandardCharsets.US_ASCII)).isEqualTo("empty");
    }
}
