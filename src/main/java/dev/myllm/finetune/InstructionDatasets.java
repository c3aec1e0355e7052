package dev.myllm.finetune;

import dev.myllm.util.Download;
import dev.myllm.util.MyllmHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The book's chapter-7 data by name, fetched once into {@code $MYLLM_HOME/datasets/NAME} and
 * checked against its sha256: {@code instructions} ({@code instruction-data.json}, 1,100 records)
 * and {@code preferences} ({@code instruction-data-with-preference.json}, the same records with
 * {@code chosen}/{@code rejected}); and {@code synthetic}, generated here.
 */
public final class InstructionDatasets {
    record UrlFile(String url, String file, String sha256, long size) {
    }

    static final String BOOK = "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch07/";
    static final Map<String, UrlFile> FILES = Map.of(
            "instructions", new UrlFile(BOOK + "01_main-chapter-code/instruction-data.json", "instruction-data.json",
                    "7e09a9af353722ca15c18bc580f093f9c39d3178335a75177319cb1e1d163944", 203_524),
            "preferences", new UrlFile(BOOK + "04_preference-tuning-with-dpo/instruction-data-with-preference.json",
                    "instruction-data-with-preference.json",
                    "305315abf14f65fa42c01a0877572f832606571c2a7d49f152ac1d758b16756e", 386_968));
    /** Records {@code --data synthetic} makes unless told otherwise. */
    public static final int SYNTHETIC_SIZE = 6000;

    private final Path home;
    private final String baseUrl;
    private final boolean progress;

    /** Data under {@code home}; {@code baseUrl} (may be null) replaces each URL's folder, for mirrors and tests. */
    public InstructionDatasets(Path home, String baseUrl, boolean progress) {
        this.home = home;
        this.baseUrl = baseUrl;
        this.progress = progress;
    }

    /** The standard cache ({@code MYLLM_HOME} or {@code ~/.cache/myllm}); {@code MYLLM_DATA_URL} overrides URLs. */
    public static InstructionDatasets standard() {
        return new InstructionDatasets(MyllmHome.dir(), System.getenv("MYLLM_DATA_URL"), true);
    }

    /** Names that can be downloaded. */
    public static List<String> names() {
        return List.of("instructions", "preferences");
    }

    public static boolean isKnown(String name) {
        return FILES.containsKey(name);
    }

    /** Downloads {@code name} unless cached and verified; returns the JSON file. */
    public Path fetch(String name) {
        UrlFile f = FILES.get(name);
        if (f == null) throw new IllegalArgumentException("unknown instruction dataset: " + name + " (known: " + String.join(", ", names()) + ")");
        String url = baseUrl == null ? f.url() : baseUrl.replaceAll("/+$", "") + "/" + f.file();
        return Download.of(url, home.resolve("datasets").resolve(name).resolve(f.file())).sha256(f.sha256()).size(f.size())
                .progress(progress).run();
    }

    /**
     * The records {@code spec} names: {@code instructions}, {@code preferences}, {@code synthetic}
     * ({@code syntheticSize} records from {@code seed}) or a JSON/JSONL file.
     */
    public List<InstructionExample> load(String spec, int syntheticSize, long seed) {
        if (spec.equals("synthetic")) return SyntheticTasks.generate(syntheticSize, seed);
        if (isKnown(spec)) return InstructionData.read(fetch(spec));
        Path file = Path.of(spec);
        // a mistyped name is no missing file: list the names too
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("no such instruction file or dataset: " + spec + " (datasets: " + String.join(", ", names()) + ", synthetic)");
        }
        return InstructionData.read(file);
    }
}
