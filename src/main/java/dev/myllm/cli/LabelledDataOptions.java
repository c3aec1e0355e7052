package dev.myllm.cli;

import dev.myllm.data.LabelledDatasets;
import dev.myllm.data.LabelledExample;
import dev.myllm.data.LabelledSplits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/** Where labelled examples come from: a dataset or file split the book's way, or three explicit files. */
final class LabelledDataOptions {
    @Option(names = "--data", paramLabel = "SPEC", description = "Labelled data: spam, sms-spam, or a CSV/TSV/JSONL file; balanced and split 70/10/20 as the book.")
    String data;
    @Option(names = "--train", paramLabel = "FILE", description = "Training file (with --val and --test, instead of --data).")
    Path train;
    @Option(names = "--val", paramLabel = "FILE", description = "Validation file.")
    Path val;
    @Option(names = "--test", paramLabel = "FILE", description = "Test file.")
    Path test;
    @Option(names = "--no-balance", description = "Keep every example instead of undersampling the larger classes.")
    boolean noBalance;

    /** The three splits; {@code seed} drives balancing and shuffling (the book: 123). */
    LabelledSplits splits(long seed) {
        try {
            if (data != null) {
                if (train != null || val != null || test != null) throw new CliException("give either --data or --train/--val/--test, not both");
                List<LabelledExample> all = LabelledDatasets.standard().load(data);
                if (LabelledDatasets.isKnown(data) && !Files.exists(Path.of(data))) System.err.println("data: " + LabelledDatasets.attribution(data));
                return LabelledSplits.of(all, !noBalance, seed);
            }
            if (train == null || val == null || test == null) throw new CliException("--data is required (spam, sms-spam or a labelled file), or all of --train, --val and --test");
            return LabelledSplits.ofFiles(train, val, test);
        } catch (IllegalArgumentException e) {
            throw new CliException((data != null ? "--data: " : "") + e.getMessage());
        }
    }

    /** The dataset's default padded length (256 for spam), if it has one. */
    OptionalInt defaultMaxLength() {
        return data == null ? OptionalInt.empty() : LabelledDatasets.defaultMaxLength(data);
    }

    /** The data as the command line named it, for a message about all of it. */
    String name() {
        return data != null ? "--data " + data : "--train " + train + ", --val " + val + ", --test " + test;
    }

    /** Which file to name in a message about a split. */
    String source(String split) {
        if (data != null) return "--data " + data + " (" + split + " split)";
        return switch (split) {
            case "train" -> "--train " + train;
            case "validation" -> "--val " + val;
            default -> "--test " + test;
        };
    }
}
