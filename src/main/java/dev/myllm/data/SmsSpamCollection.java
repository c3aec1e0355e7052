package dev.myllm.data;

import dev.myllm.util.IoErrors;
import dev.myllm.util.Download;
import dev.myllm.util.TextFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The book's SMS Spam Collection: its UCI zip (the book's backup mirror on failure), the entry
 * {@code SMSSpamCollection} checked by sha256, read as pandas' {@code read_csv(sep="\t", header=None)} reads it.
 */
final class SmsSpamCollection {
    static final List<String> URLS = List.of(
            "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",
            "https://f001.backblazeb2.com/file/LLMs-from-scratch/sms%2Bspam%2Bcollection.zip");
    static final String ENTRY = "SMSSpamCollection";
    static final String ENTRY_SHA256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d";
    static final long ENTRY_SIZE = 477_907;
    static final String ZIP = "sms+spam+collection.zip";

    private SmsSpamCollection() {
    }

    /** Downloads the zip into {@code dir} (each URL in turn until one gives the expected entry) and returns its rows. */
    static List<LabelledExample> fetch(Path dir, List<String> urls, String sha256, long size, boolean progress) {
        Path zip = dir.resolve(ZIP);
        List<String> failures = new ArrayList<>();
        for (String url : urls) {
            try {
                Download.of(url, zip).progress(progress).run();
                return parse(entry(zip, url, sha256, size), ENTRY);
            } catch (Download.DownloadException | IllegalArgumentException e) {
                failures.add(e.getMessage());
                deleteQuietly(zip);
                deleteQuietly(Download.checksumFile(zip));
            }
        }
        throw new IllegalStateException("cannot get sms-spam: " + String.join("; then ", failures));
    }

    /** The bytes of the data entry, checked against its size and sha256. */
    static byte[] entry(Path zip, String url, String sha256, long size) {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            ZipEntry e = z.getEntry(ENTRY);
            if (e == null) throw new IllegalArgumentException(url + ": the zip has no entry " + ENTRY);
            byte[] bytes;
            try (InputStream in = z.getInputStream(e)) {
                bytes = in.readAllBytes();
            }
            String got = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            if (bytes.length != size || !got.equals(sha256)) {
                throw new IllegalArgumentException("checksum mismatch for " + ENTRY + " in " + url + ": " + bytes.length + " bytes, sha256 "
                        + got + ", expected " + size + " bytes, sha256 " + sha256);
            }
            return bytes;
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(url + ": not a zip file (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + zip + ": " + IoErrors.reason(e), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code label TAB text} rows with pandas' quote rules ({@link DelimitedText}): a text that opens a quote it never
     * closes on its line runs on to the next quote, so the real file's 5,574 lines give 5,572 rows.
     */
    static List<LabelledExample> parse(byte[] bytes, String source) {
        List<LabelledExample> out = new ArrayList<>();
        for (DelimitedText.Row r : DelimitedText.parse(TextFiles.decodeUtf8Strictly(bytes, source), '\t', source)) {
            if (r.fields().size() != 2) {
                throw new IllegalArgumentException(source + " line " + r.line() + ": expected label TAB text, found " + r.fields().size() + " fields");
            }
            out.add(new LabelledExample(r.fields().get(1), r.fields().get(0)));
        }
        return out;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a stale file is re-checked next time
        }
    }
}
